// The only module that speaks the control API over HTTP; every response is parsed with the shared zod schemas.
import { z } from 'zod'
import {
  CallDetailSchema,
  CallListSchema,
  CallNoteResultSchema,
  EngineListSchema,
  type CallNoteInput,
  type CallNoteResult,
  SayResultSchema,
  VoiceListSchema,
  type EngineList,
  type SayRequest,
  type SayResult,
  type VoiceList,
  type VoiceSettingsPatch,
  ErrorBodySchema,
  HangupResultSchema,
  AmdOverrideResultSchema,
  type AmdOverrideResult,
  ServiceTestResultSchema,
  type ServiceTestResult,
  type TestableService,
  HealthSchema,
  PlaceCallResultSchema,
  ProfileListSchema,
  ProfileSchema,
  SettingsViewSchema,
  TranscriptDocumentSchema,
  UploadResponseSchema,
  VoiceTokenSchema,
  type CallDetail,
  type CallList,
  type CallListQuery,
  type HangupResult,
  type Health,
  type PlaceCallRequest,
  type PlaceCallResult,
  type Profile,
  type ProfileInput,
  type ProfileList,
  type SettingsUpdate,
  type SettingsView,
  type TranscriptDocument,
  type UploadResponse,
  type VoiceToken
} from '../../../shared/api.js'
import { CallSummarySchema, TurnMetricsSchema } from '../../../shared/calls.js'
import { TimelineEntrySchema, TunnelStateSchema, type TunnelState } from '../../../shared/events.js'
import type { Connection } from './connection.js'

/** A failed request: the API's own error code, or `network` / `invalid_response` from this side. */
export class ApiError extends Error {
  readonly code: string
  /** HTTP status, 0 when no response arrived. */
  readonly status: number
  /** The request field the API named as wrong, if any. */
  readonly field: string | undefined

  constructor(code: string, message: string, status: number, opts?: { cause?: unknown; field?: string | undefined }) {
    super(message, opts)
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.field = opts?.field
  }
}

/** GET /api/calls/:id/live: the registry's view of a call going on. */
export const LiveRegistryViewSchema = z.object({
  call: CallSummarySchema,
  turns: z.array(TurnMetricsSchema),
  timeline: z.array(TimelineEntrySchema),
  stats: z.record(z.string(), z.number()).optional()
})
export type LiveRegistryView = z.infer<typeof LiveRegistryViewSchema>

export const TunnelViewSchema = z.object({ tunnel: TunnelStateSchema, binary: z.string().nullable().optional() })
export type TunnelView = z.infer<typeof TunnelViewSchema>

const TunnelResultSchema = z.object({ tunnel: TunnelStateSchema })
const DeletedSchema = z.object({ id: z.string(), deleted: z.boolean() })

