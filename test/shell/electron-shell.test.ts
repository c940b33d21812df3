// The Electron shell with `electron` replaced (the one module the project mocks) around the real core:
// a locked-down window, control URL and token handed to the preload, secrets through safeStorage, core stopped on quit.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { HealthSchema } from '../../src/shared/api.js'
import type { CallbenchBridge } from '../../src/shared/bridge.js'

type Listener = (...args: unknown[]) => unknown

interface FakeWindow {
  options: { webPreferences: Record<string, unknown> }
  loadedUrl?: string
}

const h = vi.hoisted(() => ({
  userData: '',
  windows: [] as FakeWindow[],
  onWindow: (_w: FakeWindow) => {},
  onQuit: () => {},
  quitRequests: 0,
  app: null as null | { emit(event: string, ...args: unknown[]): boolean },
  permissionRequest: null as null | Listener,
  permissionCheck: null as null | Listener,
  ipc: new Map<string, Listener>(),
  exposed: new Map<string, unknown>(),
  menuLabels: [] as string[],
  dialogFolder: '/chosen/folder'
}))

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events')

  class FakeApp extends EventEmitter {
    isPackaged = false
    requestSingleInstanceLock = () => true
    whenReady = () => Promise.resolve()
    getPath = () => h.userData
    getVersion = () => '0.0.0-test'
    exit = () => {}
    // Like Electron: before-quit first; a handler may hold the quit with preventDefault().
    quit = () => {
      h.quitRequests++
      let prevented = false
      this.emit('before-quit', { preventDefault: () => (prevented = true) })
      if (!prevented) h.onQuit()
    }
  }
  const app = new FakeApp()
  h.app = app

  class BrowserWindow extends EventEmitter implements FakeWindow {
    loadedUrl?: string
    webContents = Object.assign(new EventEmitter(), { setWindowOpenHandler: () => {} })
    constructor(public options: FakeWindow['options']) {
      super()
      h.windows.push(this)
      h.onWindow(this)
    }
    static fromWebContents = () => h.windows[0]
    loadURL(url: string) {
      this.loadedUrl = url
      return Promise.resolve()
    }
    isMinimized = () => false
    restore = () => {}
    focus = () => {}
    show = () => {}
  }

  const b64 = (s: string) => Buffer.from('SAFE' + Buffer.from(s).toString('base64'))
  return {
    app,
    BrowserWindow,
    safeStorage: {
      isAsyncEncryptionAvailable: async () => true,
      encryptStringAsync: async (s: string) => b64(s),
      decryptStringAsync: async (b: Buffer) => ({
        result: Buffer.from(b.toString().slice(4), 'base64').toString(),
        shouldReEncrypt: false
      })
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: Listener) => (h.permissionRequest = fn),
        setPermissionCheckHandler: (fn: Listener) => (h.permissionCheck = fn)
      }
    },
    ipcMain: { handle: (channel: string, fn: Listener) => h.ipc.set(channel, fn) },
    ipcRenderer: {
      invoke: (channel: string) => h.ipc.get(channel)?.({ sender: {}, senderFrame: { url: h.windows[0]?.loadedUrl } })
    },
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => h.exposed.set(key, value) },
    Menu: {
      buildFromTemplate: (template: { label?: string; role?: string }[]) => template,
      setApplicationMenu: (template: { label?: string; role?: string }[]) =>
        (h.menuLabels = template.map((m) => m.label ?? m.role ?? ''))
    },
    dialog: {
      showOpenDialog: async () => ({ canceled: false, filePaths: [h.dialogFolder] }),
      showErrorBox: (title: string, message: string) => {
        throw new Error(`${title}: ${message}`)
      }
    },
    shell: { openExternal: async () => {}, openPath: async () => '' }
  }
})

