// Build of the three processes: main (Electron shell + headless CLI), preload (sandboxed, CommonJS), renderer (React).
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

/** Where `electron-vite dev` finds the core's control listener (the shell's `--control-port`, default 5051). */
const devControlUrl = `http://127.0.0.1:${process.env.CALLBENCH_CONTROL_PORT ?? 5051}`

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          cli: resolve('src/main/cli.ts'),
          // Worker thread entry (Silero VAD inference), found at out/main/silero-worker.js by vad/silero.ts.
          'silero-worker': resolve('src/main/vad/silero-worker.ts')
        }
      }
    }
  },
  preload: {
    build: {
      // A sandboxed preload can only require('electron') and a few Node built-ins, so it must be one
      // self-contained CommonJS file: bundle every dependency instead of externalizing it.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve('src/renderer'),
    // Relative asset URLs so the same build works from the control server's `/` and from a file URL.
    base: './',
    plugins: [react()],
    server: {
      proxy: {
        '/api': {
          target: devControlUrl,
          ws: true,
          changeOrigin: true,
          // The core refuses foreign Origins (DNS-rebinding guard); through this proxy the console is same-origin.
          configure: (proxy) => {
            proxy.on('proxyReq', (req) => req.removeHeader('origin'))
            proxy.on('proxyReqWs', (req) => req.removeHeader('origin'))
          }
        }
      }
    },
    build: {
      // The console also runs in ordinary browsers (`callbench serve`), not only in Electron's Chromium.
      target: 'es2022',
      minify: true,
      rolldownOptions: {
        input: { index: resolve('src/renderer/index.html') }
      }
    }
  }
})
