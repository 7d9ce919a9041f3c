// The console's calls: JSON over fetch with the session cookie, the CSRF token on every change, and one
// server-sent-event stream for live updates while the page is open.
import { h } from './vendor/preact.js';
import { useEffect, useState } from './vendor/hooks.js';
import htm from './vendor/htm.js';

export const html = htm.bind(h);

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['x-csrf-token'] = csrf;
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`/console/api${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(method !== 'GET' ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    if (data?.error?.code === 'MissingAuthenticationToken') location.assign('/console/login');
    throw new Error(data?.error?.message ?? `${response.status} ${response.statusText}`);
  }
  return data;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body),
  patch: (path, body) => call('PATCH', path, body),
};

export async function signOut() {
  await fetch('/console/logout', {
    method: 'POST',
    headers: { 'x-csrf-token': csrf },
    credentials: 'same-origin',
  }).catch(() => undefined);
  location.assign('/console/login');
}

/** Loads `path` once, again when `deps` change, and on `reload()`. */
export function useData(path, deps = []) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    if (!path) return undefined;
    api.get(path).then(
      (data) => live && setState({ data, error: undefined }),
      (error) => live && setState({ data: undefined, error: error.message }),
    );
    return () => {
      live = false;
    };
  }, [path, tick, ...deps]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}

// One stream for the whole page: opened when the first component listens, closed with the page.
const listeners = new Set();
let source;
export const latest = { snapshot: undefined, history: undefined };

function open() {
  if (source) return;
  source = new EventSource('/console/api/live');
  for (const type of ['snapshot', 'history', 'failure', 'problem']) {
    source.addEventListener(type, (message) => {
      const data = JSON.parse(message.data);
      if (type === 'snapshot') latest.snapshot = data;
      if (type === 'history') latest.history = data;
      for (const listener of listeners) listener(type, data);
    });
  }
}

/** Re-renders on every live event; returns the latest snapshot (queue counts, functions, triggers, groups). */
export function useLive(onEvent) {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const listener = (type, data) => {
      onEvent?.(type, data);
      setVersion((n) => n + 1);
    };
    listeners.add(listener);
    open();
    return () => listeners.delete(listener);
  }, []);
  return latest.snapshot;
}

export function fmtNumber(n) {
  return n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US');
}
export function fmtMs(ms) {
  if (ms === undefined || ms === null) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
export function fmtAge(seconds) {
  if (!seconds) return '0 s';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
export function fmtTime(at) {
  return at ? new Date(at).toLocaleTimeString('en-GB') : '–';
}
