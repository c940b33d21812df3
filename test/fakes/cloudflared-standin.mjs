#!/usr/bin/env node
// A stand-in for the cloudflared binary: prints what a quick tunnel prints (PROTOCOLS.md §7) and proxies a local port to --url.
//
// Behaviour, chosen by environment variables:
//   CF_STANDIN_MODE       ok (default) | hang (never prints a URL) | api-error (prints the api.trycloudflare.com
//                         failure line, then exits 1) | no-register (URL printed, never registers)
//   CF_STANDIN_STATE_DIR  folder for launches.jsonl (one line per launch: pid, when the URL was printed, hostname,
//                         proxy port) so a test can see what happened and where to connect
//   CF_STANDIN_CRASH_LAUNCHES  the first N launches exit with code 1 after printing the URL, before registering
//                         (default 0). A crash of a running tunnel: kill the pid from launches.jsonl
//   CF_STANDIN_DELAY_MS   pause before printing the URL (default 20)
// SIGINT/SIGTERM: prints the shutdown lines and exits 0, as cloudflared does.
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { join } from 'node:path'

const args = process.argv.slice(2)
if (args[0] === '--version' || args[0] === 'version') {
  process.stdout.write('cloudflared version 2026.11.0 (built 2026-11-01-0000 UTC)\n')
  process.exit(0)
}

const mode = process.env.CF_STANDIN_MODE || 'ok'
const stateDir = process.env.CF_STANDIN_STATE_DIR
const crashLaunches = Number(process.env.CF_STANDIN_CRASH_LAUNCHES || 0)
const delayMs = Number(process.env.CF_STANDIN_DELAY_MS || 20)

const urlIdx = args.indexOf('--url')
if (args[0] !== 'tunnel' || urlIdx < 0 || !args.includes('--no-autoupdate') || !args.includes('--config')) {
  process.stderr.write(`${ts()} ERR standin: unexpected arguments ${JSON.stringify(args)}\n`)
  process.exit(2)
}
const configPath = args[args.indexOf('--config') + 1]
if (!configPath || !existsSync(configPath) || readFileSync(configPath, 'utf8').trim() !== '') {
  process.stderr.write(`${ts()} ERR standin: --config must name an existing empty file\n`)
  process.exit(2)
}
const target = new URL(args[urlIdx + 1])

function ts() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}
function log(level, msg) {
  process.stderr.write(`${ts()} ${level} ${msg}\n`)
}
function launches() {
  if (!stateDir) return []
  const file = join(stateDir, 'launches.jsonl')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
}
function record(entry) {
  if (stateDir) appendFileSync(join(stateDir, 'launches.jsonl'), JSON.stringify(entry) + '\n')
}

const WORDS = ['oklahoma', 'solo', 'younger', 'truck', 'maple', 'river', 'quiet', 'signal', 'amber', 'delta', 'north', 'pixel']
function hostname() {
  const pick = () => WORDS[Math.floor(Math.random() * WORDS.length)]
  return `${pick()}-${pick()}-${pick()}-${pick()}-${process.pid}`
}

// Every byte from the proxy port goes to --url unchanged: HTTP requests and WebSocket upgrades alike.
const proxy = createServer((client) => {
  const upstream = connect(Number(target.port), target.hostname)
  client.pipe(upstream).pipe(client)
  const end = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', end)
  upstream.on('error', end)
  client.on('close', end)
  upstream.on('close', end)
})

const launchNo = launches().length + 1
const shutdown = () => {
  log('INF', 'Initiating graceful shutdown due to signal terminated ...')
  log('INF', 'Tunnel server stopped')
  proxy.close()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)

log('INF', 'Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out. However, be aware that these account-less Tunnels have no uptime guarantee, are subject to the Cloudflare Online Services Terms of Use (https://www.cloudflare.com/website-terms/), and Cloudflare reserves the right to investigate your use of Tunnels for violations of such terms. If you intend to use Tunnels in production you should use a pre-created named tunnel by following: https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/do-more-with-tunnels/local-management/create-local-tunnel/')
log('INF', 'Requesting new quick Tunnel on trycloudflare.com...')

if (mode === 'hang') {
  setInterval(() => {}, 60_000)
} else if (mode === 'api-error') {
  setTimeout(() => {
    log('ERR', 'Error unmarshaling QuickTunnel response: error="invalid character \'<\' looking for beginning of value" status_code="500 Internal Server Error"')
    log('ERR', 'failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": context deadline exceeded')
    process.exit(1)
  }, delayMs)
} else {
  proxy.listen(0, '127.0.0.1', () => {
    const proxyPort = proxy.address().port
    const host = `${hostname()}.trycloudflare.com`
    setTimeout(() => {
      const line = `|  https://${host}`.padEnd(93) + '|'
      const urlPrintedAtMs = Date.now()
      // Recorded before the URL is printed: a reader that sees the URL must find its launch record.
      record({ launch: launchNo, pid: process.pid, host, proxyPort, urlPrintedAtMs })
      log('INF', '+--------------------------------------------------------------------------------------------+')
      log('INF', '|  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |')
      log('INF', line)
      log('INF', '+--------------------------------------------------------------------------------------------+')
      log('INF', `Cannot determine default configuration path. No file [config.yml config.yaml] in [~/.cloudflared ~/.cloudflare-warp ~/cloudflare-warp /etc/cloudflared /usr/local/etc/cloudflared]`)
      log('INF', `Version 2026.11.0 (Checksum 0000000000000000000000000000000000000000000000000000000000000000)`)
      log('INF', `Starting metrics server on 127.0.0.1:20241/metrics`)
      if (mode === 'no-register') return
      setTimeout(() => {
        if (launchNo <= crashLaunches) {
          log('ERR', 'Serve tunnel error error="control stream encountered a failure while serving" connIndex=0')
          process.exit(1)
        }
        log('INF', `Registered tunnel connection connIndex=0 connection=3f6c2a1e-5b7d-4c8e-9f10-112233445566 event=0 ip=198.41.200.13 location=sjc01 protocol=quic`)
      }, delayMs)
    }, delayMs)
  })
}
