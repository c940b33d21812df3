#!/usr/bin/env node
// Runs a Node script under Node 24 (what Electron 45 embeds): directly when this Node is 24+,
// otherwise through `npx -y -p node@24`, so every npm script works on a machine whose node is older.
import { spawn } from 'node:child_process'

const [script, ...args] = process.argv.slice(2)
if (!script) {
  console.error('usage: node scripts/node24.mjs <script> [args…]')
  process.exit(2)
}
const major = Number(process.versions.node.split('.')[0])
const [cmd, cmdArgs] =
  major >= 24
    ? [process.execPath, [script, ...args]]
    : ['npx', ['-y', '-p', 'node@24', '--', 'node', script, ...args]]
const child = spawn(cmd, cmdArgs, { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
