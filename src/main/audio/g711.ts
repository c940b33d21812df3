/** The G.711 codec lives in src/shared/dsp so the console's worklets use the same one. */
export * from '../../shared/dsp/g711.js'
