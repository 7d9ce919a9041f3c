/**
 * Wake-ups across nodes through LISTEN/NOTIFY. Each store holds ONE dedicated connection that LISTENs on
 * a single PostgreSQL channel per schema (`sluice_<schema>`); the logical channel (`queue:12`) travels
 * as the payload and local listeners are dispatched from it. So a node costs one connection however many
 * queues it waits on, and an idle node issues no queries at all.
 *
 * A publish reaches local subscribers at once, and other nodes through a NOTIFY sent right after the
 * writing transaction committed (so a woken node always finds the write). The payload carries this
 * notifier's origin id so its own NOTIFY, echoed back by the server, does not wake local waiters twice.
 * Publishes within one event-loop turn are coalesced into one round trip.
 *
 * If the listening connection drops it is reopened with backoff, and then every subscribed channel fires
 * once, because notifications sent while it was down are lost.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { InProcessNotifier, type Notifier, type Unsubscribe } from '../notifier.js';

export interface PostgresNotifierOptions {
  /** Settings for the listening connection (same server and schema as the pool). */
  clientConfig: pg.ClientConfig;
  /** Where NOTIFY statements are sent. */
  pool: pg.Pool;
  schema: string;
  onError: (error: unknown) => void;
}

/** The PostgreSQL channel of a schema; identifiers stop at 63 bytes, so long names are shortened by hash. */
export function postgresChannel(schema: string): string {
  const channel = `sluice_${schema}`;
  if (channel.length <= 63) return channel;
  return `sluice_${schema.slice(0, 40)}_${createHash('sha1').update(schema).digest('hex').slice(0, 12)}`;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

export class PostgresNotifier implements Notifier {
  private readonly local = new InProcessNotifier();
  private readonly origin = randomBytes(6).toString('base64url');
  private readonly channel: string;
  private listener: pg.Client | undefined;
  private listenerPid: number | undefined;
  private pending = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private closed = false;
  private readonly subscribed = new Map<string, number>();

  constructor(private readonly options: PostgresNotifierOptions) {
    this.channel = postgresChannel(options.schema);
  }

  /** Opens the listening connection; the store is not returned before this succeeds. */
  async start(): Promise<void> {
    await this.listen();
  }

  publish(channel: string): void {
    this.local.publish(channel);
    if (this.closed) return;
    this.pending.add(channel);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  subscribe(channel: string, listener: () => void): Unsubscribe {
    this.subscribed.set(channel, (this.subscribed.get(channel) ?? 0) + 1);
    const unsubscribe = this.local.subscribe(channel, listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      unsubscribe();
      const left = (this.subscribed.get(channel) ?? 1) - 1;
      if (left <= 0) this.subscribed.delete(channel);
      else this.subscribed.set(channel, left);
    };
  }

  /** True while the listening connection is up (tests and health checks read it). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** Sends pending NOTIFYs, stops listening and never reconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.flushing = this.flushing.then(() => this.flush());
    await this.flushing;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Drops the listening connection as a network failure would (for reconnect tests). */
  async simulateDisconnect(): Promise<void> {
    if (!this.listener || this.listenerPid === undefined) return;
    // Ask the server to end the backend; the client then sees the connection close unexpectedly.
    await this.options.pool.query('SELECT pg_terminate_backend($1)', [this.listenerPid]);
  }

  private async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const payloads = [...this.pending].map((channel) => `${this.origin} ${channel}`);
    this.pending = new Set();
    try {
      // A NOTIFY-only transaction still writes a commit record; it need not wait for the WAL flush
      // (nothing durable depends on it), so its implicit transaction commits asynchronously.
      await this.options.pool.query(
        `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, payload) FROM unnest($2::text[]) AS payload`,
        [this.channel, payloads],
      );
    } catch (error) {
      // Other nodes miss this wake-up; they still wake at their next due time or the wait's deadline.
      this.options.onError(error);
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(this.options.clientConfig);
    let failed = false;
    client.on('notification', (message) => this.dispatch(message.payload));
    client.on('error', (error) => {
      failed = true;
      this.lost(client, error);
    });
    client.on('end', () => {
      failed = true;
      this.lost(client, undefined);
    });
    try {
      await client.connect();
      // The channel name is an identifier: derived from the validated schema name, and quoted.
      await client.query(`LISTEN "${this.channel}"`);
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      this.listenerPid = rows[0]?.pid;
      if (failed) throw new Error('the listening connection closed while it was being opened');
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
  }

  private dispatch(payload: string | undefined): void {
    if (!payload) return;
    const space = payload.indexOf(' ');
    // A payload without an origin comes from outside Sluice (a trigger, psql): dispatch it too.
    if (space >= 0 && payload.slice(0, space) === this.origin) return;
    this.local.publish(space >= 0 ? payload.slice(space + 1) : payload);
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.listener !== client) return; // already handled, or not yet (or no longer) the listener
    this.listener = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed) return;
    if (error) this.options.onError(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.listen().then(
        () => {
          this.reconnectDelay = RECONNECT_MIN_MS;
          if (this.closed) return;
          // Whatever was published while we were deaf is lost: let every waiter look again.
          for (const channel of [...this.subscribed.keys()]) this.local.publish(channel);
        },
        (error: unknown) => {
          this.options.onError(error);
          this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
          this.scheduleReconnect();
        },
      );
    }, this.reconnectDelay);
    this.reconnectTimer.unref?.();
  }
}
