/**
 * Turns on Node's on-disk compile cache (Node ≥ 22.1) before anything heavy loads. The engines' SDKs are imported
 * on a call's first use (the ElevenLabs SDK alone took about 1 s of compiling, on the event loop every call
 * shares); with the cache, every start after the first reads their bytecode instead. Imported first by the entries.
 */
import module from 'node:module'

const enable = (module as { enableCompileCache?: () => unknown }).enableCompileCache
try {
  enable?.()
} catch {
  // A read-only temp folder: compile as usual.
}
