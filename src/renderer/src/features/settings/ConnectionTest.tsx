// "Test connection" for one service: asks the core to check the saved keys and settings, shows the answer inline.
import { useState } from 'react'
import type { ServiceTestResult, TestableService } from '../../../../shared/service-test.js'
import { useConsole } from '../../console-context.js'

type State = { kind: 'testing' } | { kind: 'done'; result: ServiceTestResult } | { kind: 'error'; message: string }

export function ConnectionTest({
  service,
  label,
  onResult
}: {
  service: TestableService
  label: string
  /** Called with each answer (e.g. to refresh what depends on the service). */
  onResult?: (result: ServiceTestResult) => void
}) {
  const { api } = useConsole()
  const [state, setState] = useState<State | null>(null)
  const run = async () => {
    if (state?.kind === 'testing') return
    setState({ kind: 'testing' })
    try {
      const result = await api.testService(service)
      setState({ kind: 'done', result })
      onResult?.(result)
    } catch (err) {
      setState({ kind: 'error', message: err instanceof Error ? err.message : 'The test could not run' })
    }
  }
  const failed = (state?.kind === 'done' && !state.result.ok) || state?.kind === 'error'
  return (
    <div className="connection-test" data-testid={`test-${service}`}>
      <button
        type="button"
        onClick={() => void run()}
        aria-busy={state?.kind === 'testing'}
        aria-label={`Test ${label} connection`}
        title="Checks the saved keys and settings against the service"
      >
        {state?.kind === 'testing' ? 'Testing…' : 'Test connection'}
      </button>
      {state && state.kind !== 'testing' && (
        <div
          className={`connection-result ${failed ? 'connection-failed' : 'connection-ok'}`}
          role={failed ? 'alert' : 'status'}
        >
          <span aria-hidden="true">{failed ? '✕' : '✓'}</span>{' '}
          <span data-testid={`test-${service}-message`}>
            {state.kind === 'done' ? state.result.message : state.message}
          </span>
          {state.kind === 'done' && state.result.detail && (
            <span className="connection-detail muted">{state.result.detail}</span>
          )}
        </div>
      )}
    </div>
  )
}
