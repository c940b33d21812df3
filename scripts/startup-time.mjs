#!/usr/bin/env node
// Measures how long `callbench serve` takes from spawn until /api/health answers; fails over the 2 s budget.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const BUDGET_MS = 2000
const RUNS = Number(process.argv[2] ?? 3)
const token = 'startup-time'

async function once() {
  const dataDir = mkdtempSync(join(tmpdir(), 'callbench-startup-'))
  const t0 = performance.now()
  const child = spawn(process.execPath, ['out/main/cli.js', 'serve', '--no-tunnel', '--public-port', '0', '--control-port', '0', '--data-dir', dataDir, '--token', token], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CALLBENCH_LOG: 'warn' }
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  try {
    const url = await new Promise((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        const m = out.match(/Console: (http:\/\/127\.0\.0\.1:\d+)\//)
        if (m) resolve(m[1])
      })
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)))
    })
    for (;;) {
      const res = await fetch(`${url}/api/health`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined)
      if (res?.status === 200) break
    }
    return performance.now() - t0
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const times = []
for (let i = 0; i < RUNS; i++) times.push(await once())
const worst = Math.max(...times)
console.log(`callbench serve ready (health 200) in ${times.map((t) => t.toFixed(0)).join(', ')} ms; worst ${worst.toFixed(0)} ms, budget ${BUDGET_MS} ms`)
if (worst > BUDGET_MS) {
  console.error('startup over budget')
  process.exit(1)
}
