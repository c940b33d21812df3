// History: every call kept, with filters; a call's page with its timeline, recording and transcript.
export function HistoryView() {
  return (
    <section className="card">
      <h2>History</h2>
    </section>
  )
}
