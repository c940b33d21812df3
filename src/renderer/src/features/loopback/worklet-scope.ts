// The globals of an AudioWorkletGlobalScope, typed here so that main-thread code never sees them as globals.

export interface WorkletProcessor {
  readonly port: MessagePort
  process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean
}

interface WorkletScope {
  readonly sampleRate: number
  readonly AudioWorkletProcessor: new () => { readonly port: MessagePort }
  registerProcessor(name: string, ctor: new () => WorkletProcessor): void
}

export const scope = globalThis as unknown as WorkletScope
