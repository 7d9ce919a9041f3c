// Cluster: nodes with their heartbeats, and the leases this node's groups hold.
import { html, useData, fmtTime } from './api.js';

export function Cluster() {
  const { data, error, reload } = useData('/cluster');
  if (error) return html`<p class="error">${error}</p>`;
  if (!data) return html`<p class="loading">Loading…</p>`;
  if (!data.clustered)
    return html`<section>
      <h1>Cluster</h1>
      <p>This node is not clustered (store: ${data.store}); one node owns the store.</p>
    </section>`;
  return html`<section>
    <h1>Cluster</h1>
    <p class="muted">
      This node: <code>${data.nodeId}</code> · heartbeat every ${data.heartbeatMs} ms · lease ${data.leaseMs}
      ms <button class="link" onClick=${reload}>refresh</button>
    </p>
    <table class="grid">
      <thead>
        <tr>
          <th>Node</th>
          <th>Status</th>
          <th>Started</th>
          <th>Last heartbeat</th>
        </tr>
      </thead>
      <tbody>
        ${data.nodes.map(
          (n) =>
            html`<tr class=${n.id === data.nodeId ? 'selected' : ''}>
              <td><code>${n.id}</code></td>
              <td>${n.status}</td>
              <td>${fmtTime(n.startedAt)}</td>
              <td>${fmtTime(n.heartbeatAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Leases</h2>
    <table class="grid">
      <thead>
        <tr>
          <th>Group</th>
          <th>Resource</th>
          <th>Owner</th>
          <th class="num">Token</th>
          <th>Expires</th>
        </tr>
      </thead>
      <tbody>
        ${data.leases.map(
          (l) =>
            html`<tr>
              <td>${l.group}</td>
              <td><code>${l.resource}</code></td>
              <td>${l.owner ?? '(free)'}</td>
              <td class="num">${l.token}</td>
              <td>${fmtTime(l.expiresAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
