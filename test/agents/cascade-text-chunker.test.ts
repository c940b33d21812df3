import { describe, expect, it } from 'vitest'
import { TextChunker } from '../../src/main/speech/text-chunker.js'
import { tokenize } from '../fakes/openai-chat.js'

/** Feeds text as a model streams it and collects the pieces, flushing at the end. */
function chunk(text: string, chunker = new TextChunker()): string[] {
  const out: string[] = []
  for (const token of tokenize(text)) out.push(...chunker.push(token))
  const rest = chunker.flush()
  if (rest) out.push(rest)
  return out
}

describe('text chunker (speakable pieces as text streams)', () => {
  it('cuts at sentence ends as soon as the next character shows the sentence is over', () => {
    const c = new TextChunker()
    expect(c.push('Hello there')).toEqual([])
    // A full stop alone is not enough: "3.5" or "e.g." would be cut wrongly.
    expect(c.push('.')).toEqual([])
    expect(c.push(' How')).toEqual(['Hello there.'])
    expect(c.push(' are you?')).toEqual([])
    expect(c.flush()).toBe('How are you?')
    expect(c.flush()).toBeUndefined()
  })

  it('lets the first piece end at a clause so speech starts early, later clauses only when long', () => {
    expect(
      chunk('Sure thing, I can book that for you, and then, if you like, I will send a confirmation by text message.')
    ).toEqual([
      'Sure thing, I can book that for you,',
      'and then, if you like, I will send a confirmation by text message.'
    ])
  })

  it('keeps numbers, abbreviations and initials inside their sentence', () => {
    expect(chunk('It costs 3.50 dollars. Dr. Smith and J. R. Jones will see you at 9 a.m. on Monday. Bye!')).toEqual([
      'It costs 3.50 dollars.',
      'Dr. Smith and J. R. Jones will see you at 9 a.m. on Monday.',
      'Bye!'
    ])
  })

  it('handles closing quotes, ellipses and newlines, and cuts an endless clause at a space', () => {
    expect(chunk('He said "stop." Then… nothing\nNext line')).toEqual([
      'He said "stop."',
      'Then…',
      'nothing',
      'Next line'
    ])
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')
    const pieces = chunk(long, new TextChunker({ maxChars: 100 }))
    expect(pieces.length).toBeGreaterThan(3)
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(100)
    expect(pieces.join(' ')).toBe(long)
  })
})
