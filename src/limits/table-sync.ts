/**
 * Group limits driven by a Sluice table, as in the seed pattern: one item per task group, and its
 * change stream updates the limits live. The sync loads the whole table, then follows every shard of
 * its stream from where the load began: each record names a key, and the sync applies that key's item
 * as it is now (a put sets the group's limit, a missing item deletes it), so replaying a record is
 * harmless and the order of records across shards does not matter. It waits on the stream's channels
 * (no polling) and keeps its position in memory: a restart loads the table again.
 *
 * An item: `{ <groupAttribute>: 'acme', maxConcurrency?: 2, rateLimit?: 2, rateIntervalSeconds?: 1,
 * rateBurst?: 2 }`; the item whose group is `defaultGroup` ('*') sets the queue's default. The table
 * owns the queue's limits: entries whose group has no item are removed when the sync starts.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { SluiceError, invalidValue } from '../model/errors.js';
import { streamChannel, type StoredTable } from '../store/table-store.js';
import type { Store } from '../store/store.js';
import type { Item } from '../tables/expressions/index.js';
import type { TableService } from '../tables/service.js';
import type { Unsubscribe } from '../store/notifier.js';
import type { GroupLimitService } from './service.js';
import type { GroupLimitInput } from './types.js';

export interface GroupSyncOptions {
  /** The queue whose group limits the table sets. */
  queue: string;
  /** The attribute holding the group key; default the table's partition key. */
  groupAttribute?: string;
  /** The group value of the item that sets the default limit; default '*'. */
  defaultGroup?: string;
}

export interface GroupTableSync {
  /** Resolves when every record written so far has been applied (for tests and start-up). */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

const READ_LIMIT = 1000;

type WireImage = Parameters<typeof unmarshall>[0];

function numberAttribute(item: Item, name: string): number | undefined {
  const value = item[name];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number))
    throw invalidValue(name, `${JSON.stringify(value)} is not a number`);
  return number;
}

/** An item's limits, in the form `groupLimits.set` takes. */
export function limitOfItem(item: Item): GroupLimitInput {
  const maxConcurrency = numberAttribute(item, 'maxConcurrency');
  const rateLimit = numberAttribute(item, 'rateLimit');
  const intervalSeconds = numberAttribute(item, 'rateIntervalSeconds');
  const burst = numberAttribute(item, 'rateBurst');
  return {
    maxConcurrency: maxConcurrency ?? null,
    rate:
      rateLimit === undefined
        ? null
        : {
            limit: rateLimit,
            ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
            ...(burst !== undefined ? { burst } : {}),
          },
  };
}

export async function startGroupTableSync(params: {
  tableName: string;
  options: GroupSyncOptions;
  store: Store;
  tables: TableService;
  limits: GroupLimitService;
  onError: (error: unknown) => void;
}): Promise<GroupTableSync> {
  const { store, tables, limits, options } = params;
  const table: StoredTable = await tables.require(params.tableName);
  if (!table.definition.stream) {
    throw new SluiceError(
      'ValidationException',
      `TableName: ${table.name} has no stream; enable one (any view type) to drive group limits`,
      {
        field: 'TableName',
      },
    );
  }
  const groupAttribute = options.groupAttribute ?? table.definition.partitionKey.name;
  const defaultGroup = options.defaultGroup ?? '*';
  const queue = options.queue;

  /** Applies one item (or its absence) for a group. */
  const apply = async (group: string, item: Item | undefined): Promise<void> => {
    const isDefault = group === defaultGroup;
    if (!item) {
      if (isDefault) await limits.deleteDefault(queue);
      else await limits.delete(queue, group);
      return;
    }
    const limit = limitOfItem(item);
    if (isDefault) await limits.setDefault(queue, limit);
    else await limits.set(queue, group, limit);
  };
  const groupOf = (item: Item): string | undefined => {
    const value = item[groupAttribute];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  };

  // Positions first, then the load: a write between the two is applied again from the stream.
  const positions = new Map(
    (await store.streamShards({ tableId: table.id })).map((shard) => [shard.shard, shard.lastSeq]),
  );
  const present = new Set<string>();
  let exclusiveStartKey: Item | undefined;
  do {
    const page = await tables.scan({
      tableName: table.name,
      ...(exclusiveStartKey ? { exclusiveStartKey } : {}),
    });
    for (const item of page.items) {
      const group = groupOf(item);
      if (group === undefined) continue;
      present.add(group);
      await guarded(params.onError, () => apply(group, item));
    }
    exclusiveStartKey = page.lastEvaluatedKey;
  } while (exclusiveStartKey);
  for (let after: string | undefined; ;) {
    const page = await limits.list(queue, { ...(after !== undefined ? { after } : {}), limit: 1000 });
    for (const entry of page)
      if (entry.group !== null && !present.has(entry.group)) await limits.delete(queue, entry.group);
    if (page.length < 1000) break;
    after = page[page.length - 1]!.group!;
  }
  if (!present.has(defaultGroup)) await limits.deleteDefault(queue);

  let stopped = false;
  let pending = false;
  let running: Promise<void> = Promise.resolve();
  const follow = async (): Promise<void> => {
    while (pending && !stopped) {
      pending = false;
      for (const [shard, afterSeq] of positions) {
        let seq = afterSeq;
        for (;;) {
          const records = await store.streamRead({
            tableId: table.id,
            shard,
            afterSeq: seq,
            limit: READ_LIMIT,
          });
          for (const record of records) {
            const body = JSON.parse(record.body) as { Keys: WireImage; OldImage?: WireImage };
            const keys = unmarshall(body.Keys) as Item;
            const { item } = await tables.getItem({ tableName: table.name, key: keys });
            // A deleted item's group: from its key, or its old image when the group is not a key attribute.
            const group =
              groupOf(item ?? keys) ??
              (body.OldImage ? groupOf(unmarshall(body.OldImage) as Item) : undefined);
            if (group !== undefined) await guarded(params.onError, () => apply(group, item));
            seq = record.seq;
          }
          if (records.length < READ_LIMIT) break;
        }
        positions.set(shard, seq);
      }
    }
  };
  const wake = () => {
    pending = true;
    running = running.then(follow).catch(params.onError);
  };
  const unsubscribes: Unsubscribe[] = [...positions.keys()].map((shard) =>
    store.notifier.subscribe(streamChannel(table.id, shard), wake),
  );
  wake();
  const sync: GroupTableSync = {
    caughtUp: () => running,
    async stop() {
      stopped = true;
      for (const unsubscribe of unsubscribes) unsubscribe();
      await running;
      forget();
    },
  };
  const forget = limits.onStop(() => sync.stop());
  return sync;
}

async function guarded(onError: (error: unknown) => void, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    onError(error); // a bad item must not stop the sync
  }
}
