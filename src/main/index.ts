// Electron shell: one window on the in-process core, keychain-backed secrets, menus and native dialogs; nothing else.
import './compile-cache.js'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  safeStorage,
  session,
  shell,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions
} from 'electron'
import { BRIDGE_ARGS, DESKTOP_CHANNELS } from '../shared/bridge.js'
import { startApp, type App } from './app.js'
import { defaultDataDir } from './data-dir.js'
import { removeRuntimeFile, writeRuntimeFile } from './runtime-file.js'
import { SafeStorageSecrets, type Encryptor } from './settings/safe-storage-secrets.js'

const PRELOAD_PATH = fileURLToPath(new URL('../preload/index.cjs', import.meta.url))
const RENDERER_DIR = fileURLToPath(new URL('../renderer', import.meta.url))

/** The same flags as `callbench serve`, so a desktop run can be pointed at other ports or another data folder. */
function readFlags() {
  const { values } = parseArgs({
    args: process.argv.slice(1),
    strict: false,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      'control-port': { type: 'string' },
      'public-port': { type: 'string' },
      'public-url': { type: 'string' },
      'no-tunnel': { type: 'boolean' }
    }
  })
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  const port = (v: unknown) => {
    if (str(v) === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`Not a port number: '${String(v)}'`)
    return n
  }
  return {
    dataDir: str(values['data-dir']),
    controlPort: port(values['control-port'] ?? process.env.CALLBENCH_CONTROL_PORT),
    publicPort: port(values['public-port']),
    publicUrl: str(values['public-url']),
    tunnel: values['no-tunnel'] === true ? false : undefined
  }
}

const safeStorageEncryptor: Encryptor = {
  isAvailable: () => safeStorage.isAsyncEncryptionAvailable(),
  encrypt: (plainText) => safeStorage.encryptStringAsync(plainText),
  decrypt: (cipherText) => safeStorage.decryptStringAsync(Buffer.from(cipherText))
}

let core: App | null = null
let mainWindow: BrowserWindow | null = null
/** Origin the console is loaded from; the only one granted the microphone and the desktop helpers. */
let consoleOrigin = ''

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return ''
  }
}

function fromConsole(event: IpcMainInvokeEvent): boolean {
  return originOf(event.senderFrame?.url ?? '') === consoleOrigin
}

function createWindow(controlUrl: string, token: string, loadUrl: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'Callbench',
    show: false,
    webPreferences: {
      preload: PRELOAD_PATH,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      additionalArguments: [BRIDGE_ARGS.controlUrl + controlUrl, BRIDGE_ARGS.token + token]
    }
  })
  win.once('ready-to-show', () => win.show())
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-navigate', (event, url) => {
    if (originOf(url) !== consoleOrigin) event.preventDefault()
  })
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null
  })
  void win.loadURL(loadUrl)
  return win
}

function buildMenu(dataDir: string, consoleUrl: string): Menu {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Data Folder', click: () => void shell.openPath(dataDir) },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' }
      ]
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' }
      ]
    },
    {
      role: 'help',
      submenu: [
        { label: 'Open Console in Browser', click: () => void shell.openExternal(consoleUrl) },
        { label: `Callbench ${app.getVersion()}`, enabled: false }
      ]
    }
  ]
  return Menu.buildFromTemplate(template)
}

async function chooseFolder(event: IpcMainInvokeEvent): Promise<string | null> {
  if (!fromConsole(event)) return null
  const owner = BrowserWindow.fromWebContents(event.sender)
  const options = { properties: ['openDirectory' as const, 'createDirectory' as const], defaultPath: core?.dataDir }
  const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options)
  return result.canceled ? null : (result.filePaths[0] ?? null)
}

async function launch(): Promise<void> {
  const flags = readFlags()
  const userData = app.getPath('userData')
  // The same data folder as `callbench serve`: one call history, and the CLI finds the desktop app through it.
  const dataDir = flags.dataDir ?? defaultDataDir()
  const secrets = await SafeStorageSecrets.open({
    path: join(userData, 'secrets.enc'),
    encryptor: safeStorageEncryptor,
    env: process.env,
    onUnavailable: () => console.warn('callbench: no OS keychain; secrets are kept for this session only')
  })
  core = await startApp({
    dataDir,
    secrets,
    rendererDir: RENDERER_DIR,
    ...(flags.controlPort !== undefined ? { controlPort: flags.controlPort } : {}),
    ...(flags.publicPort !== undefined ? { publicPort: flags.publicPort } : {}),
    ...(flags.publicUrl !== undefined ? { publicUrl: flags.publicUrl } : {}),
    ...(flags.tunnel !== undefined ? { tunnel: flags.tunnel } : {})
  })
  const started = core
  await writeRuntimeFile(dataDir, {
    controlUrl: started.controlUrl,
    token: started.token,
    pid: process.pid,
    publicPort: started.publicListener.port
  })
  started.onStop(() => removeRuntimeFile(dataDir))

  // In development the console comes from the Vite dev server, which proxies /api to the core (same origin).
  const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined
  const loadUrl = devUrl ?? `${core.controlUrl}/`
  consoleOrigin = originOf(loadUrl)
  const controlUrl = devUrl ? consoleOrigin : core.controlUrl

  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) => {
    callback(permission === 'media' && originOf(details.requestingUrl) === consoleOrigin)
  })
  session.defaultSession.setPermissionCheckHandler((_wc, permission, requestingOrigin) => {
    return permission === 'media' && originOf(requestingOrigin) === consoleOrigin
  })
  ipcMain.handle(DESKTOP_CHANNELS.chooseFolder, chooseFolder)
  Menu.setApplicationMenu(buildMenu(dataDir, core.consoleUrl))
  mainWindow = createWindow(controlUrl, core.token, loadUrl)

  app.on('activate', () => {
    if (mainWindow === null && core) mainWindow = createWindow(controlUrl, core.token, loadUrl)
  })
}

let stopping: Promise<void> | null = null

/** Stops the core before the process exits: the quit is held until listeners and calls are closed. */
function stopCoreThenQuit(event: { preventDefault(): void }): void {
  if (core === null) return
  event.preventDefault()
  stopping ??= core
    .stop()
    .catch((err: unknown) => console.error('callbench: core stop failed', err))
    .finally(() => {
      core = null
      app.quit()
    })
}

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('before-quit', stopCoreThenQuit)
  app
    .whenReady()
    .then(launch)
    .catch((err: unknown) => {
      dialog.showErrorBox('Callbench could not start', err instanceof Error ? err.message : String(err))
      app.exit(1)
    })
}
