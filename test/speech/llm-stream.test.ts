import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChatConversation, type ChatUsage } from '../../src/main/speech/llm.js'
import { FakeOpenAiChat } from '../fakes/openai-chat.js'

/** A conversation with one user line, against `baseURL`. */
function conversation(baseURL: string, apiKey = 'test-key'): ChatConversation {
  const chat = new ChatConversation(new OpenAI({ apiKey, baseURL }), { model: 'gpt-test', instructions: 'Be brief.' })
  chat.add('user', 'What time do you open?')
  return chat
}

async function collect(chat: ChatConversation, opts: { requestId?: string; onUsage?: (u: ChatUsage) => void } = {}) {
  let text = ''
  for await (const delta of chat.stream(new AbortController().signal, opts)) text += delta
  return text
}

describe('chat stream on the wire (against the fake)', () => {
  let fake: FakeOpenAiChat
  beforeAll(async () => {
    fake = await FakeOpenAiChat.start({ reply: () => 'We open at nine, and close at six.' })
  })
  afterAll(async () => {
    await fake.stop()
  })

  it('streams the reply, names the request, and reports the usage the service sent', async () => {
    const usages: ChatUsage[] = []
    const text = await collect(conversation(fake.url), { requestId: 'call-1:reply-1', onUsage: (u) => usages.push(u) })
    expect(text).toBe('We open at nine, and close at six.')
    const req = fake.requests.at(-1)!
    expect(req.clientRequestId).toBe('call-1:reply-1')
    expect(req.stream).toBe(true)
    expect(req.body).toMatchObject({ model: 'gpt-test', stream_options: { include_usage: true } })
    expect(req.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What time do you open?' }
    ])
    expect(usages).toEqual([{ promptTokens: 10, completionTokens: req.tokensSent, estimated: false }])
  })

  it('answers pending caller text as part of the request without adding it to the history', async () => {
    const chat = conversation(fake.url)
    await collect(chat)
    chat.add('assistant', 'We open at nine.')
    for await (const _ of chat.stream(new AbortController().signal, { pendingUser: ' And on Sundays? ' })) void _
    expect(fake.requests.at(-1)!.messages.slice(1)).toEqual([
      { role: 'user', content: 'What time do you open?' },
      { role: 'assistant', content: 'We open at nine.' },
      { role: 'user', content: 'And on Sundays?' }
    ])
    expect(chat.history).toHaveLength(2)
    // After a caller line, the pending text joins it, as `add` would.
    chat.add('user', 'Hello?')
    for await (const _ of chat.stream(new AbortController().signal, { pendingUser: 'Anyone there?' })) void _
    expect(fake.requests.at(-1)!.messages.at(-1)).toEqual({ role: 'user', content: 'Hello? Anyone there?' })
    expect(chat.history.at(-1)).toEqual({ role: 'user', content: 'Hello?' })
  })

  it('maps a refused key and an unknown path to their error codes', async () => {
    await expect(collect(conversation(fake.url, 'wrong-key'))).rejects.toMatchObject({
      code: 'upstream_failed',
      retryable: false
    })
    await expect(collect(conversation(fake.url.replace(/\/v1$/, '/nope')))).rejects.toMatchObject({
      code: 'not_found'
    })
  })

  it('closes the request when aborted, and the service sees it', async () => {
    fake.tokenIntervalMs = 20
    try {
      const controller = new AbortController()
      const chat = conversation(fake.url)
      let deltas = 0
      for await (const _delta of chat.stream(controller.signal)) {
        if (++deltas === 2) controller.abort()
      }
      const req = await fake.whenAborted(fake.requests.at(-1)!)
      expect(req.completed).toBe(false)
      expect(deltas).toBe(2)
    } finally {
      fake.tokenIntervalMs = 0
    }
  })
})

describe('chat stream on the wire (edge cases from a scripted server)', () => {
  let server: Server
  let baseURL: string
  let script: (attempt: number, res: import('node:http').ServerResponse) => void
  let attempts = 0
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      req.on('end', () => script(attempts++, res))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  const event = (content: string) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`

  it('reads events split anywhere across network reads, CRLF or LF', async () => {
    attempts = 0
    script = (_n, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const wire = event('Hel').replace(/\n/g, '\r\n') + event('lo') + 'data: [DONE]\n\n'
      // Seven bytes at a time over several ticks: boundaries fall inside lines, between CR and LF, between events.
      let i = 0
      const next = () => {
        if (i >= wire.length) return res.end()
        res.write(wire.slice(i, i + 7))
        i += 7
        setImmediate(next)
      }
      next()
    }
    expect(await collect(conversation(baseURL))).toBe('Hello')
  })

  it('asks again once when the first request gets no answer (a keep-alive socket the service had closed)', async () => {
    attempts = 0
    script = (n, res) => {
      if (n === 0) {
        res.socket?.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(event('again') + 'data: [DONE]\n\n')
    }
    expect(await collect(conversation(baseURL))).toBe('again')
    expect(attempts).toBe(2)
  })

  it('fails with the stream error the service sent mid-reply', async () => {
    attempts = 0
    script = (_n, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(event('Par') + `data: ${JSON.stringify({ error: { message: 'overloaded' } })}\n\n`)
    }
    await expect(collect(conversation(baseURL))).rejects.toMatchObject({
      code: 'upstream_failed',
      message: expect.stringContaining('overloaded')
    })
  })
})
