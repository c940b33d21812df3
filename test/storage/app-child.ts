/** Starts the app in its own process on a data folder (for tests that kill it): prints `{"controlPort":N}` once up. */
import { startTestApp } from '../support/app.js'

const dataDir = process.argv[2]
if (!dataDir) throw new Error('usage: app-child.ts <dataDir>')
const { app, stop } = await startTestApp({ dataDir })
process.stdout.write(JSON.stringify({ controlPort: app.controlListener.port }) + '\n')
process.on('SIGTERM', () => void stop().then(() => process.exit(0)))
