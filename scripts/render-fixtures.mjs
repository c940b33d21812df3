// Renders the fixed prompts and the speech test fixtures with espeak-ng + sox (dev time only; the outputs are committed).
//
// espeak-ng and sox are GPL tools: this script runs them on a developer's machine and nothing it calls ships
// in the app. Run it with `npm run fixtures` after changing a text below; commit the files it writes.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const promptsDir = join(root, 'resources/prompts')
const speechDir = join(root, 'test/fixtures/speech')

const SAMPLE_RATE_HZ = 8000
const BYTES_PER_MS = SAMPLE_RATE_HZ / 1000

const PROMPTS = [
  {
    file: 'echo-greeting.ulaw',
    voice: 'en-us+f3',
    wordsPerMinute: 165,
    text: 'Echo test. Say something and I will say it back.'
  },
  {
    file: 'apology.ulaw',
    voice: 'en-us+f3',
    wordsPerMinute: 165,
    text: 'Sorry, the agent is having trouble right now. Please try again later.'
  }
]

// Silence around each utterance: enough lead-in for pre-speech padding and enough tail for an end of turn.
const LEAD_SILENCE_MS = 500
const TAIL_SILENCE_MS = 1000
// Faint line noise so the files look like a phone line, not digital zero (about -68 dBFS RMS).
const NOISE_VOLUME = 0.0015

const UTTERANCES = [
  { file: 'what-time.ulaw', voice: 'en-us', wordsPerMinute: 120, text: 'What time is it?' },
  { file: 'book-table.ulaw', voice: 'en-gb+f2', wordsPerMinute: 170, text: 'I would like to book a table for two.' },
  { file: 'hear-me.ulaw', voice: 'en-us+m3', wordsPerMinute: 120, text: 'Can you hear me?' },
  { file: 'stop-wait.ulaw', voice: 'en-gb-scotland+f4', wordsPerMinute: 150, text: 'Stop, wait a moment.' },
  {
    file: 'order-status.ulaw',
    voice: 'en-029+m2',
    wordsPerMinute: 165,
    text: 'I am calling about my order from last week.'
  }
]

// Onset/offset measurement: 10 ms frames whose RMS exceeds this level count as speech.
const MEASURE_FRAME_MS = 10
const MEASURE_THRESHOLD_DBFS = -50

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

// -R: repeatable mode (fixed seed for dither and noise), so re-rendering gives the same bytes.
function sox(args) {
  run('sox', ['-R', ...args])
}

function requireTool(cmd, versionArg) {
  try {
    execFileSync(cmd, [versionArg], { stdio: 'ignore' })
  } catch {
    console.error(`render-fixtures: '${cmd}' is required (Debian: apt-get install espeak-ng sox)`)
    process.exit(1)
  }
}

/** Speaks `text` into a trimmed, normalised 8 kHz mono WAV. */
function speak(work, name, { voice, wordsPerMinute, text }) {
  const rawWav = join(work, `${name}-espeak.wav`)
  const cleanWav = join(work, `${name}-8k.wav`)
  run('espeak-ng', ['-v', voice, '-s', String(wordsPerMinute), '-w', rawWav, text])
  // Trim espeak's own leading/trailing silence so the padding added later is the only silence.
  sox([
    rawWav,
    '-r',
    String(SAMPLE_RATE_HZ),
    '-c',
    '1',
    '-b',
    '16',
    cleanWav,
    'silence',
    '1',
    '0.005',
    '0.5%',
    'reverse',
    'silence',
    '1',
    '0.005',
    '0.5%',
    'reverse',
    'highpass',
    '100',
    'lowpass',
    '3400',
    'norm',
    '-3',
    'rate',
    '-v',
    String(SAMPLE_RATE_HZ)
  ])
  return cleanWav
}

function toUlaw(inputWav, outFile, extraEffects = []) {
  sox([
    inputWav,
    '-e',
    'mu-law',
    '-b',
    '8',
    '-c',
    '1',
    '-r',
    String(SAMPLE_RATE_HZ),
    '-t',
    'raw',
    outFile,
    ...extraEffects
  ])
}

// G.711 μ-law decode (the script stays free of src/ imports so it runs without a build).
function ulawToLinear(byte) {
  const u = ~byte & 0xff
  const exponent = (u >> 4) & 0x07
  const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent
  return u & 0x80 ? 0x84 - magnitude : magnitude - 0x84
}

