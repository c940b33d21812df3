// Sandboxed preload: exposes only the control URL, the token and named desktop helpers as `window.callbench`.
import { contextBridge, ipcRenderer } from 'electron'
import { BRIDGE_ARGS, DESKTOP_CHANNELS, type CallbenchBridge } from '../shared/bridge.js'

function argValue(prefix: string): string {
  const arg = process.argv.find((a) => a.startsWith(prefix))
  return arg === undefined ? '' : arg.slice(prefix.length)
}

const bridge: CallbenchBridge = {
  controlUrl: argValue(BRIDGE_ARGS.controlUrl),
  token: argValue(BRIDGE_ARGS.token),
  desktop: {
    chooseFolder: async () => {
      const result: unknown = await ipcRenderer.invoke(DESKTOP_CHANNELS.chooseFolder)
      return typeof result === 'string' ? result : null
    }
  }
}

contextBridge.exposeInMainWorld('callbench', bridge)
