// End-to-end specs: Debian's Chromium driven by playwright-core against `callbench serve` (see scripts/e2e.mjs).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['e2e/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One browser and one core at a time: the machine is shared.
    fileParallelism: false
  }
})
