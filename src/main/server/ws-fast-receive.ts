/**
 * A shortcut through `ws`'s receive path for the frames a media bridge gets by the thousand: whole, unfragmented,
 * uncompressed text frames. `ws` hands each socket chunk to its `Receiver`, a `Writable` stream: per frame that is
 * a stream write with its bookkeeping and a deferred callback, a copy-free but allocation-heavy walk through its
 * state machine, and two event emissions. Here the chunk is walked once, and every frame that is complete in it
 * and needs none of the receiver's state is unmasked in place, checked for UTF-8 as `ws` would, and emitted as the
 * same `'message'` event `ws` emits.
 *
 * Anything else (control frames, fragments, binary or compressed frames, a frame split across chunks, a bad mask
 * bit, invalid UTF-8, a frame over `maxPayload`) goes to the `Receiver` itself, from that byte on and with every
 * later chunk until it is idle again, so `ws` still answers pings, closes, and rejects bad input exactly as before.
 * The shortcut relies on some of `ws`'s private fields; when they do not look as expected it is not installed and
 * `ws` works alone.
 */
import { isUtf8 } from 'node:buffer'
import { unmask } from 'bufferutil'
import type { WebSocket } from 'ws'

/** Counts for tests and diagnostics. */
export interface FastReceiveStats {
  /** Frames delivered by the shortcut. */
  fast: number
  /** Chunks (or their tails) handed to `ws`'s own receiver. */
  handedOn: number
}

/** The `Receiver` fields read here (ws 8.x). */
interface ReceiverInternals {
  _state: number
  _bufferedBytes: number
  _fragmented: number
  _opcode: number
  _errored: boolean
  _isServer: boolean
  _maxPayload: number
  _skipUTF8Validation: boolean
  _allowSynchronousEvents: boolean
  readonly writableLength: number
  write(chunk: Buffer): boolean
}

interface Shortcut {
  readonly stats: FastReceiveStats
  /** Where the shortcut's frames go instead of a `'message'` event (see `deliverTextFrames`). */
  deliver: ((data: Buffer) => void) | undefined
}

const installed = new WeakMap<WebSocket, Shortcut>()

/** The shortcut's counters for `ws`, if it is installed there. */
export function fastReceiveStats(ws: WebSocket): FastReceiveStats | undefined {
  return installed.get(ws)?.stats
}

/**
 * Hands the text frames the shortcut takes straight to `onText` instead of emitting `'message'` for them (saves the
 * emit and its listener lookup, per frame). Frames `ws` delivers itself still come as `'message'` events, so listen
 * for those with the same handler. False when the shortcut is not installed on `ws` (then only the events come).
 */
export function deliverTextFrames(ws: WebSocket, onText: (data: Buffer) => void): boolean {
  const shortcut = installed.get(ws)
  if (!shortcut) return false
  shortcut.deliver = onText
  return true
}

/** The receiver's state between frames (`GET_INFO` in ws's receiver). */
const GET_INFO = 0
/** FIN set, RSV1–3 clear, opcode 1 (text). */
const WHOLE_TEXT_FRAME = 0x81
const CLOSE_OPCODE = 0x08
/** Below this, a JavaScript loop beats the native call (ws uses the same cut-off). */
const NATIVE_UNMASK_MIN = 32

function looksLikeWs8Receiver(r: unknown): r is ReceiverInternals {
  if (!r || typeof r !== 'object') return false
  const o = r as Record<string, unknown>
  return (
    typeof o._state === 'number' &&
    typeof o._bufferedBytes === 'number' &&
    typeof o._fragmented === 'number' &&
    typeof o._opcode === 'number' &&
    typeof o._errored === 'boolean' &&
    typeof o._isServer === 'boolean' &&
    typeof o._maxPayload === 'number' &&
    typeof o._skipUTF8Validation === 'boolean' &&
    o._allowSynchronousEvents === true &&
    typeof o.write === 'function'
  )
}

function unmaskAt(chunk: Buffer, maskAt: number, start: number, end: number): void {
  if (chunk[maskAt]! === 0 && chunk[maskAt + 1]! === 0 && chunk[maskAt + 2]! === 0 && chunk[maskAt + 3]! === 0) return
  if (end - start >= NATIVE_UNMASK_MIN) {
    unmask(chunk.subarray(start, end), chunk.subarray(maskAt, maskAt + 4))
    return
  }
  for (let i = start; i < end; i++) chunk[i]! ^= chunk[maskAt + ((i - start) & 3)]!
}

/**
 * Installs the shortcut on an open `ws` WebSocket (server or client side). Returns its counters, or undefined when
 * this `ws` does not look like the version it was written for (then nothing changes).
 */
export function fastTextFrames(ws: WebSocket): FastReceiveStats | undefined {
  const receiver = (ws as unknown as { _receiver?: unknown })._receiver
  if (!looksLikeWs8Receiver(receiver)) return undefined
  const existing = installed.get(ws)
  if (existing) return existing.stats
  const r = receiver
  const stats: FastReceiveStats = { fast: 0, handedOn: 0 }
  const shortcut: Shortcut = { stats, deliver: undefined }
  installed.set(ws, shortcut)
  const write = r.write.bind(r)
  // Frames from a client are masked, frames from a server are not (RFC 6455 §5.1); ws rejects the other kind.
  const maskBit = r._isServer ? 0x80 : 0
  const maskBytes = r._isServer ? 4 : 0
  const maxPayload = r._maxPayload
  const checkUtf8 = !r._skipUTF8Validation

  r.write = (chunk: Buffer): boolean => {
    // Only from a receiver between frames, with nothing held, no fragmented message open and no close received.
    if (
      r._state !== GET_INFO ||
      r._bufferedBytes !== 0 ||
      r._fragmented !== 0 ||
      r._errored ||
      r._opcode === CLOSE_OPCODE ||
      r.writableLength !== 0
    ) {
      stats.handedOn++
      return write(chunk)
    }
    const n = chunk.length
    let at = 0
    while (n - at >= 2) {
      if (chunk[at] !== WHOLE_TEXT_FRAME) break
      const b1 = chunk[at + 1]!
      if ((b1 & 0x80) !== maskBit) break
      let length = b1 & 0x7f
      let header = 2
      if (length === 126) {
        if (n - at < 4) break
        length = chunk.readUInt16BE(at + 2)
        header = 4
      } else if (length === 127) break
      if (maxPayload > 0 && length > maxPayload) break
      const maskAt = at + header
      const start = maskAt + maskBytes
      const end = start + length
      if (end > n) break
      if (maskBytes) unmaskAt(chunk, maskAt, start, end)
      const data = chunk.subarray(start, end)
      if (checkUtf8 && !isUtf8(data)) {
        // Masked again (XOR undoes itself), so ws sees the frame as sent and closes with 1007 as it would.
        if (maskBytes) unmaskAt(chunk, maskAt, start, end)
        break
      }
      at = end
      stats.fast++
      const deliver = shortcut.deliver
      if (deliver) deliver(data)
      else ws.emit('message', data, false)
    }
    if (at === n) return true
    stats.handedOn++
    return write(at === 0 ? chunk : chunk.subarray(at))
  }
  return stats
}
