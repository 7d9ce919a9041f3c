// Triggers (queue and stream): state, lag, last result and error; enable or disable.
import { html, api, useData, useLive, fmtNumber, fmtMs, fmtTime } from './api.js';

export function Triggers() {
  const { data, error, reload } = useData('/triggers');
  useLive((type) => type === 'failure' && reload());
  if (error) return html`<p class="error">${error}</p>`;
  const toggle = async (path, enabled) => {
    await api.patch(path, { enabled });
    reload();
  };
  const rows = [
    ...(data?.queueTriggers ?? []).map((t) => ({
      ...t,
      source: `queue ${t.queue}`,
      lag: t.metrics.lagMs,
      path: `/v1/triggers/${t.uuid}`,
    })),
    ...(data?.streamTriggers ?? []).map((t) => ({
      ...t,
      source: `stream ${t.eventSourceArn.split('/')[1] ?? t.eventSourceArn}`,
      lag: t.metrics.iteratorAgeMs,
      path: `/stream-triggers/${t.uuid}`,
    })),
  ];
  return html`<section>
    <h1>Triggers</h1>
    <table class="grid" data-testid="triggers">
      <thead>
        <tr>
          <th>Source</th>
          <th>Function</th>
          <th>State</th>
          <th class="num">Batches</th>
          <th class="num">Lag</th>
          <th>Last result</th>
          <th>Last error</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (t) =>
            html`<tr>
              <td>
                ${t.source}
                <div class="muted small">${t.uuid}</div>
              </td>
              <td>${t.functionName}</td>
              <td>
                <span class=${`tag ${t.state === 'Enabled' ? 'ok' : ''}`}>${t.state}</span
                >${t.stateTransitionReason ? html`<div class="muted small">${t.stateTransitionReason}</div>` : ''}
              </td>
              <td class="num">${fmtNumber(t.metrics.batches)}</td>
              <td class="num">${fmtMs(t.lag)}</td>
              <td class=${t.lastProcessingResult.startsWith('PROBLEM') ? 'bad' : ''}>
                ${t.lastProcessingResult}
              </td>
              <td>${t.lastError ? html`${fmtTime(t.lastError.at)} · ${t.lastError.message}` : ''}</td>
              <td>
                <button onClick=${() => toggle(t.path, t.state !== 'Enabled')}>
                  ${t.state === 'Enabled' ? 'Disable' : 'Enable'}
                </button>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
