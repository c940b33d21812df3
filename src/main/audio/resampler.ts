/** The resampler lives in src/shared/dsp so the console's worklets use the same one. */
export * from '../../shared/dsp/resampler.js'
