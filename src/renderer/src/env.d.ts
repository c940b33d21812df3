// Globals the console sees: `window.callbench` exists only inside the Electron window.
/// <reference types="vite/client" />
import type { CallbenchBridge } from '../../shared/bridge.js'

declare global {
  interface Window {
    callbench?: CallbenchBridge
  }
}

export {}
