/** Starts the app in its own process on a data folder (for tests that kill it): prints `{"controlPort":N}` once up. */
import { startApp } from '../../src/main/app.js'

const dataDir = process.argv[2]
if (!dataDir) throw new Error('usage: app-child.ts <dataDir>')
const app = await startApp({
  dataDir,
  publicPort: 0,
  controlPort: 0,
  tunnel: false,
  token: 't',
  env: {},
  logLevel: 'silent'
})
process.stdout.write(JSON.stringify({ controlPort: app.controlListener.port }) + '\n')
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)))