export interface ApiClient {
  health(signal?: AbortSignal): Promise<Health>
  settings(signal?: AbortSignal): Promise<SettingsView>
  updateSettings(update: SettingsUpdate, signal?: AbortSignal): Promise<SettingsView>
  /** Checks one service's saved keys and configuration against the service ("Test connection"). */
  testService(service: TestableService, signal?: AbortSignal): Promise<ServiceTestResult>
  calls(query?: CallListQuery, signal?: AbortSignal): Promise<CallList>
  call(id: string, signal?: AbortSignal): Promise<CallDetail>
  liveCall(id: string, signal?: AbortSignal): Promise<LiveRegistryView>
  transcript(id: string, signal?: AbortSignal): Promise<TranscriptDocument>
  /** The transcript as plain text (`[mm:ss.s] Role: text` lines). */
  transcriptText(id: string, signal?: AbortSignal): Promise<string>
  /** The call's WAV (caller left, agent right). */
  recording(id: string, signal?: AbortSignal): Promise<ArrayBuffer>
  upload(id: string, signal?: AbortSignal): Promise<UploadResponse>
  /** A bookmark note or the end-of-call verdict, on the call's timeline. */
  addNote(id: string, note: CallNoteInput, signal?: AbortSignal): Promise<CallNoteResult>
  placeCall(request: PlaceCallRequest, signal?: AbortSignal): Promise<PlaceCallResult>
  hangup(id: string, signal?: AbortSignal): Promise<HangupResult>
  /** The operator's word on a call's answering-machine verdict. */
  overrideAmd(id: string, action: AmdOverrideResult['action'], signal?: AbortSignal): Promise<AmdOverrideResult>
  voiceToken(signal?: AbortSignal): Promise<VoiceToken>
  tunnel(signal?: AbortSignal): Promise<TunnelView>
  startTunnel(signal?: AbortSignal): Promise<TunnelState>
  stopTunnel(signal?: AbortSignal): Promise<TunnelState>
  profiles(signal?: AbortSignal): Promise<ProfileList>
  createProfile(input: ProfileInput, signal?: AbortSignal): Promise<Profile>
  updateProfile(id: string, input: ProfileInput, signal?: AbortSignal): Promise<Profile>
  deleteProfile(id: string, signal?: AbortSignal): Promise<void>
  /** Engines and whether each can run now; `null` when this core has no engines API. */
  engines(signal?: AbortSignal): Promise<EngineList | null>
  voices(refresh?: boolean, signal?: AbortSignal): Promise<VoiceList>
  /** A short sample of a voice with the given settings (audio/mpeg). */
  voicePreview(voiceId: string, voiceSettings?: VoiceSettingsPatch, signal?: AbortSignal): Promise<Blob>
  /** Speaks text into a live call. */
  say(callId: string, request: SayRequest, signal?: AbortSignal): Promise<SayResult>
  /** Stops what is being spoken into a live call. */
  stopSpeaking(callId: string, signal?: AbortSignal): Promise<void>
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>
type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'

export function createApiClient(conn: Connection, fetchImpl: FetchLike = (i, init) => fetch(i, init)): ApiClient {
  async function send(
    method: Method,
    path: string,
    opts: { body?: unknown; signal?: AbortSignal | undefined; accept?: string }
  ): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${conn.token}`,
      accept: opts.accept ?? 'application/json'
    }
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetchImpl(conn.controlUrl + path, {
        method,
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        signal: opts.signal ?? null
      })
    } catch (err) {
      if (opts.signal?.aborted) throw err
      throw new ApiError('network', 'The control API is unreachable', 0, { cause: err })
    }
    if (!res.ok) {
      const json: unknown = await res.json().catch(() => undefined)
      const body = ErrorBodySchema.safeParse(json)
      if (body.success)
        throw new ApiError(body.data.error.code, body.data.error.message, res.status, { field: body.data.error.field })
      throw new ApiError('http_error', `HTTP ${res.status} from ${path}`, res.status)
    }
    return res
  }

  async function request<S extends z.ZodType>(
    method: Method,
    path: string,
    schema: S,
    opts: { body?: unknown; signal?: AbortSignal | undefined } = {}
  ): Promise<z.infer<S>> {
    const res = await send(method, path, opts)
    const json: unknown = await res.json().catch(() => undefined)
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      throw new ApiError('invalid_response', `Unexpected response from ${path}`, res.status, { cause: parsed.error })
    }
    return parsed.data
  }

  const id = (value: string) => encodeURIComponent(value)

  return {
    health: (signal) => request('GET', '/api/health', HealthSchema, { signal }),
    settings: (signal) => request('GET', '/api/settings', SettingsViewSchema, { signal }),
    updateSettings: (update, signal) => request('PUT', '/api/settings', SettingsViewSchema, { body: update, signal }),
    testService: (service, signal) =>
      request('POST', '/api/settings/test', ServiceTestResultSchema, { body: { service }, signal }),
    calls: (query = {}, signal) => {
      const params = new URLSearchParams()
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v))
      const qs = params.size > 0 ? `?${params}` : ''
      return request('GET', `/api/calls${qs}`, CallListSchema, { signal })
    },
    call: (callId, signal) => request('GET', `/api/calls/${id(callId)}`, CallDetailSchema, { signal }),
    liveCall: (callId, signal) => request('GET', `/api/calls/${id(callId)}/live`, LiveRegistryViewSchema, { signal }),
    transcript: (callId, signal) =>
      request('GET', `/api/calls/${id(callId)}/transcript?format=json`, TranscriptDocumentSchema, { signal }),
    transcriptText: async (callId, signal) =>
      (await send('GET', `/api/calls/${id(callId)}/transcript?format=txt`, { signal, accept: 'text/plain' })).text(),
    recording: async (callId, signal) =>
      (await send('GET', `/api/calls/${id(callId)}/recording`, { signal, accept: 'audio/wav' })).arrayBuffer(),
    upload: (callId, signal) => request('POST', `/api/calls/${id(callId)}/upload`, UploadResponseSchema, { signal }),
    addNote: (callId, body, signal) =>
      request('POST', `/api/calls/${id(callId)}/notes`, CallNoteResultSchema, { body, signal }),
    placeCall: (body, signal) => request('POST', '/api/calls', PlaceCallResultSchema, { body, signal }),
    hangup: (callId, signal) => request('POST', `/api/calls/${id(callId)}/hangup`, HangupResultSchema, { signal }),
    overrideAmd: (callId, action, signal) =>
      request('POST', `/api/calls/${id(callId)}/amd`, AmdOverrideResultSchema, { body: { action }, signal }),
    voiceToken: (signal) => request('POST', '/api/voice-token', VoiceTokenSchema, { signal }),
    tunnel: (signal) => request('GET', '/api/tunnel', TunnelViewSchema, { signal }),
    startTunnel: async (signal) => (await request('POST', '/api/tunnel/start', TunnelResultSchema, { signal })).tunnel,
    stopTunnel: async (signal) => (await request('POST', '/api/tunnel/stop', TunnelResultSchema, { signal })).tunnel,
    profiles: (signal) => request('GET', '/api/profiles', ProfileListSchema, { signal }),
    createProfile: (body, signal) => request('POST', '/api/profiles', ProfileSchema, { body, signal }),
    updateProfile: (profileId, body, signal) =>
      request('PUT', `/api/profiles/${id(profileId)}`, ProfileSchema, { body, signal }),
    deleteProfile: async (profileId, signal) => {
      await request('DELETE', `/api/profiles/${id(profileId)}`, DeletedSchema, { signal })
    },
    engines: async (signal) => {
      try {
        return await request('GET', '/api/engines', EngineListSchema, { signal })
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null
        throw err
      }
    },
    voices: (refresh = false, signal) =>
      request('GET', `/api/voices${refresh ? '?refresh=1' : ''}`, VoiceListSchema, { signal }),
    voicePreview: async (voiceId, voiceSettings, signal) =>
      (
        await send('POST', `/api/voices/${id(voiceId)}/preview`, {
          body: voiceSettings ? { voiceSettings } : {},
          signal,
          accept: 'audio/mpeg'
        })
      ).blob(),
    say: (callId, body, signal) => request('POST', `/api/calls/${id(callId)}/say`, SayResultSchema, { body, signal }),
    stopSpeaking: async (callId, signal) => {
      await send('POST', `/api/calls/${id(callId)}/stop`, { body: {}, signal })
    }
  }
}
