// Groups: the busiest and most throttled groups of each grouped queue, and why one group is not running.
import { useState } from './vendor/hooks.js';
import { html, useData, useLive, fmtNumber, fmtAge } from './api.js';

export function Groups() {
  const { data } = useData('/groups');
  const snapshot = useLive();
  const [picked, setPicked] = useState(undefined);
  const queues = snapshot?.groups ?? data?.queues ?? [];
  return html`<section>
    <h1>Groups</h1>
    ${queues.length === 0 ? html`<p class="muted">No grouped queue has had activity since the node started.</p>` : ''}
    ${queues.map((q) => {
      const busiest = [...q.groups].sort((a, b) => b.started - a.started).slice(0, 10);
      const throttled = [...q.groups]
        .filter((g) => g.throttledByConcurrency + g.throttledByRate > 0)
        .sort(
          (a, b) =>
            b.throttledByConcurrency + b.throttledByRate - (a.throttledByConcurrency + a.throttledByRate),
        )
        .slice(0, 10);
      const row = (g) =>
        html`<tr>
          <td>
            <button class="link" onClick=${() => setPicked({ queue: q.queue, group: g.group })}>
              ${g.group}
            </button>
          </td>
          <td class="num">${fmtNumber(g.started)}</td>
          <td class="num">${fmtNumber(g.inFlight)}</td>
          <td class="num">${fmtNumber(g.throttledByConcurrency)}</td>
          <td class="num">${fmtNumber(g.throttledByRate)}</td>
        </tr>`;
      const head = html`<thead>
        <tr>
          <th>Group</th>
          <th class="num">Started</th>
          <th class="num">In flight</th>
          <th class="num">Refused: concurrency</th>
          <th class="num">Refused: rate</th>
        </tr>
      </thead>`;
      return html`<div class="panel">
        <h2>${q.queue}</h2>
        <p class="muted">
          ${fmtNumber(q.totals.started)} started · ${fmtNumber(q.totals.inFlight)} in flight ·
          ${fmtNumber(q.trackedGroups)} groups tracked
        </p>
        <div class="two">
          <div>
            <h3>Busiest</h3>
            <table class="grid">
              ${head}
              <tbody>
                ${busiest.map(row)}
              </tbody>
            </table>
          </div>
          <div>
            <h3>Most throttled</h3>
            <table class="grid">
              ${head}
              <tbody>
                ${throttled.map(row)}
              </tbody>
            </table>
          </div>
        </div>
      </div>`;
    })}
    ${picked && html`<${Why} ...${picked} />`}
  </section>`;
}

function Why({ queue, group }) {
  const { data, error } = useData(`/groups/${encodeURIComponent(queue)}/${encodeURIComponent(group)}`);
  if (error) return html`<p class="error">${error}</p>`;
  if (!data) return html`<p class="loading">Loading…</p>`;
  const e = data.effective;
  const i = data.inspection;
  return html`<div class="panel" data-testid="group-why">
    <h2>Why is ${group} (${queue}) not running?</h2>
    <ul>
      ${data.reasons.map((r) => html`<li>${r}</li>`)}
    </ul>
    <dl class="facts">
      <dt>Concurrency limit</dt>
      <dd>${e.maxConcurrency ?? 'none'}${data.limit ? '' : ' (queue default)'}</dd>
      <dt>Rate limit</dt>
      <dd>${e.rate ? `${e.rate.limit} per ${e.rate.intervalSeconds} s (burst ${e.rate.burst})` : 'none'}</dd>
      <dt>Slots held (in flight)</dt>
      <dd>${fmtNumber(i.inFlight)}</dd>
      <dt>Rate tokens left</dt>
      <dd>${i.rateTokens === null ? '–' : fmtNumber(i.rateTokens)}</dd>
      <dt>Messages waiting</dt>
      <dd>${fmtNumber(i.waiting)}${i.delayed ? ` (+${i.delayed} delayed)` : ''}</dd>
      <dt>Oldest wait</dt>
      <dd>${i.oldestWaitSeconds === null ? '–' : fmtAge(i.oldestWaitSeconds)}</dd>
      <dt>Refused on this node</dt>
      <dd>
        ${fmtNumber(data.activity?.throttledByConcurrency ?? 0)} by concurrency,
        ${fmtNumber(data.activity?.throttledByRate ?? 0)} by rate
      </dd>
    </dl>
  </div>`;
}
