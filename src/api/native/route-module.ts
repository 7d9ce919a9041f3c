/**
 * The extension point of the native API: each feature (queues, functions, triggers, tables...) is one
 * route module registering its routes under /v1 on a scope that has already authenticated the caller.
 * A module reads input only through `readBody` / `readQuery`, so every route validates the same way
 * and every failure has the same shape.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Sluice } from '../../engine/sluice.js';
import type { EngineMetrics } from '../../observability/metrics.js';
import { parseInput, parseJsonObject } from '../validation.js';
import { definedDeep } from '../../model/defined.js';

export interface NativeContext {
  sluice: Sluice;
  /** Aborted when the node begins shutting down; long-running requests end early on it. */
  shutdown: AbortSignal;
  /** The node's event-fed Prometheus series (histograms, outcome counters). */
  metrics?: EngineMetrics;
}

export interface NativeRouteModule {
  /** The feature's name, for logs and docs. */
  name: string;
  register(scope: FastifyInstance, context: NativeContext): void;
}

/** The JSON body of a request, validated. An absent body counts as `{}`. */
export function readBody<S extends z.ZodType>(request: FastifyRequest, schema: S): z.output<S> {
  const raw = Buffer.isBuffer(request.body) ? request.body : undefined;
  return parseInput(schema, parseJsonObject(raw, { allowEmpty: true }));
}

export function readQuery<S extends z.ZodType>(request: FastifyRequest, schema: S): z.output<S> {
  return parseInput(schema, { ...(request.query as object) });
}

/** A path parameter; Fastify has already percent-decoded it. */
export function pathParam(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}

/** Validated input without its undefined members at any depth, for service inputs whose optional fields must be absent. */
export const definedOnly = definedDeep;
