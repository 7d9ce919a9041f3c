// State machines: each with its executions counted by status; a machine's executions (newest first, by
// status); one execution with its definition drawn as a graph (plain SVG, a layered layout computed here),
// the path it took highlighted and the failing state's error.
import { useState } from './vendor/hooks.js';
import { html, api, useData, fmtMs } from './api.js';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

function StatusTag({ status }) {
  const kind = status === 'SUCCEEDED' ? 'ok' : status === 'RUNNING' ? '' : 'bad';
  return html`<span class="tag ${kind}" data-testid="execution-status">${status}</span>`;
}

function fmtDate(at) {
  return at
    ? new Date(at)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '–';
}

function duration(start, stop) {
  return start && stop ? fmtMs(new Date(stop).getTime() - new Date(start).getTime()) : '–';
}

export function StateMachines() {
  const { data, error } = useData('/state-machines');
  if (error) return html`<p class="error">${error}</p>`;
  const machines = data?.stateMachines ?? [];
  return html`<section>
    <h1>State machines</h1>
    ${data && machines.length === 0 ? html`<p class="muted">No state machines.</p>` : ''}
    <table class="grid" data-testid="state-machines">
      <thead>
        <tr>
          <th>State machine</th>
          <th>Type</th>
          ${STATUSES.map((s) => html`<th class="num">${s}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${machines.map(
          (m) =>
            html`<tr data-machine=${m.name}>
              <td><a href=${`#/state-machines/${encodeURIComponent(m.name)}`}>${m.name}</a></td>
              <td>${m.type}</td>
              ${STATUSES.map(
                (s) =>
                  html`<td
                    class="num ${(s === 'FAILED' || s === 'TIMED_OUT') && m.counts[s] ? 'bad' : ''}"
                    data-status=${s}
                  >
                    ${m.counts[s]}${m.capped.includes(s) ? '+' : ''}
                  </td>`,
              )}
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

export function Executions({ machine }) {
  const [status, setStatus] = useState('');
  const [more, setMore] = useState([]);
  const [nextToken, setNextToken] = useState(undefined);
  const base = `/state-machines/${encodeURIComponent(machine)}/executions${status ? `?status=${status}` : ''}`;
  const { data, error } = useData(base, [status]);
  if (error) return html`<p class="error">${error}</p>`;
  const rows = [...(data?.executions ?? []), ...more];
  const token = more.length ? nextToken : data?.nextToken;
  const loadMore = async () => {
    const page = await api.get(`${base}${status ? '&' : '?'}nextToken=${encodeURIComponent(token)}`);
    setMore([...more, ...page.executions]);
    setNextToken(page.nextToken);
  };
  return html`<section>
    <p><a href="#/state-machines">State machines</a> /</p>
    <h1>${machine}: executions</h1>
    <div class="actions">
      <label
        >Status
        <select
          aria-label="status"
          value=${status}
          onChange=${(e) => {
            setMore([]);
            setNextToken(undefined);
            setStatus(e.target.value);
          }}
        >
          <option value="">All</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select></label
      >
    </div>
    ${data && rows.length === 0 ? html`<p class="muted">No executions.</p>` : ''}
    <table class="grid" data-testid="executions">
      <thead>
        <tr>
          <th>Execution</th>
          <th>Status</th>
          <th>Started (UTC)</th>
          <th>Stopped (UTC)</th>
          <th class="num">Duration</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (e) =>
            html`<tr data-execution=${e.name}>
              <td><a href=${`#/executions/${encodeURIComponent(e.executionArn)}`}>${e.name}</a></td>
              <td><${StatusTag} status=${e.status} /></td>
              <td>${fmtDate(e.startDate)}</td>
              <td>${fmtDate(e.stopDate)}</td>
              <td class="num">${duration(e.startDate, e.stopDate)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${token ? html`<p><button onClick=${loadMore}>More</button></p>` : ''}
  </section>`;
}

export function Execution({ arn }) {
  const { data, error } = useData(`/execution?arn=${encodeURIComponent(arn)}`);
  if (error) return html`<p class="error">${error}</p>`;
  if (!data) return html`<p class="loading">Loading…</p>`;
  const { execution, stateMachine, steps, failures, events } = data;
  return html`<section>
    <p>
      <a href="#/state-machines">State machines</a> /
      <a href=${`#/state-machines/${encodeURIComponent(stateMachine.name)}`}>${stateMachine.name}</a> /
    </p>
    <h1>Execution ${execution.name}</h1>
    <dl class="facts">
      <dt>Status</dt>
      <dd><${StatusTag} status=${execution.status} /></dd>
      <dt>Started (UTC)</dt>
      <dd>${fmtDate(execution.startDate)}</dd>
      <dt>Stopped (UTC)</dt>
      <dd>${fmtDate(execution.stopDate)}</dd>
      <dt>Duration</dt>
      <dd>${duration(execution.startDate, execution.stopDate)}</dd>
      <dt>Revision</dt>
      <dd>${stateMachine.revisionId}</dd>
    </dl>
    ${
      execution.error || execution.cause
        ? html`<div class="panel failure" data-testid="execution-error">
            <strong>${execution.error}</strong>
            ${execution.cause ? html`<pre>${causeText(execution.cause)}</pre>` : ''}
          </div>`
        : ''
    }
    <div class="panel">
      <h2>Definition and path taken</h2>
      <p class="small muted legend">
        <span class="swatch visited"></span> entered <span class="swatch failed"></span> failed
        <span class="swatch"></span> not entered; dashed arrows are Catch, labelled ones Choice rules
      </p>
      ${
        stateMachine.definition
          ? html`<${Graph}
              definition=${stateMachine.definition}
              steps=${steps}
              failures=${failures}
              execution=${execution}
            />`
          : html`<p class="error">The definition is not JSON.</p>`
      }
    </div>
    ${
      failures.length
        ? html`<div class="panel">
            <h2>Errors</h2>
            <ul class="failures">
              ${failures.map(
                (f) =>
                  html`<li data-testid="state-error" data-state=${f.state ?? ''}>
                    <strong>${f.state ?? 'execution'}</strong> <span class="muted">${f.type}</span>:
                    <code>${f.error}</code>
                    ${f.cause ? html`<pre>${causeText(f.cause)}</pre>` : ''}
                  </li>`,
              )}
            </ul>
          </div>`
        : ''
    }
    <div class="two">
      <div class="panel">
        <h2>Path</h2>
        <table class="grid" data-testid="path">
          <thead>
            <tr>
              <th class="num">#</th>
              <th>State</th>
              <th>Type</th>
              <th>Entered (UTC)</th>
              <th class="num">Time</th>
            </tr>
          </thead>
          <tbody>
            ${steps.map(
              (s, i) =>
                html`<tr data-step=${s.name}>
                  <td class="num">${i + 1}</td>
                  <td>${s.name}</td>
                  <td>${s.type}</td>
                  <td>${fmtDate(s.enteredAt)}</td>
                  <td class="num">${duration(s.enteredAt, s.exitedAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="panel">
        <h2>Input</h2>
        <pre>${pretty(execution.input)}</pre>
        ${
          execution.output !== undefined
            ? html`<h2>Output</h2>
                <pre>${pretty(execution.output)}</pre>`
            : ''
        }
      </div>
    </div>
    <details class="panel">
      <summary>History (${events.length} events${data.historyTruncated ? ', the first only' : ''})</summary>
      <table class="grid">
        <thead>
          <tr>
            <th class="num">Id</th>
            <th class="num">Prev</th>
            <th>Type</th>
            <th>Time (UTC)</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          ${events.map(
            (e) =>
              html`<tr>
                <td class="num">${e.id}</td>
                <td class="num">${e.previousEventId}</td>
                <td>${e.type}</td>
                <td>${fmtDate(e.timestamp)}</td>
                <td><code class="details">${detailsText(e)}</code></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </details>
  </section>`;
}

function pretty(text) {
  if (text === undefined || text === null) return '–';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

/** A function's error as Lambda reports it (errorType, errorMessage, trace) as a stack; other causes as they are. */
function causeText(cause) {
  try {
    const parsed = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && ('errorMessage' in parsed || 'errorType' in parsed)) {
      const head = `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? ''}`;
      const trace = Array.isArray(parsed.trace) ? parsed.trace.filter((line) => !line.startsWith(head)) : [];
      return [head, ...trace.map((line) => line.trim()).map((line) => `    ${line}`)].join('\n');
    }
  } catch {
    // not JSON: shown as it is
  }
  return cause;
}

function detailsText(event) {
  const { id: _id, previousEventId: _p, timestamp: _t, type: _type, ...rest } = event;
  const text = JSON.stringify(Object.values(rest)[0] ?? {});
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

// ---- The graph ----------------------------------------------------------------------------------

const NODE_H = 40;
const GAP_X = 28;
const GAP_Y = 52;
const PAD = 14;
const HEAD = 28;
const MARK = 14; // radius of the start and end markers
const BACK = 56; // room on the right for arrows that go back up
const LEFT = 110; // room on the left for the labels of arrows that lean left

function short(text, n = 34) {
  const s = String(text);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function choiceLabel(rule, index) {
  if (typeof rule.Condition === 'string') return short(rule.Condition.replace(/^\{%\s*|\s*%\}$/g, ''));
  for (const op of ['And', 'Or', 'Not']) if (rule[op]) return `${op} (rule ${index + 1})`;
  const op = Object.keys(rule).find((k) => !['Next', 'Variable', 'Comment', 'Assign', 'Output'].includes(k));
  return op ? short(`${rule.Variable ?? ''} ${op} ${JSON.stringify(rule[op])}`) : `rule ${index + 1}`;
}

/** Where a state can go: Next, Choice rules and Default, Catch targets. */
function successors(state) {
  const out = [];
  if (!state) return out;
  if (state.Next) out.push({ to: state.Next, kind: 'next' });
  if (state.Type === 'Choice') {
    (state.Choices ?? []).forEach((rule, i) => {
      if (rule.Next) out.push({ to: rule.Next, kind: 'choice', label: choiceLabel(rule, i) });
    });
    if (state.Default) out.push({ to: state.Default, kind: 'choice', label: 'Default' });
  }
  for (const c of state.Catch ?? [])
    if (c.Next) out.push({ to: c.Next, kind: 'catch', label: `Catch ${(c.ErrorEquals ?? []).join(', ')}` });
  return out;
}

function terminal(state) {
  return state?.End === true || state?.Type === 'Succeed' || state?.Type === 'Fail';
}

function branchesOf(state) {
  if (state.Type === 'Parallel') return state.Branches ?? [];
  if (state.Type === 'Map') return [state.ItemProcessor ?? state.Iterator].filter(Boolean);
  return [];
}

/**
 * A layered layout: a state's row is its breadth-first depth from StartAt (unreachable states below,
 * one per row); rows are centred; Parallel and Map states are boxes holding their branches' own layouts.
 */
export function layout(machine, top = true) {
  const states = machine?.States ?? {};
  const depth = new Map();
  const order = [];
  const queue = [];
  if (states[machine?.StartAt]) {
    depth.set(machine.StartAt, 0);
    queue.push(machine.StartAt);
  }
  while (queue.length) {
    const name = queue.shift();
    order.push(name);
    for (const edge of successors(states[name]))
      if (states[edge.to] && !depth.has(edge.to)) {
        depth.set(edge.to, depth.get(name) + 1);
        queue.push(edge.to);
      }
  }
  let last = Math.max(-1, ...depth.values());
  for (const name of Object.keys(states))
    if (!depth.has(name)) {
      depth.set(name, ++last);
      order.push(name);
    }
  const boxes = new Map();
  for (const name of order) {
    const state = states[name];
    const children = branchesOf(state).map((branch) => layout(branch, false));
    let w = Math.max(110, name.length * 7.2 + 30);
    let h = NODE_H;
    if (children.length) {
      w = Math.max(
        w,
        children.reduce((sum, c) => sum + c.width, 0) + GAP_X * (children.length - 1) + 2 * PAD,
      );
      h = HEAD + Math.max(...children.map((c) => c.height)) + PAD;
    }
    boxes.set(name, { name, state, w, h, children, depth: depth.get(name) });
  }
  const rows = [];
  for (const name of order) (rows[depth.get(name)] ??= []).push(boxes.get(name));
  const rowWidth = (row) => row.reduce((sum, b) => sum + b.w, 0) + GAP_X * (row.length - 1);
  const inner = Math.max(0, ...rows.map(rowWidth));
  const width = inner + BACK;
  let y = top ? 2 * MARK + GAP_Y / 2 : 0;
  for (const row of rows) {
    let x = (inner - rowWidth(row)) / 2;
    const rowH = Math.max(...row.map((b) => b.h));
    for (const box of row) {
      box.x = x;
      box.y = y;
      x += box.w + GAP_X;
    }
    y += rowH + GAP_Y;
  }
  const height = top ? y + 2 * MARK : Math.max(NODE_H, y - GAP_Y);
  const edges = [];
  for (const box of boxes.values())
    for (const edge of successors(box.state)) {
      const target = boxes.get(edge.to);
      if (target) edges.push({ ...edge, from: box, target });
    }
  return {
    width,
    height,
    boxes,
    edges,
    startAt: machine?.StartAt,
    start: top && machine?.StartAt ? { x: inner / 2, y: MARK } : null,
    end: top ? { x: inner / 2, y: y - GAP_Y / 2 + MARK } : null,
  };
}

function bezier(p0, p1, p2, p3, t) {
  const u = 1 - t;
  return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
}

function edgePath(a, b) {
  const sx = a.x + a.w / 2;
  const sy = a.y + a.h;
  const tx = b.x + b.w / 2;
  const ty = b.y;
  if (b.y > a.y) {
    // Labels half way down, beside the arrow on the side it leans to, so that a Choice's keep apart.
    const t = 0.5;
    const x = bezier(sx, sx, tx, tx, t);
    return {
      d: `M${sx},${sy} C${sx},${sy + 28} ${tx},${ty - 28} ${tx},${ty}`,
      lx: tx < sx ? x - 6 : x + 6,
      ly: bezier(sy, sy + 28, ty - 28, ty, t) + 4,
      anchor: tx < sx ? 'end' : 'start',
    };
  }
  // Back up (a loop) or sideways: out of the right side, round, into the target's right side.
  const ax = a.x + a.w;
  const ay = a.y + a.h / 2;
  const bx = b.x + b.w;
  const by = b.y + b.h / 2;
  const bulge = Math.max(ax, bx) + BACK - 8;
  return {
    d: `M${ax},${ay} C${bulge},${ay} ${bulge},${by} ${bx + 2},${by}`,
    lx: bulge - 10,
    ly: (ay + by) / 2,
    anchor: 'end',
  };
}

function Graph({ definition, steps, failures, execution }) {
  const graph = layout(definition);
  const entered = new Set(steps.map((s) => s.name));
  const failed = new Map();
  for (const f of failures) if (f.state && !failed.has(f.state)) failed.set(f.state, f);
  const taken = new Set(steps.filter((s) => s.from).map((s) => `${s.from}\u0000${s.name}`));
  const lastStep = steps.at(-1)?.name;
  return html`<div class="graph" data-testid="graph">
    <svg
      xmlns="http://www.w3.org/2000/svg"
      width=${graph.width + LEFT + PAD}
      height=${graph.height + 2 * PAD}
      viewBox=${`${-LEFT} ${-PAD} ${graph.width + LEFT + PAD} ${graph.height + 2 * PAD}`}
      role="img"
      aria-label=${`state machine graph; path: ${steps.map((s) => s.name).join(' → ')}`}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
        <marker
          id="arrow-taken"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead taken" />
        </marker>
      </defs>
      ${drawLayout(graph, { entered, failed, taken, lastStep, execution })}
    </svg>
  </div>`;
}

function drawLayout(graph, ctx) {
  const parts = [];
  const first = graph.start && graph.boxes.get(graph.startAt);
  if (graph.start && first) {
    const on = ctx.entered.has(first.name);
    parts.push(
      html`<g class="marker ${on ? 'visited' : ''}" data-testid="start">
        <circle cx=${graph.start.x} cy=${graph.start.y} r=${MARK} />
        <text x=${graph.start.x} y=${graph.start.y + 4} text-anchor="middle">Start</text>
      </g>`,
    );
    parts.push(arrow(`M${graph.start.x},${graph.start.y + MARK} L${first.x + first.w / 2},${first.y}`, on));
  }
  for (const edge of graph.edges) {
    const { d, lx, ly, anchor } = edgePath(edge.from, edge.target);
    const on = ctx.taken.has(`${edge.from.name}\u0000${edge.target.name}`);
    parts.push(
      html`<g
        class="edge ${edge.kind} ${on ? 'taken' : ''}"
        data-from=${edge.from.name}
        data-to=${edge.target.name}
      >
        <path d=${d} marker-end=${on ? 'url(#arrow-taken)' : 'url(#arrow)'} />
        ${edge.label ? html`<text x=${lx} y=${ly} text-anchor=${anchor} class="label">${edge.label}</text>` : ''}
      </g>`,
    );
  }
  if (graph.end) {
    const finished = ctx.execution.status !== 'RUNNING';
    let endOn = false;
    for (const box of graph.boxes.values())
      if (terminal(box.state)) {
        const on = finished && ctx.lastStep === box.name;
        endOn ||= on;
        parts.push(
          arrow(`M${box.x + box.w / 2},${box.y + box.h} L${graph.end.x},${graph.end.y - MARK}`, on, 'end'),
        );
      }
    parts.push(
      html`<g
        class="marker ${endOn ? 'visited' : ''} ${endOn && ctx.execution.status !== 'SUCCEEDED' ? 'failed' : ''}"
        data-testid="end"
      >
        <circle cx=${graph.end.x} cy=${graph.end.y} r=${MARK} />
        <text x=${graph.end.x} y=${graph.end.y + 4} text-anchor="middle">End</text>
      </g>`,
    );
  }
  for (const box of graph.boxes.values()) parts.push(drawBox(box, ctx));
  return parts;
}

function arrow(d, on, kind = 'next') {
  return html`<g class="edge ${kind} ${on ? 'taken' : ''}"
    ><path d=${d} marker-end=${on ? 'url(#arrow-taken)' : 'url(#arrow)'}
  /></g>`;
}

function drawBox(box, ctx) {
  const on = ctx.entered.has(box.name);
  const failure = ctx.failed.get(box.name);
  const type = box.state?.Type ?? '?';
  const classes = [
    'state',
    type.toLowerCase(),
    on && 'visited',
    failure && 'failed',
    box.children.length && 'composite',
  ]
    .filter(Boolean)
    .join(' ');
  const tip = `${box.name} (${type})${failure ? `\n${failure.error}${failure.cause ? `: ${failure.cause}` : ''}` : ''}`;
  if (box.children.length) {
    let x = PAD;
    const inner = [];
    for (const child of box.children) {
      inner.push(
        html`<g transform=${`translate(${x},${HEAD})`} class="branch">${drawLayout(child, ctx)}</g>`,
      );
      x += child.width + GAP_X;
    }
    return html`<g class=${classes} data-state=${box.name} transform=${`translate(${box.x},${box.y})`}>
      <title>${tip}</title>
      <rect width=${box.w} height=${box.h} rx="8" />
      <text x="10" y="18" class="name">${box.name}</text>
      <text x=${box.w - 10} y="18" text-anchor="end" class="kind"
        >${type}${type === 'Map' ? ' (each item)' : ''}</text
      >
      ${inner}
    </g>`;
  }
  return html`<g class=${classes} data-state=${box.name} transform=${`translate(${box.x},${box.y})`}>
    <title>${tip}</title>
    <rect width=${box.w} height=${box.h} rx=${type === 'Choice' ? 18 : 6} />
    <text x=${box.w / 2} y="17" text-anchor="middle" class="name">${box.name}</text>
    <text x=${box.w / 2} y="32" text-anchor="middle" class="kind"
      >${failure ? short(failure.error, 26) : type}</text
    >
  </g>`;
}
