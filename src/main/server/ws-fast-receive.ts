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
 *
 * A socket whose frames go to a callback (`deliverTextFrames`) also skips the per-read allocation and the socket's
 * `Readable`: its reads land in one buffer shared by all such sockets and go straight to the shortcut.
 */
import { isUtf8 } from 'node:buffer'
import { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { unmask } from 'bufferutil'
import type { WebSocket } from 'ws'

/** Counts for tests and diagnostics. */
export interface FastReceiveStats {
  /** Frames delivered by the shortcut. */
  fast: number
  /** Chunks (or their tails) handed to `ws`'s own receiver. */
  handedOn: number
  /** Whether the socket reads into the shared buffer (see `deliverTextFrames`). */
  sharedReads: boolean
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
  /** Delivers the whole text frames at the start of chunk[0, n) if the receiver is idle; returns where it stopped. */
  take: (chunk: Buffer, n: number) => number
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
 *
 * On a plain TCP socket this also switches the socket to reading into one buffer shared by every such socket (see
 * `readIntoSharedBuffer`). So the `data` given to `onText` is only valid during the call: copy what you keep.
 */
export function deliverTextFrames(ws: WebSocket, onText: (data: Buffer) => void): boolean {
  const shortcut = installed.get(ws)
  if (!shortcut) return false
  shortcut.deliver = onText
  readIntoSharedBuffer(ws, shortcut)
  return true
}

/**
 * Every socket in shared-read mode reads into this one buffer. Reads are handled one at a time on this thread and
 * each is used up before the callback returns, so one buffer serves them all.
 */
let sharedReadBuffer: Buffer | undefined
/** libuv offers 64 KB to every read of a stream. */
const SHARED_READ_BYTES = 64 * 1024

/** `net.Socket`'s private fields for a caller-supplied read buffer (what its `onread` option sets; read on Node 24). */
interface UserBufferFields {
  buffer: symbol
  callback: symbol
  generator: symbol
}

function userBufferFields(socket: object): UserBufferFields | undefined {
  let buffer: symbol | undefined
  let callback: symbol | undefined
  let generator: symbol | undefined
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    if (sym.description === 'kBuffer') buffer = sym
    else if (sym.description === 'kBufferCb') callback = sym
    else if (sym.description === 'kBufferGen') generator = sym
  }
  if (!buffer || !callback || !generator) return undefined
  const fields = socket as Record<symbol, unknown>
  // Null on a socket made without `onread`, which is the only kind switched here.
  if (fields[buffer] !== null || fields[callback] !== null || fields[generator] !== null) return undefined
  return { buffer, callback, generator }
}

/**
 * Switches the WebSocket's TCP socket to Node's `onread` mode: the kernel's bytes land in the shared buffer and go
 * to a callback, in place of a fresh 64 KB allocation per read (shrunk, wrapped in an `ArrayBuffer` and a `Buffer`,
 * freed by the GC later) pushed through the socket's `Readable` and emitted as `'data'`. For a media stream that is
 * one read per 20 ms frame. The callback gives the shortcut every whole text frame at the start of the bytes; the
 * rest goes, copied (`ws` may hold on to it), to the socket's `'data'` listeners as before. Only a plain TCP socket
 * is switched, and only when Node's private fields look as expected; else nothing changes.
 */
function readIntoSharedBuffer(ws: WebSocket, shortcut: Shortcut): void {
  const socket = (ws as unknown as { _socket?: unknown })._socket
  if (!(socket instanceof Socket) || socket instanceof TLSSocket || socket.destroyed) return
  if (socket.readableLength === 0) {
    switchToSharedReads(socket, shortcut)
    return
  }
  // Bytes that came with the upgrade's response (an engine's first event, say) wait in the socket's buffer for
  // `ws`: switch once they have gone to it (this listener runs after `ws`'s).
  const afterHead = (): void => {
    if (socket.readableLength !== 0) return
    socket.off('data', afterHead)
    switchToSharedReads(socket, shortcut)
  }
  socket.on('data', afterHead)
}

function switchToSharedReads(socket: Socket, shortcut: Shortcut): void {
  if (socket.destroyed || socket.readableFlowing !== true) return
  const handle = (socket as unknown as { _handle?: { reading?: unknown; useUserBuffer?: unknown } })._handle
  if (!handle || handle.reading !== true || typeof handle.useUserBuffer !== 'function') return
  const fields = userBufferFields(socket)
  if (!fields) return
  const buffer = (sharedReadBuffer ??= Buffer.allocUnsafe(SHARED_READ_BYTES))
  const onRead = (n: number, buf: Buffer): void => {
    // As a flowing socket would: nothing to anyone once `ws` has stopped listening (after a close frame, say).
    if (socket.listenerCount('data') === 0) return
    const at = shortcut.take(buf, n)
    if (at < n) socket.emit('data', Buffer.copyBytesFrom(buf, at, n - at))
  }
  ;(handle.useUserBuffer as (b: Uint8Array) => void).call(handle, buffer)
  const own = socket as unknown as Record<symbol, unknown>
  own[fields.buffer] = buffer
  own[fields.callback] = onRead
  shortcut.stats.sharedReads = true
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
  const stats: FastReceiveStats = { fast: 0, handedOn: 0, sharedReads: false }
  const write = r.write.bind(r)
  // Frames from a client are masked, frames from a server are not (RFC 6455 §5.1); ws rejects the other kind.
  const maskBit = r._isServer ? 0x80 : 0
  const maskBytes = r._isServer ? 4 : 0
  const maxPayload = r._maxPayload
  const checkUtf8 = !r._skipUTF8Validation

  /** Whether the receiver is between frames, with nothing held, no fragmented message open and no close received. */
  const idle = (): boolean =>
    r._state === GET_INFO &&
    r._bufferedBytes === 0 &&
    r._fragmented === 0 &&
    !r._errored &&
    r._opcode !== CLOSE_OPCODE &&
    r.writableLength === 0

  /** Delivers the whole text frames at the start of chunk[0, n); returns where the first one it cannot take begins. */
  const take = (chunk: Buffer, n: number): number => {
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
    return at
  }

  r.write = (chunk: Buffer): boolean => {
    if (!idle()) {
      stats.handedOn++
      return write(chunk)
    }
    const n = chunk.length
    const at = take(chunk, n)
    if (at === n) return true
    stats.handedOn++
    return write(at === 0 ? chunk : chunk.subarray(at))
  }
  const shortcut: Shortcut = { stats, deliver: undefined, take: (chunk, n) => (idle() ? take(chunk, n) : 0) }
  installed.set(ws, shortcut)
  return stats
}
