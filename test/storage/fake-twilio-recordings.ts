/** Twilio's REST recording endpoints on 127.0.0.1 (media download behind Basic auth and a redirect, fetch, delete). */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeRecordingRequest {
  method: string
  path: string
  authorized: boolean
  atMs: number
}

/** PROTOCOLS §2.3: GET …/Recordings/{RE}.wav (Basic auth), GET/DELETE …/Recordings/{RE}.json. */
export class FakeTwilioRecordings {
  readonly accountSid = 'AC' + randomBytes(16).toString('hex')
  readonly authToken = randomBytes(16).toString('hex')
  readonly recordings = new Map<string, Buffer>()
  readonly requests: FakeRecordingRequest[] = []
  /** Called on DELETE before the recording is removed; a test checks the S3 copy there. */
  onDelete: ((recordingSid: string) => Promise<void> | void) | undefined
  /** Answer media downloads with this status instead. */
  mediaStatus: number | undefined
  /** Declare a longer content-length than sent (a truncated download). */
  truncate = false
  readonly #server: Server

  private constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res))
  }

  static async start(): Promise<FakeTwilioRecordings> {
    const f = new FakeTwilioRecordings()
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve))
    return f
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  addRecording(bytes: Buffer): string {
    const sid = 'RE' + randomBytes(16).toString('hex')
    this.recordings.set(sid, bytes)
    return sid
  }

  recordingUrl(sid: string): string {
    return `${this.baseUrl}/2010-04-01/Accounts/${this.accountSid}/Recordings/${sid}`
  }

  deletes(): FakeRecordingRequest[] {
    return this.requests.filter((r) => r.method === 'DELETE')
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  async #handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl)
    const expected = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')
    const authorized = req.headers.authorization === expected
    this.requests.push({ method: req.method ?? '', path: url.pathname, authorized, atMs: performance.now() })
    const signed = /^\/signed\/(RE[0-9a-f]{32})$/.exec(url.pathname)
    if (signed) {
      // The signed media URL: no auth needed, and none should be sent to it.
      const bytes = this.recordings.get(signed[1]!)
      if (!bytes) return void res.writeHead(404).end()
      const body = this.truncate ? bytes.subarray(0, bytes.length - 100) : bytes
      res.writeHead(200, {
        'content-type': 'audio/x-wav',
        'content-length': this.truncate ? bytes.length : body.length
      })
      res.write(body)
      if (this.truncate) res.destroy()
      else res.end()
      return
    }
    const m = new RegExp(`^/2010-04-01/Accounts/${this.accountSid}/Recordings/(RE[0-9a-f]{32})(\\.wav|\\.json)?$`).exec(
      url.pathname
    )
    if (!m)
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"code":20404,"message":"not found","status":404}')
    if (!authorized)
      return void res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"code":20003,"message":"Authenticate","status":401}')
    const sid = m[1]!
    const bytes = this.recordings.get(sid)
    if (!bytes)
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"code":20404,"message":"not found","status":404}')
    if (req.method === 'DELETE' && m[2] === '.json') {
      await this.onDelete?.(sid)
      this.recordings.delete(sid)
      return void res.writeHead(204).end()
    }
    if (req.method === 'GET' && m[2] === '.wav') {
      if (this.mediaStatus) return void res.writeHead(this.mediaStatus).end()
      // Media is served from a signed URL, as Twilio may do: follow the redirect.
      return void res.writeHead(302, { location: `/signed/${sid}` }).end()
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ sid, account_sid: this.accountSid, status: 'completed' }))
  }
}
