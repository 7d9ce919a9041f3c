// Queues: depth, in flight, delayed, oldest age; a dead-letter queue's messages, redrive with progress,
// purge after typing the queue's name.
import { useEffect, useState } from './vendor/hooks.js';
import { html, api, useData, useLive, fmtNumber, fmtAge } from './api.js';

export function Queues({ selected }) {
  const { data, error, reload } = useData('/queues');
  const snapshot = useLive();
  if (error) return html`<p class="error">${error}</p>`;
  const live = new Map((snapshot?.queues ?? []).map((q) => [q.name, q]));
  const rows = data?.queues ?? [];
  return html` <section>
    <h1>Queues</h1>
    <table class="grid" data-testid="queues">
      <thead>
        <tr>
          <th>Queue</th>
          <th>Type</th>
          <th class="num">Visible</th>
          <th class="num">In flight</th>
          <th class="num">Delayed</th>
          <th class="num">Oldest</th>
          <th>Dead letters</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map((row) => {
          const counts = live.get(row.name) ?? row.counts;
          return html`<tr class=${selected === row.name ? 'selected' : ''} data-queue=${row.name}>
            <td><a href=${`#/queues/${encodeURIComponent(row.name)}`}>${row.name}</a></td>
            <td>${row.fifo ? 'FIFO' : 'standard'}${row.grouped ? ' · grouped' : ''}</td>
            <td class="num" data-testid="visible">${fmtNumber(counts.visible)}</td>
            <td class="num">${fmtNumber(counts.inFlight)}</td>
            <td class="num">${fmtNumber(counts.delayed)}</td>
            <td class="num">${fmtAge(counts.oldestAgeSeconds)}</td>
            <td>
              ${row.deadLetterSources.length ? html`<span class="tag">DLQ of ${row.deadLetterSources.join(', ')}</span>` : row.redrive ? `→ ${row.redrive.deadLetterQueue} after ${row.redrive.maxReceiveCount}` : ''}
            </td>
          </tr>`;
        })}
      </tbody>
    </table>
    ${selected ? html`<${QueueDetail} key=${selected} row=${rows.find((r) => r.name === selected)} name=${selected} onChange=${reload} />` : html`<p class="muted">Select a queue to browse, redrive or purge it.</p>`}
  </section>`;
}

function QueueDetail({ name, row, onChange }) {
  const [messages, setMessages] = useState(undefined);
  const [problem, setProblem] = useState('');
  const [confirming, setConfirming] = useState(false);
  const path = `/v1/queues/${encodeURIComponent(name)}`;
  const browse = async () => {
    setProblem('');
    try {
      setMessages((await api.get(`/queues/${encodeURIComponent(name)}/messages`)).messages);
    } catch (error) {
      setProblem(error.message);
    }
  };
  const redrive = async () => {
    setProblem('');
    try {
      await api.post(`${path}/move-tasks`, {});
      setMessages(undefined);
      onChange();
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html` <div class="panel" data-testid="queue-detail">
    <h2>${name}</h2>
    <div class="actions">
      <button onClick=${browse}>Browse messages</button>
      ${row?.deadLetterSources.length ? html`<button class="primary" onClick=${redrive} data-testid="redrive">Redrive to ${row.deadLetterSources.join(', ')}</button>` : ''}
      <button class="danger" onClick=${() => setConfirming(true)}>Purge…</button>
    </div>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    ${row?.deadLetterSources.length ? html`<${MoveTasks} path=${path} />` : ''}
    ${
      confirming &&
      html`<${PurgeDialog}
        name=${name}
        path=${path}
        onDone=${() => {
          setConfirming(false);
          setMessages(undefined);
          onChange();
        }}
      />`
    }
    ${
      messages &&
      html` <p class="muted">
          The first ${messages.length} message(s), read without receiving them: browsing changes nothing.
        </p>
        ${messages.length === 0 ? html`<p>The queue is empty.</p>` : ''}
        <ul class="messages" data-testid="messages">
          ${messages.map(
            (m) =>
              html`<li>
                <code>${m.messageId}</code> · ${m.state} · received ${m.receiveCount}× · sent
                ${new Date(m.sentTimestamp).toLocaleString('en-GB')}
                ${m.messageGroupId ? html` · group <code>${m.messageGroupId}</code>` : ''}
                ${m.deadLetterSourceArn ? html` · from <code>${m.deadLetterSourceArn.split(':').pop()}</code>` : ''}
                <pre>${m.body}</pre>
              </li>`,
          )}
        </ul>`
    }
  </div>`;
}

/** The queue's redrives, with a progress bar while one runs (polled once a second while shown and running). */
function MoveTasks({ path }) {
  const [tasks, setTasks] = useState([]);
  useEffect(() => {
    let stopped = false;
    let timer;
    const load = async () => {
      const result = await api.get(`${path}/move-tasks`).catch(() => ({ tasks: [] }));
      if (stopped) return;
      setTasks(result.tasks);
      timer = setTimeout(load, result.tasks.some((t) => t.status === 'RUNNING') ? 1000 : 3000);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path]);
  if (tasks.length === 0) return '';
  return html`<div class="tasks" data-testid="move-tasks">
    <h3>Redrives</h3>
    ${tasks.slice(0, 3).map((t) => {
      const total = Math.max(1, t.approximateNumberOfMessagesToMove);
      const pct = Math.min(100, Math.round((100 * t.approximateNumberOfMessagesMoved) / total));
      return html`<div class="task">
        <span class="status" data-testid="move-status">${t.status}</span>
        <progress max="100" value=${t.status === 'COMPLETED' ? 100 : pct}></progress>
        <span
          >${t.approximateNumberOfMessagesMoved} / ${t.approximateNumberOfMessagesToMove}
          moved${t.failureReason ? ` · ${t.failureReason}` : ''}</span
        >
      </div>`;
    })}
  </div>`;
}

function PurgeDialog({ name, path, onDone }) {
  const [typed, setTyped] = useState('');
  const [problem, setProblem] = useState('');
  const purge = async () => {
    try {
      await api.post(`${path}/purge`, {});
      onDone();
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html`<div class="dialog" role="dialog" aria-label="Purge">
    <p>Purging deletes every message of <strong>${name}</strong>. Type the queue's name to confirm.</p>
    <input value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} aria-label="queue name" />
    <button class="danger" disabled=${typed !== name} onClick=${purge}>Purge ${name}</button>
    <button onClick=${onDone}>Cancel</button>
    ${problem && html`<p class="error">${problem}</p>`}
  </div>`;
}
