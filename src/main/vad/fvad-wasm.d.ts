/** Types for `@echogarden/fvad-wasm` 0.2.0 (an Emscripten build of libfvad; the package ships no typings). */
declare module '@echogarden/fvad-wasm' {
  export interface FvadModule {
    /** Returns a handle, or 0 when out of memory. */
    _fvad_new(): number
    _fvad_free(handle: number): void
    _fvad_reset(handle: number): void
    /** 0–3, more aggressive (fewer false positives) as it rises; returns 0, or -1 for a bad mode. */
    _fvad_set_mode(handle: number, mode: number): number
    /** 8000, 16000, 32000 or 48000; returns 0, or -1. */
    _fvad_set_sample_rate(handle: number, sampleRateHz: number): number
    /** 10, 20 or 30 ms of 16-bit samples at `ptr`: 1 voice, 0 no voice, -1 a bad frame length. */
    _fvad_process(handle: number, ptr: number, lengthSamples: number): number
    _malloc(bytes: number): number
    _free(ptr: number): void
    /** A view of the wasm memory; replaced when the memory grows, so read it at each use. */
    HEAP16: Int16Array
  }
  const createFvad: (moduleArg?: Record<string, unknown>) => Promise<FvadModule>
  export default createFvad
}
