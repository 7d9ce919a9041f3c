/**
 * Applies a validated config to an engine, idempotently: what is missing is created, what differs is
 * updated, and what the config no longer declares is deleted only when `prune` is set. Sections run in
 * dependency order (queues and tables before the functions that send to them, and functions before
 * the triggers and schedules that invoke them), and pruning in the reverse order.
 *
 * Before anything is applied, what the schema cannot check is checked (schedule expressions, handler
 * modules and their exports: preflight.ts), so a bad config changes nothing. After that each resource is
 * one service call; a failure (rare now: a conflict with the store's state) stops the run with the
 * resource's config path, leaving the resources before it applied (applying again completes the rest).
 */
import type { Sluice } from '../engine/sluice.js';
import { preflightConfig } from './preflight.js';
import type { SluiceConfig } from './schema.js';
import { functionsSection } from './sections/functions.js';
import { groupsSection } from './sections/groups.js';
import { queuesSection } from './sections/queues.js';
import { schedulesSection } from './sections/schedules.js';
import { stateMachinesSection } from './sections/state-machines.js';
import { streamTriggersSection } from './sections/stream-triggers.js';
import type { ConfigChange, ConfigSection } from './sections/section.js';
import { tablesSection } from './sections/tables.js';
import { triggersSection } from './sections/triggers.js';

/** In dependency order. A new feature's section goes after the sections it refers to. */
export const configSections: readonly ConfigSection[] = [
  queuesSection,
  tablesSection,
  functionsSection,
  triggersSection,
  streamTriggersSection,
  schedulesSection,
  groupsSection,
  stateMachinesSection,
];

export async function applyConfig(params: {
  sluice: Sluice;
  config: SluiceConfig;
  baseDir: string;
  prune: boolean;
  /** The config file's path: what it declares is managed by it (the API refuses to change it, naming it). */
  source?: string;
}): Promise<ConfigChange[]> {
  await preflightConfig(params.config, params.baseDir);
  const source = params.source ?? 'the config file';
  const context = { sluice: params.sluice, config: params.config, baseDir: params.baseDir, changes: [] as ConfigChange[], source };
  for (const section of configSections) await section.apply(context);
  for (const section of [...configSections].reverse()) await section.prune(context, { delete: params.prune });
  return context.changes;
}

export type { ConfigChange };
