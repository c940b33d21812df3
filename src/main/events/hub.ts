/** In-process publish/subscribe of server events; the events WebSocket and the call store listen here. */
import type { ServerEvent } from '../../shared/events.js'

export type EventListener = (event: ServerEvent) => void

export class EventHub {
  readonly #listeners = new Set<EventListener>()

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  publish(event: ServerEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A failing subscriber must not stop the others or the publisher (a call's audio path).
      }
    }
  }

  get listenerCount(): number {
    return this.#listeners.size
  }
}
