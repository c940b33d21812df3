/** Listen-in: `GET /api/calls/:id/listen` (WebSocket) streams a live call's caller and agent audio (shared/listen.ts). */
import { CallbenchError } from '../../../shared/errors.js'
import { encodeListenFrame } from '../../../shared/listen.js'
import type { App } from '../../app.js'
import type { AudioListener, CallSession } from '../../calls/call-session.js'
import type { Logger } from '../../log.js'

/** A listener this far behind loses frames rather than buffering without bound (~3 s of audio at 21 kB/s). */
export const MAX_LISTEN_BUFFERED_BYTES = 64 * 1024

const allocPooled = (n: number): Uint8Array => Buffer.allocUnsafe(n)

export function registerListen(app: App): void {
  app.controlListener.ws(
    '/api/calls/:id/listen',
    (ws, _req, _url, params) => {
      const session = app.calls.get(params.id!)
      // Ended between the check and the upgrade.
      if (!session || session.state === 'ended') {
        ws.close(1000, 'call ended')
        return
      }
      listenTo(session, ws, app.log)
    },
    (_req, _url, params) => {
      const session = app.calls.get(params.id!)
      if (!session || session.state === 'ended') throw new CallbenchError('call_not_found', 'No live call with that id')
    }
  )
}

/** The parts of a ws WebSocket a listen-in needs. */
export interface ListenSocket {
  readonly OPEN: number
  readonly readyState: number
  readonly bufferedAmount: number
  send(data: Uint8Array, opts: { binary: boolean }): void
  close(code?: number, reason?: string): void
  terminate(): void
  once(event: 'close', fn: () => void): unknown
  on(event: 'error' | 'message', fn: () => void): unknown
}

/** Feeds `ws` the call's audio until either side ends. */
export function listenTo(
  session: Pick<CallSession, 'id' | 'addAudioListener' | 'removeAudioListener'>,
  ws: ListenSocket,
  appLog: Logger
): void {
  let dropped = 0
  const listener: AudioListener = {
    frame(callerFrame, agentFrame, frameIndex) {
      if (ws.readyState !== ws.OPEN) return
      if (ws.bufferedAmount > MAX_LISTEN_BUFFERED_BYTES) {
        dropped++
        return
      }
      // One pooled buffer per frame, handed to the socket: ws may still hold it after send() returns.
      ws.send(encodeListenFrame(frameIndex, callerFrame, agentFrame, allocPooled), { binary: true })
    },
    end() {
      if (ws.readyState === ws.OPEN) ws.close(1000, 'call ended')
    }
  }
  session.addAudioListener(listener)
  const log = appLog.child({ callId: session.id })
  log.info('listen-in started')
  ws.once('close', () => {
    session.removeAudioListener(listener)
    if (dropped > 0) log.info('listen-in fell behind and dropped frames', { dropped })
  })
  ws.on('error', () => ws.terminate())
  // The socket only sends; anything the console sends is ignored.
  ws.on('message', () => undefined)
}
