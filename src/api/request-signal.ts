/**
 * An AbortSignal for one request: it fires when the client goes away before the response is written, or
 * when the node begins shutting down. A long poll given this signal returns early (with what it has,
 * usually nothing) instead of claiming messages nobody will receive.
 *
 * The signal is armed on first use: only waiting operations (receives) read it, and arming costs an
 * AbortController and two listeners, a visible share of a request that only sends a message.
 */
import type { FastifyReply } from 'fastify';

export interface RequestSignal {
  /** Armed on first read. */
  readonly signal: AbortSignal;
  /** Removes the listeners; call once the operation is over. */
  release(): void;
}

export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): RequestSignal {
  let controller: AbortController | undefined;
  const abort = () => controller?.abort();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort();
  };
  return {
    get signal() {
      if (controller === undefined) {
        controller = new AbortController();
        // The client may have gone before the first read: its 'close' has fired and will not fire again.
        if (shutdown.aborted || reply.raw.socket?.destroyed === true) abort();
        shutdown.addEventListener('abort', abort, { once: true });
        reply.raw.once('close', onClose);
      }
      return controller.signal;
    },
    release() {
      if (controller === undefined) return;
      shutdown.removeEventListener('abort', abort);
      reply.raw.off('close', onClose);
    },
  };
}
