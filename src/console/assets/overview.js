// Overview: messages in and out, errors, backlog and oldest age over the last hour, recent failures.
import { html, useData, useLive, latest, fmtNumber, fmtAge, fmtTime } from './api.js';
import { TimeChart } from './charts.js';
import { FailureList } from './functions.js';

/** Every minute of the last hour, those without events at zero, so the lines are continuous. */
function minuteSeries(history) {
  const byMinute = new Map((history?.minutes ?? []).map((m) => [m.t, m]));
  const last = Math.floor(Date.now() / 60_000) * 60_000;
  const minutes = [];
  for (let t = last - 59 * 60_000; t <= last; t += 60_000)
    minutes.push(byMinute.get(t) ?? { t, sent: 0, invocations: 0, errors: 0 });
  return [
    minutes.map((m) => m.t / 1000),
    minutes.map((m) => m.sent),
    minutes.map((m) => m.invocations),
    minutes.map((m) => m.errors),
  ];
}

function backlogSeries(history, snapshot) {
  const points = [...(history?.backlog ?? [])];
  const last = snapshot?.backlog;
  if (last && points.at(-1)?.t !== last.t) points.push(last);
  return [
    points.map((p) => p.t / 1000),
    points.map((p) => p.visible),
    points.map((p) => p.inFlight),
    points.map((p) => p.oldestAgeSeconds),
  ];
}

export function Overview() {
  const { data, reload } = useData('/overview');
  const snapshot = useLive((type) => {
    if (type === 'failure' || type === 'history') reload();
  });
  const queues = snapshot?.queues ?? [];
  const functions = snapshot?.functions ?? [];
  const visible = snapshot ? queues.reduce((s, q) => s + q.visible, 0) : data?.totals.visible;
  const inFlight = snapshot ? queues.reduce((s, q) => s + q.inFlight, 0) : data?.totals.inFlight;
  const oldest = snapshot
    ? Math.max(0, ...queues.map((q) => q.oldestAgeSeconds))
    : data?.totals.oldestAgeSeconds;
  // A function's versions and aliases are nested under it, each with its own figures.
  const sum = (field) => functions.reduce((s, f) => s + f[field] + (f.versions ?? []).reduce((t, v) => t + v[field], 0), 0);
  const invocations = snapshot ? sum('invocations') : data?.totals.invocations;
  const errors = snapshot ? sum('errors') : data?.totals.errors;
  const history = latest.history ?? data?.history;
  return html` <section>
    <h1>Overview</h1>
    <div class="cards">
      <div class="card">
        <span>Messages waiting</span><strong data-testid="total-visible">${fmtNumber(visible)}</strong>
      </div>
      <div class="card"><span>In flight</span><strong>${fmtNumber(inFlight)}</strong></div>
      <div class="card"><span>Oldest message</span><strong>${fmtAge(oldest)}</strong></div>
      <div class="card"><span>Invocations</span><strong>${fmtNumber(invocations)}</strong></div>
      <div class="card ${errors ? 'bad' : ''}"><span>Errors</span><strong>${fmtNumber(errors)}</strong></div>
    </div>
    <div class="charts">
      <${TimeChart}
        title="Per minute, last hour: messages sent, invocations, errors"
        data=${minuteSeries(history)}
        series=${['sent', 'invocations', 'errors']}
        minSpan=${3600}
      />
      <${TimeChart}
        title="Backlog while the console is open: visible, in flight, oldest age (s)"
        data=${backlogSeries(history, snapshot)}
        series=${['visible', 'in flight', 'oldest age s']}
      />
    </div>
    <h2>Recent failures</h2>
    <${FailureList} failures=${data?.failures ?? []} />
    <p class="muted">Node ${data?.node ?? '(not clustered)'} · updated ${fmtTime(snapshot?.at)}</p>
  </section>`;
}
