/**
 * Liveness and readiness, unauthenticated so orchestrators can probe them; they reveal nothing but
 * whether the node is up. `/health` answers while the process runs. `/ready` answers 200 only while
 * the node accepts work and its store responds, and 503 once it has begun shutting down.
 */
import type { FastifyInstance } from 'fastify';
import type { Sluice } from '../engine/sluice.js';

export function registerHealth(app: FastifyInstance, params: { sluice: Sluice; isClosing: () => boolean }): void {
  const config = { protocol: 'native', public: true };
  app.get('/health', { config }, async () => ({ status: 'ok' }));
  app.get('/ready', { config }, async (_request, reply) => {
    if (params.isClosing()) return reply.code(503).send({ status: 'shutting-down' });
    try {
      // One indexed lookup proves the store answers; the name is one no queue can have.
      await params.sluice.queues.exists('sluice readiness probe');
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'store-unavailable' });
    }
  });
}
