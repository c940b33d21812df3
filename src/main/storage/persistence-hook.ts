/** Persists the call events the hub publishes: queued into the call store, so publishing never waits on the disk. */
import type { CallSummary } from '../../shared/calls.js'
import type { ServerEvent } from '../../shared/events.js'
import type { EventHub } from '../events/hub.js'
import type { CallMeta, CallStore } from './call-store.js'

export interface PersistenceHookOptions {
  hub: EventHub
  store: CallStore
  /** Meta captured at `call.started` before the session's own `call.start` entry (which wins when it has settings). */
  metaAtStart?: (call: CallSummary) => CallMeta | undefined
  /** The profile as stored now, for the call's snapshot. */
  profileSnapshot?: (profileId: string) => Record<string, unknown> | undefined
  /** After the end state is queued (not yet committed). Runs on a later tick, off the session's stack. */
  onEnded?: (call: CallSummary) => void
}

/** Subscribes; returns the unsubscribe function. */
export function persistCallEvents(o: PersistenceHookOptions): () => void {
  const { store } = o
  return o.hub.subscribe((ev: ServerEvent) => {
    switch (ev.type) {
      case 'call.started': {
        store.queueCall(ev.call)
        const meta = o.metaAtStart?.(ev.call)
        if (meta) store.queueMeta(ev.call.id, meta)
        break
      }
      case 'call.updated':
        store.queueCall(ev.call)
        break
      case 'call.ended': {
        store.queueEnd(ev.call)
        const call = ev.call
        if (o.onEnded) setImmediate(() => o.onEnded!(call))
        break
      }
      case 'call.transcript':
        if (ev.final) {
          store.queueTranscript(ev.callId, {
            atMs: ev.atMs,
            role: ev.role,
            text: ev.text,
            ...(ev.correction ? { correction: true } : {})
          })
        }
        break
      case 'call.turn':
        store.queueTurn(ev.callId, ev.metrics)
        break
      case 'call.timeline':
        onTimeline(o, ev.callId, ev.entry)
        break
      default:
        break
    }
  })
}

function onTimeline(
  o: PersistenceHookOptions,
  callId: string,
  entry: Extract<ServerEvent, { type: 'call.timeline' }>['entry']
): void {
  const data = entry.data
  if (entry.kind === 'call.start' && data && (data.settings || data.profileId)) {
    // The session's meta (registry: effective settings and profile id) is the call's snapshot; keep it out of the
    // events table, where it would be repeated in every timeline read.
    const { settings, profileId, ...rest } = data
    const meta: CallMeta = {}
    if (isRecord(settings)) meta.settings = settings
    if (typeof profileId === 'string') {
      meta.profileId = profileId
      const profile = o.profileSnapshot?.(profileId)
      if (profile) meta.profile = profile
    }
    o.store.queueMeta(callId, meta)
    o.store.queueEvent(callId, { ...entry, data: { ...rest, ...(typeof profileId === 'string' ? { profileId } : {}) } })
    return
  }
  if (typeof data?.answeredBy === 'string') {
    // AMD results may arrive as a timeline entry before the call summary carries them.
    o.store.queueAnsweredBy(callId, data.answeredBy)
  }
  o.store.queueEvent(callId, entry)
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
