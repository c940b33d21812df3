#!/usr/bin/env node
// Runs the built headless entry (out/main/cli.js) under Node 24, building it first when missing.
import { existsSync } from 'node:fs'
import module from 'node:module'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'out', 'main', 'cli.js')
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  const r = spawnSync('npx', ['-y', '-p', 'node@24', '--', 'node', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}
if (!existsSync(cli)) {
  process.stderr.write('callbench: building (first run)…\n')
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
// Node's compile cache (a temp folder): every start after the first reads the bytecode of the app and its SDKs.
try {
  module.enableCompileCache?.()
} catch {
  // A read-only temp folder: compile as usual.
}
await import(cli)
