/**
 * Listen-in wire format: `GET /api/calls/:id/listen?token=…` (WebSocket, control listener) streams what a live
 * call sounds like, one binary message per 20 ms caller frame, exactly as the recorder gets it:
 *
 * | bytes        | field                                                                         |
 * | ------------ | ----------------------------------------------------------------------------- |
 * | 0            | kind, {@link LISTEN_FRAME} (1)                                                 |
 * | 1            | flags: bit 0 ({@link LISTEN_HAS_AGENT}) set when agent audio was playing       |
 * | 2–5          | frame index, uint32 LE: caller frames the call had received, this one included |
 * | 6–7          | caller byte count `n`, uint16 LE (160 for a 20 ms Twilio frame)               |
 * | 8 … 8+n      | caller audio, μ-law 8 kHz                                                      |
 * | 8+n … end    | agent audio the caller was hearing at that moment, μ-law 8 kHz (absent = none) |
 *
 * A listener that falls behind loses whole messages (the index shows the gap), never parts of one. The socket
 * closes with 1000 when the call ends. Unauthorised: 401 before the upgrade; unknown or ended call: 404.
 */

export const LISTEN_FRAME = 1
export const LISTEN_HAS_AGENT = 1
export const LISTEN_HEADER_BYTES = 8

/** One decoded listen-in message; the audio arrays are views into the message. */
export interface ListenFrame {
  index: number
  caller: Uint8Array
  /** Empty when no agent audio was playing. */
  agent: Uint8Array
}

/** The path of a call's listen-in socket (add `?token=`). */
export function listenPath(callId: string): string {
  return `/api/calls/${encodeURIComponent(callId)}/listen`
}

/** Writes one message into a new buffer from `alloc` (Node's pooled `Buffer.allocUnsafe` on the core). */
export function encodeListenFrame(
  index: number,
  caller: Uint8Array,
  agent: Uint8Array | undefined,
  alloc: (size: number) => Uint8Array = (n) => new Uint8Array(n)
): Uint8Array {
  const agentBytes = agent?.length ?? 0
  const out = alloc(LISTEN_HEADER_BYTES + caller.length + agentBytes)
  out[0] = LISTEN_FRAME
  out[1] = agentBytes > 0 ? LISTEN_HAS_AGENT : 0
  out[2] = index & 0xff
  out[3] = (index >>> 8) & 0xff
  out[4] = (index >>> 16) & 0xff
  out[5] = (index >>> 24) & 0xff
  out[6] = caller.length & 0xff
  out[7] = (caller.length >>> 8) & 0xff
  out.set(caller, LISTEN_HEADER_BYTES)
  if (agent && agentBytes > 0) out.set(agent, LISTEN_HEADER_BYTES + caller.length)
  return out
}

/** Reads one message; undefined when it is not a listen-in frame. */
export function decodeListenFrame(data: Uint8Array): ListenFrame | undefined {
  if (data.length < LISTEN_HEADER_BYTES || data[0] !== LISTEN_FRAME) return undefined
  const index = (data[2]! | (data[3]! << 8) | (data[4]! << 16)) + data[5]! * 0x1000000
  const callerBytes = data[6]! | (data[7]! << 8)
  const agentStart = LISTEN_HEADER_BYTES + callerBytes
  if (agentStart > data.length) return undefined
  const hasAgent = (data[1]! & LISTEN_HAS_AGENT) !== 0
  return {
    index,
    caller: data.subarray(LISTEN_HEADER_BYTES, agentStart),
    agent: hasAgent ? data.subarray(agentStart) : data.subarray(data.length)
  }
}
