#!/usr/bin/env node
// The one test command (`npm test`): typecheck, lint, build, unit + integration tests, then the e2e suite.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'

// Each vitest run also writes a JSON report, so the run can end on one plain `N passed, N failed` line.
const REPORT_DIR = 'test-results/reports'
const report = (name) => ['--reporter=default', '--reporter=json', `--outputFile=${REPORT_DIR}/${name}.json`]
rmSync(REPORT_DIR, { recursive: true, force: true })
mkdirSync(REPORT_DIR, { recursive: true })

const node = process.execPath
const steps = [
  ['typecheck', [node, 'node_modules/typescript/bin/tsc', '-b']],
  ['lint', [node, 'node_modules/eslint/bin/eslint.js', '.']],
  ['build', [node, 'node_modules/electron-vite/bin/electron-vite.js', 'build']],
  ['unit and integration tests', [node, 'node_modules/vitest/vitest.mjs', 'run', ...report('unit')]],
  ['e2e', [node, 'scripts/e2e.mjs', ...report('e2e')]],
  ['startup time', [node, 'scripts/startup-time.mjs']],
  // The benchmark itself must keep working: a few calls per engine against the fakes (figures are not judged here).
  ...['echo', 'openai-realtime', 'elevenlabs', 'cascade', 'hybrid'].map((mode) => [
    `bench smoke (${mode})`,
    [node, 'scripts/bench.mjs', '--quick', '--no-micro', '--mode', mode]
  ])
]
const only = process.argv.slice(2)
for (const [name, [cmd, ...args]] of steps) {
  if (only.length && !only.some((o) => name.startsWith(o))) continue
  process.stdout.write(`\n== ${name} ==\n`)
  const t0 = Date.now()
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } })
  if (r.status !== 0) {
    process.stderr.write(`\n${name} failed (exit ${r.status ?? r.signal})\n`)
    process.exit(r.status ?? 1)
  }
  process.stdout.write(`== ${name}: ok in ${((Date.now() - t0) / 1000).toFixed(1)} s ==\n`)
}

let passed = 0
let failed = 0
for (const name of ['unit', 'e2e']) {
  const file = `${REPORT_DIR}/${name}.json`
  if (!existsSync(file)) continue
  const r = JSON.parse(readFileSync(file, 'utf8'))
  passed += r.numPassedTests
  failed += r.numFailedTests
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
