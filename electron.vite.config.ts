// Build of the three processes: main (Electron shell + headless CLI), preload (sandboxed, CommonJS), renderer (React).
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          cli: resolve('src/main/cli.ts')
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
    build: {
      rolldownOptions: {
        input: { index: resolve('src/renderer/index.html') }
      }
    }
  }
})
