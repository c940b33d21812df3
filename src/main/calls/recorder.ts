/** What the session writes each 20 ms: the caller frame and the agent frame the caller heard at that moment. */
export interface CallRecorder {
  /** μ-law 8 kHz frames of equal length; `agent` undefined = silence. */
  write(caller: Uint8Array, agent: Uint8Array | undefined): void
  close(): Promise<void>
}

export type RecorderFactory = (callId: string) => Promise<CallRecorder | undefined>