describe('Electron shell', () => {
  let win: FakeWindow
  let controlUrl = ''
  let token = ''
  const argv = process.argv

  beforeAll(async () => {
    h.userData = await mkdtemp(join(tmpdir(), 'callbench-shell-'))
    delete process.env.ELECTRON_RENDERER_URL
    process.argv = [
      ...argv,
      '--data-dir',
      join(h.userData, 'data'),
      '--control-port',
      '0',
      '--public-port',
      '0',
      '--no-tunnel'
    ]
    const created = new Promise<FakeWindow>((resolve) => (h.onWindow = resolve))
    await import('../../src/main/index.js')
    win = await created
    const args = win.options.webPreferences.additionalArguments as string[]
    controlUrl = args.find((a) => a.startsWith('--callbench-control-url='))?.split('=')[1] ?? ''
    token = args.find((a) => a.startsWith('--callbench-token='))?.split('=')[1] ?? ''
  })

  afterAll(async () => {
    process.argv = argv
    await rm(h.userData, { recursive: true, force: true })
  })

  it('creates the window isolated and sandboxed, with the sandboxed preload', () => {
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false })
    expect(String(win.options.webPreferences.preload)).toMatch(new RegExp(`preload\\${sep}index\\.cjs$`))
    expect(h.menuLabels).toEqual(expect.arrayContaining(['File', 'editMenu', 'View', 'help']))
  })

  it('starts the core and hands its control URL and token to the preload', async () => {
    expect(controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(win.loadedUrl).toBe(`${controlUrl}/`)
    const res = await fetch(`${controlUrl}/api/health`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(HealthSchema.parse(await res.json()).activeCalls).toBe(0)
    const runtime = JSON.parse(await readFile(join(h.userData, 'data', 'runtime.json'), 'utf8'))
    expect(runtime).toMatchObject({ controlUrl, token, pid: process.pid })
  })

  it('preload exposes only the control URL, the token and the named desktop helpers', async () => {
    process.argv = [...argv, ...(win.options.webPreferences.additionalArguments as string[])]
    await import('../../src/preload/index.js')
    const bridge = h.exposed.get('callbench') as CallbenchBridge
    expect([...h.exposed.keys()]).toEqual(['callbench'])
    expect(Object.keys(bridge).sort()).toEqual(['controlUrl', 'desktop', 'token'])
    expect(Object.keys(bridge.desktop)).toEqual(['chooseFolder'])
    expect(bridge).toMatchObject({ controlUrl, token })
    expect(await bridge.desktop.chooseFolder()).toBe('/chosen/folder')
  })

  it('grants the microphone to the console origin only', () => {
    const ask = (permission: string, requestingUrl: string) =>
      new Promise<boolean>((resolve) => h.permissionRequest?.({}, permission, resolve, { requestingUrl }))
    return Promise.all([
      expect(ask('media', `${controlUrl}/`)).resolves.toBe(true),
      expect(ask('media', 'https://elsewhere.example/')).resolves.toBe(false),
      expect(ask('notifications', `${controlUrl}/`)).resolves.toBe(false),
      expect(h.permissionCheck?.({}, 'media', controlUrl)).toBe(true),
      expect(h.permissionCheck?.({}, 'media', 'http://127.0.0.1:1')).toBe(false)
    ])
  })

  it('keeps secrets set through the console encrypted by safeStorage', async () => {
    const res = await fetch(`${controlUrl}/api/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ secrets: { OPENAI_API_KEY: 'sk-shell-test-secret-value' } })
    })
    expect(res.status).toBe(200)
    const file = await readFile(join(h.userData, 'secrets.enc'), 'utf8')
    expect(file.startsWith('SAFE')).toBe(true)
    expect(file).not.toContain('sk-shell-test-secret-value')
    const health = await fetch(`${controlUrl}/api/health`, { headers: { authorization: `Bearer ${token}` } })
    expect(HealthSchema.parse(await health.json()).services.openai).toBe(true)
  })

  it('stops the core before the app quits', async () => {
    const quit = new Promise<void>((resolve) => (h.onQuit = resolve))
    h.app?.emit('window-all-closed')
    await quit
    expect(h.quitRequests).toBe(2)
    await expect(fetch(`${controlUrl}/api/health`)).rejects.toThrow()
    await expect(readFile(join(h.userData, 'data', 'runtime.json'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
