/**
 * The engine's events as log lines. Each handler failure is one error line, written here and nowhere
 * else (FunctionService reports every execution once), carrying the function, who invoked it (trigger,
 * queue, caller), the message or record ids, the attempt, and the error's type, message and stack under
 * `err`. Retries, moves to a dead-letter queue, group-limit refusals and lease changes are info lines;
 * a group refused again and again is logged once a minute per group and reason, with the count.
 */
import type { Logger } from 'pino';
import type { EngineEvent, EngineEvents, InvocationOrigin } from './events.js';

/** The most ids a line lists; the rest are counted. */
const MAX_IDS = 20;
const GROUP_LOG_INTERVAL_MS = 60_000;

function ids(list: string[]): { ids: string[]; more?: number } {
  return list.length <= MAX_IDS
    ? { ids: list }
    : { ids: list.slice(0, MAX_IDS), more: list.length - MAX_IDS };
}

/** The fields naming who invoked, flat, so a log query can filter on them. */
export function originFields(origin: InvocationOrigin): Record<string, unknown> {
  switch (origin.via) {
    case 'invoke':
      return { via: 'invoke', caller: 'Invoke (RequestResponse)' };
    case 'async':
      return { via: 'async', caller: 'Invoke (Event)', attempt: origin.attempt };
    case 'queue-trigger': {
      const { ids: messageIds, more } = ids(origin.messageIds);
      return {
        via: origin.via,
        trigger: origin.trigger,
        queue: origin.queue,
        messageIds,
        ...(more ? { moreMessages: more } : {}),
        attempt: origin.attempt,
      };
    }
    case 'stream-trigger': {
      const { ids: sequenceNumbers, more } = ids(origin.sequenceNumbers);
      return {
        via: origin.via,
        trigger: origin.trigger,
        table: origin.table,
        shard: origin.shard,
        sequenceNumbers,
        ...(more ? { moreRecords: more } : {}),
        attempt: origin.attempt,
      };
    }
    case 'batch': {
      const { ids: items, more } = ids(origin.items);
      return {
        via: origin.via,
        batch: origin.batch,
        items,
        ...(more ? { moreItems: more } : {}),
        attempt: origin.attempt,
      };
    }
    case 'schedule':
      return { via: origin.via, schedule: origin.schedule };
  }
}

function describeOrigin(origin: InvocationOrigin): string {
  switch (origin.via) {
    case 'invoke':
      return 'invoked directly';
    case 'async':
      return `asynchronous event, attempt ${origin.attempt}`;
    case 'queue-trigger':
      return `trigger ${origin.trigger} on queue ${origin.queue}, ${origin.messageIds.length} message(s), attempt ${origin.attempt}`;
    case 'stream-trigger':
      return `stream trigger ${origin.trigger} on table ${origin.table} shard ${origin.shard}, ${origin.sequenceNumbers.length} record(s), attempt ${origin.attempt}`;
    case 'batch':
      return `batch ${origin.batch}, ${origin.items.length} item(s), attempt ${origin.attempt}`;
    case 'schedule':
      return `schedule delivery ${origin.schedule}`;
  }
}

export function stackOf(error: { errorType: string; errorMessage: string; trace: string[] }): string {
  return error.trace.length > 0 ? error.trace.join('\n') : `${error.errorType}: ${error.errorMessage}`;
}

/**
 * The handler's error in the shape pino's `err` serializer gives a thrown Error (type, message, stack).
 * No prototype: the serializer then takes the type from `name` rather than from the constructor.
 */
function handlerError(error: { errorType: string; errorMessage: string; trace: string[] }): object {
  return Object.assign(Object.create(null) as object, {
    name: error.errorType,
    message: error.errorMessage,
    stack: stackOf(error),
  });
}

/** Writes the engine's events to `logger` until the returned function is called. */
export function logEngineEvents(events: EngineEvents, logger: Logger): () => void {
  const groupsLogged = new Map<string, { at: number; suppressed: number }>();
  return events.on((event: EngineEvent) => {
    switch (event.type) {
      case 'invocation': {
        if (event.ok || !event.error) return;
        const { errorType, errorMessage } = event.error;
        logger.error(
          {
            function: event.function,
            requestId: event.requestId,
            ...originFields(event.origin),
            errorType,
            timedOut: event.timedOut,
            durationMs: Math.round(event.durationMs),
            err: handlerError(event.error),
          },
          `function ${event.function} failed (${describeOrigin(event.origin)}): ${errorType}: ${errorMessage}`,
        );
        return;
      }
      case 'item-failure': {
        const [type, ...rest] = event.error.split(': ');
        logger.error(
          {
            function: event.function,
            via: 'batch',
            batch: event.batch,
            item: event.index,
            attempt: event.attempt,
            errorType: rest.length ? type : 'Error',
            err: Object.assign(Object.create(null) as object, {
              name: rest.length ? type : 'Error',
              message: rest.length ? rest.join(': ') : event.error,
              stack: event.stack ?? event.error,
            }),
          },
          `function ${event.function} failed on item ${event.index} of batch ${event.batch} (attempt ${event.attempt}): ${event.error}`,
        );
        return;
      }
      case 'retry':
        logger.info(
          { function: event.function, ...originFields(event.origin), records: event.records },
          `retry: ${event.records} record(s) of function ${event.function} (${describeOrigin(event.origin)}): ${event.next}`,
        );
        return;
      case 'dead-letter':
        logger.info(
          { queue: event.queue, deadLetterQueue: event.deadLetterQueue, messages: event.messages },
          `dead-letter: moved ${event.messages} message(s) from ${event.queue} to ${event.deadLetterQueue} (maxReceiveCount reached)`,
        );
        return;
      case 'group-throttle': {
        const key = `${event.queue}\u0000${event.group}\u0000${event.reason}`;
        const last = groupsLogged.get(key);
        if (last && event.at - last.at < GROUP_LOG_INTERVAL_MS) {
          last.suppressed++;
          return;
        }
        if (groupsLogged.size > 10_000) groupsLogged.clear();
        groupsLogged.set(key, { at: event.at, suppressed: 0 });
        logger.info(
          {
            queue: event.queue,
            group: event.group,
            reason: event.reason,
            refusedSinceLastLine: last?.suppressed ?? 0,
          },
          `group throttled: group ${event.group} of queue ${event.queue} is at its ${event.reason} limit (logged once a minute per group)`,
        );
        return;
      }
      case 'throttle':
        logger.debug(
          { function: event.function, reason: event.reason, via: event.via },
          `function ${event.function} throttled: ${event.reason}`,
        );
        return;
      case 'lease':
        logger.info(
          {
            leaseGroup: event.group,
            resource: event.resource,
            change: event.change,
            ...(event.token !== undefined ? { fencingToken: event.token } : {}),
          },
          `lease ${event.change}: ${event.group} ${event.resource}`,
        );
        return;
    }
  });
}