function measureSpeech(ulaw) {
  const frameBytes = MEASURE_FRAME_MS * BYTES_PER_MS
  let onsetMs = -1
  let offsetMs = -1
  for (let start = 0; start + frameBytes <= ulaw.length; start += frameBytes) {
    let sumSquares = 0
    for (let i = start; i < start + frameBytes; i++) {
      const s = ulawToLinear(ulaw[i]) / 32768
      sumSquares += s * s
    }
    const dbfs = 10 * Math.log10(sumSquares / frameBytes + 1e-12)
    if (dbfs > MEASURE_THRESHOLD_DBFS) {
      if (onsetMs < 0) onsetMs = start / BYTES_PER_MS
      offsetMs = (start + frameBytes) / BYTES_PER_MS
    }
  }
  if (onsetMs < 0) throw new Error('no speech found in a rendered fixture')
  return { onsetMs, offsetMs }
}

function soxDurationS(wav) {
  return Number(execFileSync('soxi', ['-D', wav], { encoding: 'utf8' }).trim())
}

function main() {
  requireTool('espeak-ng', '--version')
  requireTool('sox', '--version')
  mkdirSync(promptsDir, { recursive: true })
  mkdirSync(speechDir, { recursive: true })
  const work = mkdtempSync(join(tmpdir(), 'callbench-fixtures-'))
  try {
    for (const prompt of PROMPTS) {
      const wav = speak(work, prompt.file, prompt)
      // 100 ms of silence each side so the prompt does not start or end on a click.
      toUlaw(wav, join(promptsDir, prompt.file), ['pad', '0.1', '0.1'])
    }
    sox([
      '-n',
      '-e',
      'mu-law',
      '-b',
      '8',
      '-c',
      '1',
      '-r',
      String(SAMPLE_RATE_HZ),
      '-t',
      'raw',
      join(promptsDir, 'beep.ulaw'),
      'synth',
      '0.4',
      'sine',
      '1000',
      'vol',
      '0.5',
      'fade',
      'h',
      '0.005',
      '0.4',
      '0.005'
    ])

    const index = []
    for (const utterance of UTTERANCES) {
      const speech = speak(work, utterance.file, utterance)
      const padded = join(work, `${utterance.file}-padded.wav`)
      // Round the tail up so every clip is a whole number of 20 ms Twilio frames.
      const frameSamples = 20 * BYTES_PER_MS
      const speechSamples = Number(execFileSync('soxi', ['-s', speech], { encoding: 'utf8' }).trim())
      const minSamples = speechSamples + (LEAD_SILENCE_MS + TAIL_SILENCE_MS) * BYTES_PER_MS
      const tailSamples =
        Math.ceil(minSamples / frameSamples) * frameSamples - speechSamples - LEAD_SILENCE_MS * BYTES_PER_MS
      sox([speech, padded, 'pad', String(LEAD_SILENCE_MS / 1000), `${tailSamples}s`])
      const noise = join(work, `${utterance.file}-noise.wav`)
      sox([
        '-n',
        '-r',
        String(SAMPLE_RATE_HZ),
        '-c',
        '1',
        '-b',
        '16',
        noise,
        'synth',
        String(soxDurationS(padded)),
        'whitenoise',
        'vol',
        String(NOISE_VOLUME)
      ])
      const mixed = join(work, `${utterance.file}-mixed.wav`)
      sox(['-m', '-v', '1', padded, '-v', '1', noise, mixed])
      const out = join(speechDir, utterance.file)
      toUlaw(mixed, out)
      const ulaw = readFileSync(out)
      const { onsetMs, offsetMs } = measureSpeech(ulaw)
      index.push({
        file: utterance.file,
        text: utterance.text,
        voice: utterance.voice,
        durationMs: ulaw.length / BYTES_PER_MS,
        speechOnsetMs: onsetMs,
        speechOffsetMs: offsetMs
      })
    }
    writeFileSync(
      join(speechDir, 'index.json'),
      JSON.stringify(
        {
          format: { encoding: 'mulaw', sampleRateHz: SAMPLE_RATE_HZ, channels: 1, container: 'raw' },
          measuredWith: `${MEASURE_FRAME_MS} ms frames above ${MEASURE_THRESHOLD_DBFS} dBFS RMS`,
          clips: index
        },
        null,
        2
      ) + '\n'
    )
    for (const item of index)
      console.log(
        `${relative(root, join(speechDir, item.file))}  ${item.durationMs} ms  speech ${item.speechOnsetMs}-${item.speechOffsetMs} ms`
      )
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

main()
