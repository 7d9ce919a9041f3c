/**
 * A node's cluster settings: its id, how often it heartbeats and how long its leases last. The timing
 * rules behind the defaults (docs/design/cluster.md):
 * - a lease (and a node) expires `leaseMs` after its owner's last heartbeat; another node notices at its
 *   own next heartbeat, so a dead node's leases are taken over within leaseMs + heartbeatMs, which the
 *   3:1 ratio keeps under two lease timeouts;
 * - an idle node issues one statement per heartbeat: 60_000 / heartbeatMs a minute (20 by default).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { invalidValue } from '../model/errors.js';

export interface ClusterOptions {
  /** Unique per running node; default `<host>-<pid>-<random>`. A node started again with the same id drops what its last run held. */
  nodeId?: string;
  /** Default 3,000 ms. */
  heartbeatMs?: number;
  /** Lease and node timeout; at least 3 heartbeats. Default 10,000 ms. */
  leaseMs?: number;
  /** How long a node keeps concurrency slots it no longer uses before giving them back. Default 1,000 ms. */
  slotLingerMs?: number;
}

export interface ClusterSettings {
  nodeId: string;
  heartbeatMs: number;
  leaseMs: number;
  slotLingerMs: number;
}

export const clusterDefaults = { heartbeatMs: 3_000, leaseMs: 10_000, slotLingerMs: 1_000 } as const;

const NODE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function clusterSettings(options: ClusterOptions = {}): ClusterSettings {
  const nodeId =
    options.nodeId ??
    `${hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!NODE_ID.test(nodeId))
    throw invalidValue('cluster.nodeId', `'${nodeId}' is invalid; use 1-128 letters, digits and . _ : -`);
  const heartbeatMs = options.heartbeatMs ?? clusterDefaults.heartbeatMs;
  const leaseMs = options.leaseMs ?? Math.max(clusterDefaults.leaseMs, heartbeatMs * 3);
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 50 || heartbeatMs > 600_000) {
    throw invalidValue(
      'cluster.heartbeatMs',
      `${JSON.stringify(heartbeatMs)} is invalid; must be an integer from 50 to 600000 ms`,
    );
  }
  if (!Number.isInteger(leaseMs) || leaseMs < heartbeatMs * 3 || leaseMs > 3_600_000) {
    throw invalidValue(
      'cluster.leaseMs',
      `${JSON.stringify(leaseMs)} is invalid; must be an integer from 3 heartbeats (${heartbeatMs * 3} ms) to 3600000 ms`,
    );
  }
  const slotLingerMs = options.slotLingerMs ?? clusterDefaults.slotLingerMs;
  if (!Number.isInteger(slotLingerMs) || slotLingerMs < 0 || slotLingerMs > 600_000) {
    throw invalidValue(
      'cluster.slotLingerMs',
      `${JSON.stringify(slotLingerMs)} is invalid; must be an integer from 0 to 600000 ms`,
    );
  }
  return { nodeId, heartbeatMs, leaseMs, slotLingerMs };
}

/**
 * Cluster options from the environment of `sluice start`: SLUICE_CLUSTER (`on`/`off`; default: on for a
 * PostgreSQL store), SLUICE_NODE_ID, SLUICE_HEARTBEAT_MS, SLUICE_LEASE_MS.
 */
export function clusterOptionsFromEnv(env: NodeJS.ProcessEnv): ClusterOptions & { enabled?: boolean } {
  const options: ClusterOptions & { enabled?: boolean } = {};
  const flag = env.SLUICE_CLUSTER?.trim().toLowerCase();
  if (flag) {
    if (!['on', 'off', 'true', 'false', '1', '0'].includes(flag))
      throw invalidValue('SLUICE_CLUSTER', `${JSON.stringify(flag)} is invalid; use on or off`);
    options.enabled = ['on', 'true', '1'].includes(flag);
  }
  const number = (name: string): number | undefined => {
    const text = env[name]?.trim();
    if (!text) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value))
      throw invalidValue(name, `${JSON.stringify(text)} is not an integer number of milliseconds`);
    return value;
  };
  if (env.SLUICE_NODE_ID?.trim()) options.nodeId = env.SLUICE_NODE_ID.trim();
  const heartbeatMs = number('SLUICE_HEARTBEAT_MS');
  const leaseMs = number('SLUICE_LEASE_MS');
  if (heartbeatMs !== undefined) options.heartbeatMs = heartbeatMs;
  if (leaseMs !== undefined) options.leaseMs = leaseMs;
  return options;
}
