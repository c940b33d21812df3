/** Headless entry: `callbench serve` runs the core under plain Node; other subcommands drive a running app. */
import './compile-cache.js'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { AGENT_MODES, isAgentMode } from '../shared/modes.js'
import { startApp, type App } from './app.js'
import { defaultDataDir } from './data-dir.js'
import { removeRuntimeFile, writeRuntimeFile } from './runtime-file.js'
import { VERSION } from './version.js'

const HELP = `callbench ${VERSION}: softphone and test console for AI phone agents

Usage:
  callbench serve [options]     run the media bridge and serve the console to a browser
  callbench call --to <E.164>   place a test call        (see: callbench call --help)
  callbench status <sid>        show a call's state
  callbench hangup <sid>        hang a call up
  callbench list [--active]     list calls

serve options:
  --public-port <n>     Twilio-facing listener port (default 5050; 0 = any free port)
  --public-host <host>  address the public listener binds (default 127.0.0.1)
  --control-port <n>    console/API listener port, always 127.0.0.1 (default 5051; 0 = any)
  --data-dir <path>     settings, call log and recordings (default ${defaultDataDir()})
  --public-url <url>    a public URL you already expose (reverse proxy, ngrok); no tunnel is started
  --no-tunnel           do not start the cloudflared tunnel
  --cloudflared <path>  the cloudflared binary to use
  --mode <engine>       default engine: ${AGENT_MODES.join(', ')} (default echo)
  --token <token>       fixed control token (scripts); default: random per launch
  --dotenv <path>       read keys from this .env file (default ./.env when present)
  -h, --help            this help

Keys come from the environment or the .env file: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER,
TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET, TWILIO_TWIML_APP_SID, OPENAI_API_KEY, OPENAI_BASE_URL,
ELEVENLABS_API_KEY, ELEVENLABS_BASE_URL, ELEVENLABS_AGENT_ID, AWS_* (incl. AWS_ENDPOINT_URL_S3), S3_BUCKET,
S3_PREFIX. With none set, the echo agent and loopback calls still work.
`

function fail(message: string, code = 2): never {
  process.stderr.write(`callbench: ${message}\n`)
  process.exit(code)
}

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name} must be a port number, got '${value}'`)
  return n
}

function rendererDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [join(here, '../renderer'), join(here, '../../out/renderer')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate
  }
  return undefined
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'public-port': { type: 'string' },
      'public-host': { type: 'string' },
      'control-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'public-url': { type: 'string' },
      'no-tunnel': { type: 'boolean' },
      cloudflared: { type: 'string' },
      mode: { type: 'string' },
      token: { type: 'string' },
      dotenv: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' }
    },
    strict: true
  })
  if (values.help) {
    process.stdout.write(HELP)
    return
  }
  if (values.mode !== undefined && !isAgentMode(values.mode)) fail(`--mode must be one of ${AGENT_MODES.join(', ')}`)
  if (values['public-url'] !== undefined) {
    try {
      const u = new URL(values['public-url'])
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error()
    } catch {
      fail('--public-url must be an http(s) URL')
    }
  }
  const envFiles = values.dotenv ?? (existsSync('.env') ? [resolve('.env')] : [])
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir())
  const renderer = rendererDir()
  let app: App
  try {
    app = await startApp({
      dataDir,
      publicPort: port(values['public-port'], '--public-port', 5050),
      controlPort: port(values['control-port'], '--control-port', 5051),
      publicHost: values['public-host'] ?? '127.0.0.1',
      tunnel: !values['no-tunnel'] && !values['public-url'],
      envFiles,
      ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
      ...(values.cloudflared ? { cloudflaredPath: values.cloudflared } : {}),
      ...(values.mode && isAgentMode(values.mode) ? { mode: values.mode } : {}),
      ...(values.token ? { token: values.token } : {}),
      ...(renderer ? { rendererDir: renderer } : {})
    })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EADDRINUSE') fail(`port ${(e as { port?: number }).port ?? ''} is in use: pass --public-port/--control-port (0 picks a free one)`, 1)
    fail(`could not start: ${e.message}`, 1)
  }
  await writeRuntimeFile(dataDir, { controlUrl: app.controlUrl, token: app.token, pid: process.pid, publicPort: app.publicListener.port })
  if (!renderer) process.stderr.write('callbench: console not built (run `npm run build`); the API still works\n')
  process.stdout.write(`Console: ${app.consoleUrl}\n`)
  process.stdout.write(`Public listener: http://127.0.0.1:${app.publicListener.port} (Twilio webhooks and media)\n`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await app.stop()
    await removeRuntimeFile(dataDir)
    process.exit(0)
  }
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return serve(rest)
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP)
      return
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`)
      return
    default: {
      const commands = await import('./cli-commands.js').catch(() => undefined)
      if (commands && command in commands.COMMANDS) {
        process.exitCode = await commands.COMMANDS[command as keyof typeof commands.COMMANDS](rest)
        return
      }
      fail(`unknown command '${command}'; see callbench --help`)
    }
  }
}

main().catch((err: unknown) => fail((err as Error).message, 1))
