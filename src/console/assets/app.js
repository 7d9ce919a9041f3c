// The console's shell: navigation by the URL's hash (#/queues/orders), one page at a time.
import { render } from './vendor/preact.js';
import { useEffect, useState } from './vendor/hooks.js';
import { html, signOut } from './api.js';
import { Overview } from './overview.js';
import { Queues } from './queues.js';
import { Functions, Failure } from './functions.js';
import { Triggers } from './triggers.js';
import { Groups } from './groups.js';
import { Cluster } from './cluster.js';
import { Batches, Schedules } from './batches.js';
import { StateMachines, Executions, Execution } from './state-machines.js';

const pages = [
  ['overview', 'Overview'],
  ['queues', 'Queues'],
  ['functions', 'Functions'],
  ['triggers', 'Triggers'],
  ['groups', 'Groups'],
  ['batches', 'Batches'],
  ['schedules', 'Schedules'],
  ['state-machines', 'State machines'],
  ['cluster', 'Cluster'],
];

function route() {
  const [page = 'overview', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { page, arg: rest.length ? decodeURIComponent(rest.join('/')) : undefined };
}

function Page({ page, arg }) {
  switch (page) {
    case 'queues':
      return html`<${Queues} selected=${arg} />`;
    case 'functions':
      return html`<${Functions} />`;
    case 'failures':
      return html`<${Failure} requestId=${arg} />`;
    case 'triggers':
      return html`<${Triggers} />`;
    case 'groups':
      return html`<${Groups} />`;
    case 'batches':
      return html`<${Batches} />`;
    case 'schedules':
      return html`<${Schedules} />`;
    case 'state-machines':
      return arg ? html`<${Executions} machine=${arg} />` : html`<${StateMachines} />`;
    case 'executions':
      return html`<${Execution} arn=${arg} />`;
    case 'cluster':
      return html`<${Cluster} />`;
    default:
      return html`<${Overview} />`;
  }
}

function App() {
  const [current, setCurrent] = useState(route());
  useEffect(() => {
    const onHash = () => setCurrent(route());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return html` <header>
      <a class="brand" href="#/overview">Sluice</a>
      <nav>
        ${pages.map(([id, label]) => html`<a href=${`#/${id}`} class=${current.page === id || (id === 'state-machines' && current.page === 'executions') ? 'active' : ''}>${label}</a>`)}
      </nav>
      <button class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main><${Page} key=${current.page + (current.arg ?? '')} ...${current} /></main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
