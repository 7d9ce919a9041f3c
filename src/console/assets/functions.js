// Functions: invocations, errors, duration p50/p99, concurrency against limits, recent failures with stack.
import { html, useData, useLive, fmtNumber, fmtMs, fmtTime } from './api.js';

export function FailureList({ failures }) {
  if (!failures.length) return html`<p class="muted">No failures since the node started.</p>`;
  return html`<table class="grid" data-testid="failures">
    <thead>
      <tr>
        <th>When</th>
        <th>Function</th>
        <th>Invoked by</th>
        <th>Error</th>
        <th>Attempt</th>
      </tr>
    </thead>
    <tbody>
      ${failures.map(
        (f) =>
          html`<tr>
            <td>${fmtTime(f.at)}</td>
            <td>${f.function}</td>
            <td>${describeOrigin(f)}</td>
            <td>
              <a href=${`#/failures/${encodeURIComponent(f.requestId)}`} data-testid="failure-link"
                >${f.errorType}: ${f.errorMessage}</a
              >
            </td>
            <td>${f.origin.attempt ?? ''}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function describeOrigin(f) {
  const o = f.origin;
  if (o.via === 'queue-trigger')
    return `queue ${o.queue} (${o.messageIds.length} message${o.messageIds.length === 1 ? '' : 's'})`;
  if (o.via === 'stream-trigger') return `table ${o.table}, shard ${o.shard}`;
  if (o.via === 'batch') return `batch ${o.batch}`;
  if (o.via === 'schedule') return `schedule ${o.schedule}`;
  return o.caller ?? o.via;
}

/** A version's or alias's own figures, under its function (it runs as `name:N` or `name:alias`). */
function VersionRow(v) {
  return html`<tr class="muted" data-testid="function-version">
    <td>↳ ${/^[0-9]+$/.test(v.version) ? `version ${v.version}` : `alias ${v.version}`}</td>
    <td class="num">${fmtNumber(v.invocations)}</td>
    <td class="num ${v.errors ? 'bad' : ''}">${fmtNumber(v.errors)}</td>
    <td class="num">${fmtNumber(v.throttles)}</td>
    <td class="num">${fmtMs(v.durationP50Ms)}</td>
    <td class="num">${fmtMs(v.durationP99Ms)}</td>
    <td class="num">${fmtNumber(v.concurrentExecutions)}</td>
    <td></td>
  </tr>`;
}

export function Functions() {
  const { data, reload } = useData('/functions');
  const failures = useData('/failures');
  const snapshot = useLive((type) => type === 'failure' && failures.reload());
  const live = new Map((snapshot?.functions ?? []).map((f) => [f.name, f]));
  return html`<section>
    <h1>Functions</h1>
    <table class="grid" data-testid="functions">
      <thead>
        <tr>
          <th>Function</th>
          <th class="num">Invocations</th>
          <th class="num">Errors</th>
          <th class="num">Throttles</th>
          <th class="num">p50</th>
          <th class="num">p99</th>
          <th class="num">Running / limit</th>
          <th>Timeout</th>
        </tr>
      </thead>
      <tbody>
        ${(data?.functions ?? []).map((fn) => {
          const m = live.get(fn.name) ?? fn.metrics ?? {};
          return html`<tr>
            <td>
              ${fn.name}
              <div class="muted small">${fn.handler}</div>
            </td>
            <td class="num">${fmtNumber(m.invocations)}</td>
            <td class="num ${m.errors ? 'bad' : ''}">${fmtNumber(m.errors)}</td>
            <td class="num">${fmtNumber(m.throttles)}</td>
            <td class="num">${fmtMs(m.durationP50Ms)}</td>
            <td class="num">${fmtMs(m.durationP99Ms)}</td>
            <td class="num">
              ${fmtNumber(m.concurrentExecutions)} /
              ${fn.reservedConcurrency ?? fmtNumber(fn.concurrencyLimit)}${fn.reservedConcurrency === null ? ' (account)' : ' (reserved)'}
            </td>
            <td>${fn.timeout} s</td>
          </tr>
          ${(m.versions ?? []).map((v) => VersionRow(v))}`;
        })}
      </tbody>
    </table>
    <p class="muted small">
      Account concurrency: ${fmtNumber(data?.accountConcurrency)}
      <button class="link" onClick=${reload}>refresh</button>
    </p>
    <h2>Recent failures</h2>
    <${FailureList} failures=${failures.data?.failures ?? []} />
  </section>`;
}

export function Failure({ requestId }) {
  const { data, error } = useData(`/failures/${encodeURIComponent(requestId)}`);
  if (error) return html`<p class="error">${error}</p>`;
  const f = data?.failure;
  if (!f) return html`<p class="loading">Loading…</p>`;
  return html`<section data-testid="failure">
    <h1>${f.function} failed</h1>
    <p><strong>${f.errorType}</strong>: ${f.errorMessage}</p>
    <dl class="facts">
      <dt>When</dt>
      <dd>${new Date(f.at).toLocaleString('en-GB')}</dd>
      <dt>Request id</dt>
      <dd><code>${f.requestId}</code></dd>
      <dt>Invoked by</dt>
      <dd>${describeOrigin(f)}</dd>
      ${Object.entries(f.origin)
        .filter(([k]) => k !== 'via')
        .map(
          ([k, v]) =>
            html`<dt>${k}</dt>
              <dd><code>${Array.isArray(v) ? v.join(', ') : String(v)}</code></dd>`,
        )}
      <dt>Duration</dt>
      <dd>${fmtMs(f.durationMs)}</dd>
    </dl>
    <h2>Stack</h2>
    <pre class="stack" data-testid="stack">${f.stack}</pre>
    <p><a href="#/functions">← Functions</a></p>
  </section>`;
}
