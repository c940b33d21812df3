// History: every call kept, with filters; a call's page with its timeline, recording and transcript.
import { useAppStore } from '../../store/index.js'
import { CallPage } from './CallPage.js'
import { HistoryList } from './HistoryList.js'

export function HistoryView() {
  const callId = useAppStore((s) => s.historyCallId)
  return callId ? <CallPage key={callId} callId={callId} /> : <HistoryList />
}
