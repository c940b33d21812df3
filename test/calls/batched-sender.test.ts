import { describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { batchedSender } from '../../src/main/calls/registry.js'

function fakes(open = true) {
  const log: string[] = []
  let depth = 0
  const socket = {
    cork: () => {
      depth++
      log.push('cork')
    },
    uncork: () => {
      depth--
      log.push('uncork')
    }
  }
  const ws = { OPEN: 1, readyState: open ? 1 : 3, send: (text: string) => log.push(`send ${text} corked=${depth > 0}`) }
  return { log, socket, ws: ws as unknown as WebSocket }
}

describe('batchedSender', () => {
  it('sends every message of one turn while the socket is corked, and uncorks once on the next tick', async () => {
    const { log, socket, ws } = fakes()
    const send = batchedSender(ws, socket)
    send('a')
    send('b')
    send('c')
    expect(log).toEqual(['cork', 'send a corked=true', 'send b corked=true', 'send c corked=true'])
    await new Promise<void>((resolve) => process.nextTick(resolve))
    expect(log.at(-1)).toBe('uncork')
    send('d')
    await new Promise<void>((resolve) => process.nextTick(resolve))
    expect(log.slice(-3)).toEqual(['cork', 'send d corked=true', 'uncork'])
    expect(log.filter((l) => l === 'cork').length).toBe(log.filter((l) => l === 'uncork').length)
  })

  it('drops messages once the socket is no longer open, without corking it', () => {
    const { log, socket, ws } = fakes(false)
    batchedSender(ws, socket)('late')
    expect(log).toEqual([])
  })
})
