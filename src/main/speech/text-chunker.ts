/** Cuts streamed LLM text into speakable pieces at sentence and clause boundaries, as the text arrives. */

export interface TextChunkerOptions {
  /** The first piece may end at a clause boundary (comma, semicolon, colon, dash) once this long. Default 16 characters. */
  firstClauseMinChars?: number
  /** Later pieces end at a clause boundary only once this long (shorter clauses ride with the sentence). Default 60. */
  clauseMinChars?: number
  /** A piece with no boundary is cut at its last space past this length. Default 200. */
  maxChars?: number
}

/** Words whose trailing full stop does not end a sentence. */
const ABBREVIATIONS = new Set(
  'mr mrs ms dr prof sr jr st vs etc e.g i.e no approx dept inc ltd co mt a.m p.m'.split(' ')
)

const SENTENCE_END = new Set(['.', '!', '?', '…', '\n'])
const CLAUSE_END = new Set([',', ';', ':', '—', '–'])
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']'])

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r'
}

function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && /\p{L}/u.test(ch)
}

/**
 * Feed it deltas with `push`, take the pieces it returns, and `flush` at the end for the rest. A boundary counts
 * only once the character after it is seen (so "3.5" and "e.g. this" stay whole), which costs at most one token;
 * the first piece's clause mark right after a word counts at once.
 */
export class TextChunker {
  readonly #firstClauseMinChars: number
  readonly #clauseMinChars: number
  readonly #maxChars: number
  #buf = ''
  /** Where the next scan for a boundary starts. */
  #scan = 0
  #pieces = 0

  constructor(opts: TextChunkerOptions = {}) {
    this.#firstClauseMinChars = opts.firstClauseMinChars ?? 16
    this.#clauseMinChars = opts.clauseMinChars ?? 60
    this.#maxChars = opts.maxChars ?? 200
  }

  /** Adds streamed text; returns the pieces it completed (often none). */
  push(delta: string): string[] {
    const out: string[] = []
    if (!delta) return out
    this.#buf += delta
    for (;;) {
      const end = this.#boundary()
      if (end < 0) break
      this.#take(end, out)
    }
    return out
  }

  /** The text not yet returned, trimmed; undefined if there is none. */
  flush(): string | undefined {
    const rest = this.#buf.trim()
    this.#buf = ''
    this.#scan = 0
    if (!rest) return undefined
    this.#pieces++
    return rest
  }

  reset(): void {
    this.#buf = ''
    this.#scan = 0
    this.#pieces = 0
  }

  /** Text held back, waiting for a boundary. */
  get pending(): string {
    return this.#buf
  }

  #take(end: number, out: string[]): void {
    const piece = this.#buf.slice(0, end).trim()
    this.#buf = this.#buf.slice(end).replace(/^\s+/, '')
    this.#scan = 0
    if (piece) {
      out.push(piece)
      this.#pieces++
    }
  }

  /** End index (exclusive) of the first complete piece in the buffer, or -1. */
  #boundary(): number {
    const buf = this.#buf
    const clauseMin = this.#pieces === 0 ? this.#firstClauseMinChars : this.#clauseMinChars
    // The last character cannot be judged until the next one arrives.
    for (let i = this.#scan; i < buf.length - 1; i++) {
      const ch = buf[i]!
      if (SENTENCE_END.has(ch)) {
        let j = i + 1
        while (j < buf.length && (CLOSERS.has(buf[j]!) || SENTENCE_END.has(buf[j]!))) j++
        if (j >= buf.length) return this.#hold(i)
        if (!isSpace(buf[j]) && ch !== '\n') continue
        if (ch === '.' && this.#isAbbreviation(i)) continue
        if (buf.slice(0, j).trim().length >= 2) return j
        continue
      }
      if (CLAUSE_END.has(ch) && isSpace(buf[i + 1]) && buf.slice(0, i + 1).trim().length >= clauseMin) return i + 1
    }
    // The first piece need not wait a token for the space after a clause mark that follows a word ("nine,"):
    // only after a digit can it be inside something ("3,000", "10:30"). Every ms here delays the first audio.
    const last = buf.length - 1
    if (
      this.#pieces === 0 &&
      last > 0 &&
      CLAUSE_END.has(buf[last]!) &&
      isLetter(buf[last - 1]) &&
      buf.trim().length >= clauseMin
    )
      return buf.length
    if (buf.length > this.#maxChars) {
      const cut = buf.lastIndexOf(' ', this.#maxChars)
      return cut > 0 ? cut : this.#maxChars
    }
    this.#scan = Math.max(0, buf.length - 1)
    return -1
  }

  #hold(i: number): number {
    this.#scan = i
    return -1
  }

  #isAbbreviation(dot: number): boolean {
    const buf = this.#buf
    let k = dot - 1
    while (k >= 0 && !isSpace(buf[k])) k--
    const word = buf
      .slice(k + 1, dot)
      .toLowerCase()
      .replace(/^["'“‘(]+/, '')
    // Initials ("J. Smith") and known abbreviations.
    return (word.length === 1 && /[a-z]/.test(word)) || ABBREVIATIONS.has(word)
  }
}
