#!/usr/bin/env node
// `npm start`: builds, then runs the desktop app, or the headless console where the Electron binary is missing.
// Extra arguments go to the app: `npm start -- --no-tunnel --control-port 5061`.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)

/**
 * The Electron executable if it is installed, else null. This reads what `require('electron')` reads but never
 * calls it: when the binary is missing that call starts a download, which cannot work on an offline machine.
 */
function electronBinary() {
  let pkgDir
  try {
    pkgDir = dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'))
  } catch {
    return null
  }
  const pathFile = join(pkgDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const relative = readFileSync(pathFile, 'utf8').trim()
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(pkgDir, 'dist')
  const full = join(distDir, relative)
  return existsSync(full) ? full : null
}

function run(cmd, cmdArgs, env = process.env) {
  const child = spawn(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

const build = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
  cwd: root,
  stdio: 'inherit'
})
if (build.status !== 0) process.exit(build.status ?? 1)

const electron = electronBinary()
if (electron) {
  // A leftover ELECTRON_RUN_AS_NODE would start Electron as plain Node, without a window.
  const env = { ...process.env }
  delete env.ELECTRON_RUN_AS_NODE
  run(electron, ['.', ...args], env)
} else {
  console.log(
    'Electron binary not installed (it cannot be downloaded on this machine); running the headless console instead: callbench serve'
  )
  run(process.execPath, [join(root, 'out/main/cli.js'), 'serve', ...args])
}
