// Lint: typescript-eslint recommended, plus the room boundaries (only the shell and the preload see Electron;
// the console never imports main-process code).
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'

const electronBan = {
  name: 'electron',
  message: 'Only src/main/index.ts and src/preload/** may import electron: the core runs under plain Node too.'
}
const mainBan = {
  regex: '(^|/)main/',
  message: 'The console talks to the core only through the control API (src/shared contract), never main-process code.'
}
const nodeBan = { regex: '^node:', message: 'The console runs in a browser: no Node built-ins.' }

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'fetch',
    'AbortController',
    'AbortSignal',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'queueMicrotask',
    'structuredClone',
    'TextEncoder',
    'TextDecoder',
    'WebSocket',
    'performance'
  ].map((name) => [name, 'readonly'])
)

export default defineConfig(
  {
    ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'bench/results/**', 'resources/**', '.ci/**']
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `let x` read by a closure before its one assignment (a listener that refers to itself) is fine.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-restricted-imports': ['error', { paths: [electronBan] }]
    }
  },
  {
    files: ['src/main/index.ts', 'src/preload/**'],
    rules: { 'no-restricted-imports': 'off' }
  },
  {
    files: ['src/preload/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [mainBan] }] }
  },
  {
    files: ['src/renderer/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronBan], patterns: [mainBan, nodeBan] }] }
  }
)
