// The services the console's components use: the API client and the events link, provided once at the root.
import { createContext, useContext } from 'react'
import type { ApiClient } from './api/client.js'
import type { Connection } from './api/connection.js'
import type { EventsConnection } from './api/events.js'

export interface ConsoleServices {
  connection: Connection
  api: ApiClient
  events: EventsConnection
  /** Refetches the health report into the store. */
  refreshHealth(): Promise<void>
}

export const ConsoleContext = createContext<ConsoleServices | null>(null)

export function useConsole(): ConsoleServices {
  const services = useContext(ConsoleContext)
  if (!services) throw new Error('useConsole outside ConsoleContext')
  return services
}
