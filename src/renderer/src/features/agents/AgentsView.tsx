// Agents: profiles with an engine, prompt, voice and turn-taking settings.
export function AgentsView() {
  return (
    <section className="card">
      <h2>Agents</h2>
    </section>
  )
}
