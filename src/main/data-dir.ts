/** The default data folder: settings, call log and recordings. */
import { homedir } from 'node:os'
import { join } from 'node:path'

export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  if (env.CALLBENCH_DATA_DIR) return env.CALLBENCH_DATA_DIR
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Callbench')
  if (process.platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Callbench')
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'callbench')
}
