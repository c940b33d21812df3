/** Types for `bufferutil` 4 (the native masking `ws` uses; the package ships no typings). */
declare module 'bufferutil' {
  /** XORs `buffer` in place with the 4-byte `mask`, repeated. */
  export function unmask(buffer: Uint8Array, mask: Uint8Array): void
  /** Writes `source` XOR `mask` into `output` at `offset`, `length` bytes. */
  export function mask(source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number): void
}
