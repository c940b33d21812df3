#!/usr/bin/env node
// `npm run test:e2e`: builds when the sources are newer than out/, then runs the Playwright specs in e2e/ with vitest.
// `--build` forces a build, `--no-build` skips it; other arguments go to vitest (e.g. a spec file name).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const argv = process.argv.slice(2)
const forceBuild = argv.includes('--build')
const skipBuild = argv.includes('--no-build')
const vitestArgs = argv.filter((a) => a !== '--build' && a !== '--no-build')

if (!existsSync(chromiumPath)) {
  console.error(`Chromium not found at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`)
  process.exit(1)
}

const OUTPUTS = ['out/main/cli.js', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']
const INPUTS = ['src', 'electron.vite.config.ts', 'package.json', 'package-lock.json']

function newestMtimeMs(path) {
  const info = statSync(path, { throwIfNoEntry: false })
  if (!info) return 0
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)))
  return newest
}

function needsBuild() {
  const outputs = OUTPUTS.map((p) => statSync(join(root, p), { throwIfNoEntry: false }))
  if (outputs.some((s) => !s)) return true
  const oldestOutput = Math.min(...outputs.map((s) => s.mtimeMs))
  return Math.max(...INPUTS.map((p) => newestMtimeMs(join(root, p)))) > oldestOutput
}

if (!skipBuild && (forceBuild || needsBuild())) {
  console.log('e2e: building (electron-vite build)')
  const build = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit'
  })
  if (build.status !== 0) process.exit(build.status ?? 1)
}

const child = spawn(
  process.execPath,
  [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.e2e.config.ts', ...vitestArgs],
  { cwd: root, stdio: 'inherit', env: { ...process.env, CHROMIUM_PATH: chromiumPath } }
)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
