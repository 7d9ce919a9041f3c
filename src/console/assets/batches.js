// Batches with progress bars, failed items and retry; schedules with their next fire times.
import { useState } from './vendor/hooks.js';
import { html, api, useData } from './api.js';

export function Batches() {
  const { data, error, reload } = useData('/batches');
  const [open, setOpen] = useState(undefined);
  if (error) return html`<p class="error">${error}</p>`;
  return html`<section>
    <h1>Batches</h1>
    ${(data?.batches ?? []).length === 0 ? html`<p class="muted">No batches.</p>` : ''}
    <table class="grid">
      <thead>
        <tr>
          <th>Batch</th>
          <th>Processor</th>
          <th>Status</th>
          <th>Progress</th>
          <th class="num">Failed</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${(data?.batches ?? []).map((b) => {
          const done = b.succeeded + b.failed + b.cancelled;
          return html`<tr>
            <td><code>${b.id}</code></td>
            <td>${b.processor}</td>
            <td>${b.status}</td>
            <td><progress max=${Math.max(1, b.total)} value=${done}></progress> ${done} / ${b.total}</td>
            <td class="num ${b.failed ? 'bad' : ''}">${b.failed}</td>
            <td>
              ${
                b.failed
                  ? html`<button onClick=${() => setOpen(b.id)}>Failed items</button>
                      <button
                        onClick=${async () => {
                          await api.post(`/batches/${encodeURIComponent(b.id)}/retry`);
                          reload();
                        }}
                      >
                        Retry failed
                      </button>`
                  : ''
              }
            </td>
          </tr>`;
        })}
      </tbody>
    </table>
    ${open && html`<${FailedItems} id=${open} />`}
  </section>`;
}

function FailedItems({ id }) {
  const { data } = useData(`/batches/${encodeURIComponent(id)}/failed-items`);
  return html`<div class="panel">
    <h2>Failed items of ${id}</h2>
    <table class="grid">
      <thead>
        <tr>
          <th class="num">Index</th>
          <th>Item</th>
          <th>Error</th>
          <th class="num">Attempts</th>
        </tr>
      </thead>
      <tbody>
        ${(data?.items ?? []).map(
          (i) =>
            html`<tr>
              <td class="num">${i.index}</td>
              <td><code>${JSON.stringify(i.item)}</code></td>
              <td>${i.error}</td>
              <td class="num">${i.attempts}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function Schedules() {
  const { data, error } = useData('/schedules');
  if (error) return html`<p class="error">${error}</p>`;
  return html`<section>
    <h1>Schedules</h1>
    ${(data?.schedules ?? []).length === 0 ? html`<p class="muted">No schedules.</p>` : ''}
    <table class="grid">
      <thead>
        <tr>
          <th>Schedule</th>
          <th>Expression</th>
          <th>State</th>
          <th>Target</th>
          <th>Next fire times (UTC)</th>
          <th>Last fired</th>
        </tr>
      </thead>
      <tbody>
        ${(data?.schedules ?? []).map(
          (s) =>
            html`<tr>
              <td>${s.name}</td>
              <td><code>${s.expression}</code> ${s.timezone}</td>
              <td>${s.state}</td>
              <td><code>${JSON.stringify(s.target)}</code></td>
              <td>${s.next.map((t) => html`<div>${t}</div>`)}</td>
              <td>${s.lastFiredTime ?? '–'}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
