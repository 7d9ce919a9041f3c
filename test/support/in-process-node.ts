/**
 * A node served in-process on a random port, on a fresh in-memory store, with known test credentials.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildAuthSettings } from '../../src/api/auth/credentials.js';
import { buildHttpApi, type HttpApi, type HttpApiOptions } from '../../src/api/server.js';
import { Sluice } from '../../src/engine/sluice.js';
import type { ClusterOptions } from '../../src/cluster/settings.js';
import type { Clock } from '../../src/model/clock.js';
import type { Store } from '../../src/store/store.js';

export const TEST_ACCESS_KEY = { accessKeyId: 'AKIDSLUICETEST', secretAccessKey: 'sluice-test-secret' };
export const TEST_TOKEN = 'sluice-test-token-0123456789';

/** What the SDK throws for a service error. */
export interface SdkError {
  name: string;
  message: string;
  Code?: string;
  $metadata: { httpStatusCode?: number };
}

export interface TestNode {
  sluice: Sluice;
  api: HttpApi;
  url: string;
  sqs(overrides?: Partial<{ accessKeyId: string; secretAccessKey: string }>): SQSClient;
  /** fetch on the native API with the test token. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by assertions and the zod schemas
  native(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startTestNode(
  options: Partial<
    Pick<HttpApiOptions, 'maxRequestBytes' | 'publicUrl' | 'connections' | 'capLogIntervalMs' | 'logger' | 'metricsAuth' | 'consoleIntervalMs' | 'console' | 'codeKeyMaxAgeMs'>
  > & {
    insecureDev?: boolean;
    /** Default: a fresh in-memory SQLite store. */
    store?: Store;
    clock?: Clock;
    /** Where the node extracts API-created functions' code (default the system's). */
    codeCacheDir?: string;
    /** How long unused packages stay in that cache (default the engine's). */
    codeCacheRetentionMs?: number;
    /** Run as a node of a cluster on the given (PostgreSQL) store. */
    cluster?: ClusterOptions;
  } = {},
): Promise<TestNode> {
  const sluice = await Sluice.open({
    store: options.store ?? 'sqlite::memory:',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.codeCacheDir ? { codeCacheDir: options.codeCacheDir } : {}),
    ...(options.codeCacheRetentionMs !== undefined ? { codeCacheRetentionMs: options.codeCacheRetentionMs } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
  });
  const auth = buildAuthSettings({
    env: {},
    configAccessKeys: [TEST_ACCESS_KEY],
    configTokens: [TEST_TOKEN],
    insecureDev: options.insecureDev ?? false,
  });
  const { insecureDev: _insecureDev, store: _store, clock: _clock, codeCacheDir: _codeCacheDir, codeCacheRetentionMs: _retention, cluster: _cluster, ...apiOptions } = options;
  const api = await buildHttpApi({ sluice, auth, logger: false, ...apiOptions });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const clients: SQSClient[] = [];
  return {
    sluice,
    api,
    url,
    sqs(overrides = {}) {
      const client = new SQSClient({
        endpoint: url,
        region: 'us-east-1',
        credentials: { ...TEST_ACCESS_KEY, ...overrides },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    async native(path, init = {}) {
      const headers: Record<string, string> = {};
      const token = init.token === undefined ? TEST_TOKEN : init.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers,
        ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    async close() {
      for (const client of clients) client.destroy();
      await api.close();
      await sluice.close();
    },
  };
}
