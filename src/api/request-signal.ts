/**
 * An AbortSignal for one request: it fires when the client goes away before the response is written, or
 * when the node begins shutting down. A long poll given this signal returns early (with what it has,
 * usually nothing) instead of claiming messages nobody will receive.
 */
import type { FastifyReply } from 'fastify';

export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort();
  };
  if (shutdown.aborted) abort();
  shutdown.addEventListener('abort', abort, { once: true });
  reply.raw.once('close', onClose);
  return {
    signal: controller.signal,
    release() {
      shutdown.removeEventListener('abort', abort);
      reply.raw.off('close', onClose);
    },
  };
}
