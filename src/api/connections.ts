/**
 * What one client can hold of a node: connections (in all, and per client address) and time (to send a
 * request's headers, to send its whole body, and to sit idle between keep-alive requests). Without these
 * a client announcing large bodies it never sends holds sockets until the process runs out of file
 * descriptors and the node stops answering even /health.
 *
 * Node enforces the timeouts itself (`headersTimeout`, `requestTimeout`, `keepAliveTimeout`, checked
 * every `connectionsCheckingInterval`); the request timeout covers only receiving the request, so a long
 * poll waiting on its response is not cut. The total cap is Node's `maxConnections` (excess connections
 * are closed on accept); the per-address cap is counted here. Each cap logs when it is hit, then at most
 * one summary line per interval, so a flood does not flood the log too.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './logger.js';

export interface ConnectionLimits {
  /** Open connections the node accepts in all; more are closed on accept. */
  maxConnections: number;
  /** Open connections one client address may hold; more are closed on accept. */
  maxConnectionsPerAddress: number;
  /** Time a client has to send a request's headers. */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request, headers and body; past it the node answers 408 and closes. */
  requestTimeoutMs: number;
  /** How long a keep-alive connection may sit idle between requests. */
  idleTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Above the 60 s idle timeout of common load balancers (AWS ALB), so they close idle connections first.
  idleTimeoutMs: 65_000,
};

/** How often Node looks for requests past their timeouts: often enough for small test timeouts, at most 1 s. */
export function checkingIntervalMs(limits: ConnectionLimits): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** The settings for Node's HTTP server (Fastify passes them to http.createServer). */
export function serverTimeouts(limits: ConnectionLimits) {
  return {
    // Node requires headersTimeout <= requestTimeout.
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(limits),
  };
}

/** Logs an event at once, then at most one line per `intervalMs` with how many more happened. */
export class ThrottledLog {
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: (count: number, first: boolean) => void,
    private readonly intervalMs = 10_000,
  ) {}

  hit(): void {
    if (this.timer !== undefined) {
      this.suppressed++;
      return;
    }
    this.log(1, true);
    this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.suppressed === 0) return;
      const count = this.suppressed;
      this.suppressed = 0;
      this.log(count, false);
      this.arm();
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export interface ConnectionGuard {
  /** Open connections per client address, for tests and metrics. */
  perAddress(): ReadonlyMap<string, number>;
  stop(): void;
}

/** Applies the connection caps to a server and logs when they are hit. */
export function guardConnections(server: Server, limits: ConnectionLimits, logger: Logger | undefined, logIntervalMs?: number): ConnectionGuard {
  server.maxConnections = limits.maxConnections;
  const open = new Map<string, number>();
  const totalCap = new ThrottledLog((count, first) => {
    logger?.warn(
      { cap: 'maxConnections', limit: limits.maxConnections, refused: count },
      first
        ? `connection cap reached: ${limits.maxConnections} connections are open; new connections are closed (node.connections.max)`
        : `connection cap: closed ${count} more connection(s) over ${limits.maxConnections} (node.connections.max)`,
    );
  }, logIntervalMs);
  const addressCap = new ThrottledLog((count, first) => {
    logger?.warn(
      { cap: 'maxConnectionsPerAddress', limit: limits.maxConnectionsPerAddress, refused: count, address: lastRefused },
      first
        ? `per-address connection cap reached: ${lastRefused} holds ${limits.maxConnectionsPerAddress} connections; its new connections are closed (node.connections.perAddress)`
        : `per-address connection cap: closed ${count} more connection(s), the last from ${lastRefused} (node.connections.perAddress)`,
    );
  }, logIntervalMs);
  let lastRefused = '';

  server.on('drop', () => totalCap.hit());
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerAddress) {
      lastRefused = address;
      addressCap.hit();
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  return {
    perAddress: () => open,
    stop() {
      totalCap.stop();
      addressCap.stop();
    },
  };
}
