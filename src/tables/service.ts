/**
 * Tables with DynamoDB's semantics: the public face of the feature. Requests are validated and
 * compiled here (requests.ts), every write is decided inside one store transaction (writes.ts) together
 * with its stream record, and reads page through the store in key order (reads.ts).
 */
import { tableArn, type ArnContext } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { Unsubscribe } from '../store/notifier.js';
import type { EncodedKey } from '../store/table-definition.js';
import { tableCatalogChannel, type StoredTable } from '../store/table-store.js';
import type { Store } from '../store/store.js';
import { StreamTrimmer } from '../streams/retention.js';
import {
  applyTableUpdate,
  buildTableDefinition,
  changesIndexes,
  sameDefinition,
  tableLimits,
  validateTableName,
  type CreateTableInput,
  type UpdateTableInput,
} from './definition.js';
import { ConditionalCheckFailed, itemCollectionTooLarge, TransactionCanceled } from './errors.js';
import { compileExpressions, type ExpressionAttributeNames, type Item } from './expressions/index.js';
import { decodeItem } from './item-codec.js';
import { encodeKey, keyIdentity, validateKey } from './keys.js';
import { queryBounds, scanSegment, shapePage, validateLimit, validateSegments } from './reads.js';
import {
  planConditionCheck,
  planDelete,
  planPut,
  planUpdate,
  validateItem,
  type PlannedRequest,
} from './requests.js';
import { checkAllAttributes, queryIndex, readableIndex, scanIndex } from './indexes.js';
import { IndexBackfills } from './backfill-leases.js';
import { requestTokenOf, tokenMismatch, transactionInProgress } from './request-tokens.js';
import type { RequestToken } from '../store/table-store.js';
import { TtlSweeper } from './ttl.js';
import type {
  CollectionMetricsByTable,
  CollectionMetricsInput,
  ItemCollectionMetrics,
  TransactWriteOutput,
  BatchGetOutput,
  BatchGetRequest,
  BatchWriteOutput,
  BatchWriteRequest,
  DeleteItemInput,
  GetItemInput,
  ItemOutput,
  PageOutput,
  PutItemInput,
  QueryInput,
  ScanInput,
  TableDescription,
  TransactWriteAction,
  UpdateItemInput,
} from './types.js';
import { expiresAtOf, ITEM_COLLECTION_LIMIT_BYTES, toItemWrite, type WriteResult } from './writes.js';
import type { Service } from '../model/service.js';

export interface TableServiceOptions {
  store: Store;
  clock: Clock;
  arn: ArnContext;
  /** How long an index backfill's lease lasts unrenewed before another node takes it over (default 30 s). */
  backfillLeaseMs?: number;
  /** The item collection limit of tables with local secondary indexes, in bytes (DynamoDB's 10 GB by default). */
  itemCollectionLimitBytes?: number;
  onBackgroundError?: (error: unknown) => void;
}

/** Only such tables have item collections with a size limit, and metrics to report (as DynamoDB). */
function hasLocalIndexes(table: StoredTable): boolean {
  return table.definition.indexes?.some((index) => index.kind === 'local') ?? false;
}

/** The sort key part of an item (to encode its key), or nothing for a table without a sort key. */
function keySortPart(table: StoredTable, item: Item): Item {
  const sortKey = table.definition.sortKey;
  return sortKey ? ({ [sortKey.name]: item[sortKey.name] } as Item) : {};
}

function tableNotFound(name: string): SluiceError {
  return new SluiceError(
    'ResourceNotFoundException',
    `Requested resource not found: Table: ${name} not found`,
    { field: 'TableName' },
  );
}

export class TableService implements Service {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly arnContext: ArnContext;
  private readonly cache = new Map<string, StoredTable>();
  private readonly unsubscribeCatalog: Unsubscribe;
  private readonly ttl: TtlSweeper;
  private readonly trimmer: StreamTrimmer;
  private readonly onError: (error: unknown) => void;
  /** Index backfills: run here under leases, and taken over from nodes that went away. */
  private readonly backfills: IndexBackfills;
  private readonly collectionLimit: number;
  /** ClientRequestTokens of TransactWriteItems calls being applied on this node. */
  private readonly tokensInFlight = new Set<string>();

  /** Refuses a change to a table someone else manages (the engine sets it: `sluice apply`'s tables). */
  private guard: ((name: string) => Promise<void>) | undefined;

  constructor(options: TableServiceOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.arnContext = options.arn;
    this.collectionLimit = options.itemCollectionLimitBytes ?? ITEM_COLLECTION_LIMIT_BYTES;
    const onError =
      options.onBackgroundError ?? ((error) => console.error('[sluice] table background task failed', error));
    this.onError = onError;
    // Another caller (or node) changed the catalog: forget cached definitions, they are re-read on use.
    this.unsubscribeCatalog = this.store.notifier.subscribe(tableCatalogChannel, () => this.cache.clear());
    this.ttl = new TtlSweeper(this.store, this.clock, (id) => this.store.tableGetById({ id }), onError);
    this.trimmer = new StreamTrimmer(this.store, this.clock, onError);
    this.backfills = new IndexBackfills({
      store: this.store,
      clock: this.clock,
      ...(options.backfillLeaseMs !== undefined ? { leaseMs: options.backfillLeaseMs } : {}),
      onFinished: () => this.cache.clear(),
      onError,
    });
  }

  /**
   * Deletes what expired while no node ran, trims old stream records, and arms both timers; indexes
   * tables created before index entries were kept, finishes index backfills whose lease is free or
   * expired (a node stopped or died), then watches the leases held elsewhere to take them over.
   */
  async start(): Promise<void> {
    for (const listed of await this.store.tableList({})) {
      const table = await this.resumeBackfills(listed);
      await this.ttl.sweep(table.id);
      await this.trimmer.trim(table.id);
    }
    this.backfills.watch();
  }

  /**
   * Stops following the catalog and the TTL and trim timers; ends this node's backfills after their
   * batch and frees their leases, so a running node takes them over at once.
   */
  async stop(): Promise<void> {
    await this.backfills.stop();
    this.unsubscribeCatalog();
    this.ttl.stop();
    this.trimmer.stop();
  }

  // ---------------------------------------------------------------- tables

  /**
   * Creates a table; creating it again with the same definition returns it (config files re-apply),
   * unless `ifExists: 'fail'` asks for DynamoDB's ResourceInUseException whatever the definition.
   */
  /** Sets the check that UpdateTable and DeleteTable pass first (catalog/service.ts `refuseAppliedTable`). */
  guardChanges(guard: (name: string) => Promise<void>): void {
    this.guard = guard;
  }

  async createTable(
    input: CreateTableInput,
    options: { ifExists?: 'return' | 'fail' } = {},
  ): Promise<TableDescription> {
    const now = this.clock.now();
    const definition = buildTableDefinition(input, now);
    const result = await this.store.tableCreate({ name: input.name, definition, now });
    if (result.outcome === 'exists' && options.ifExists === 'fail') {
      throw new SluiceError('ResourceInUseException', `Table already exists: ${input.name}`, {
        field: 'TableName',
      });
    }
    if (result.outcome === 'exists' && !sameDefinition(result.table.definition, definition)) {
      throw new SluiceError(
        'ResourceInUseException',
        `TableName: table '${input.name}' already exists with a different definition`,
        {
          field: 'TableName',
        },
      );
    }
    this.cache.set(input.name, result.table);
    return this.describe(result.table);
  }

  /**
   * The table's definition; with `counts`, also how many items it and each of its indexes hold and
   * their size, counted now (a read of every item's and entry's row: O(items + entries)).
   */
  async describeTable(name: string, options: { counts?: boolean } = {}): Promise<TableDescription> {
    const table = await this.require(name);
    if (!options.counts) return this.describe(table);
    const stats = await this.store.itemStats({ tableId: table.id });
    const description: TableDescription = { ...this.describe(table), itemCount: stats.count, sizeBytes: stats.bytes };
    if (table.definition.indexes) {
      // Counted from the index entries (an index's own items: sparse indexes hold fewer than the table).
      const counted = new Map((await this.store.indexStats({ tableId: table.id })).map((row) => [row.index, row]));
      description.indexCounts = Object.fromEntries(
        table.definition.indexes.map((index) => {
          const row = counted.get(index.name);
          return [index.name, { itemCount: row?.count ?? 0, sizeBytes: row?.bytes ?? 0 }];
        }),
      );
    }
    return description;
  }

  async listTables(prefix?: string): Promise<string[]> {
    return (await this.store.tableList({ prefix: prefix ?? '' })).map((table) => table.name);
  }

  /**
   * Enables, changes or disables the stream, sets or clears the TTL attribute, adds or removes a global
   * secondary index. As DynamoDB does, an added index is answered at once as CREATING (Backfilling) and
   * the table's items are indexed in the background on this node, under a lease (reads of it are refused
   * until then; a node that stops or dies mid-way leaves it to another node, see backfill-leases.ts);
   * `waitForIndex` returns once it is ACTIVE, or once this node gave the backfill up (it stopped). A removed index's entries are deleted with it. The change is a compare-and-set on the
   * stored definition, retried from the new one when another update committed first, so concurrent
   * updates never overwrite each other.
   */
  async updateTable(
    name: string,
    update: UpdateTableInput,
    options: { waitForIndex?: boolean } = {},
  ): Promise<TableDescription> {
    validateTableName(name);
    await this.guard?.(name);
    this.cache.delete(name);
    let updated: StoredTable | undefined;
    do {
      // The stored definition, not a cached one: the change is computed from the latest.
      const table = await this.store.tableGet({ name });
      if (!table) throw tableNotFound(name);
      const now = this.clock.now();
      updated = await this.store.tableUpdate({
        name,
        definition: applyTableUpdate(table.definition, update, now),
        now,
        indexesChanged: changesIndexes(update),
        ...(update.deleteIndex !== undefined ? { dropIndexes: [update.deleteIndex] } : {}),
        ...(update.createIndex !== undefined ? { backfillOwner: this.backfills.ownerOfNew() } : {}),
        expected: table.definition,
      });
    } while (!updated);
    this.cache.set(name, updated);
    if (update.createIndex !== undefined) {
      const backfill = this.backfills.run(updated.id, update.createIndex.name);
      if (options.waitForIndex) {
        updated = (await backfill) ?? (await this.store.tableGet({ name }));
        if (!updated) throw tableNotFound(name);
      }
    }
    if (updated.definition.ttlAttribute !== null) await this.ttl.sweep(updated.id);
    return this.describe(updated);
  }

  /** Resolves once every index backfill this node runs has ended (tests, and a caller about to stop). */
  async indexBackfillsSettled(): Promise<void> {
    await this.backfills.settled();
  }

  /**
   * A table's indexes as they must be before it serves reads: a table from before index entries were
   * kept (index_version 0) has each index backfilled here, before the node serves; an index left
   * backfilling whose lease is free or expired is finished here too (one a live node holds is its own).
   */
  private async resumeBackfills(table: StoredTable): Promise<StoredTable> {
    const indexes = table.definition.indexes ?? [];
    let current: StoredTable | undefined = table;
    if (table.indexVersion === 0) {
      // The upgrade is an index added, for every index at once: marked backfilling, its lease taken by
      // this node in the same update, then filled under the lease below. A node that stops, dies or
      // freezes part-way leaves the rest to another node, which resumes after the last batch saved
      // (it used to be filled here without a lease, and a node dying part-way left it to the next start).
      const definition = {
        ...table.definition,
        ...(indexes.length > 0 ? { indexes: indexes.map((index) => ({ ...index, backfilling: true })) } : {}),
      };
      current = await this.store.tableUpdate({
        name: table.name,
        definition,
        now: this.clock.now(),
        indexesChanged: true,
        ...(indexes.length > 0 ? { backfillOwner: this.backfills.ownerOfNew() } : {}),
      });
    }
    for (const index of current?.definition.indexes ?? []) {
      if (!current || !index.backfilling) continue;
      current = (await this.backfills.run(current.id, index.name)) ?? current;
    }
    this.cache.delete(table.name);
    return current ?? table;
  }

  async deleteTable(name: string): Promise<TableDescription> {
    validateTableName(name);
    await this.guard?.(name);
    const deleted = await this.store.tableDelete({ name });
    this.cache.delete(name);
    if (!deleted) throw tableNotFound(name);
    this.ttl.forget(deleted.id);
    this.trimmer.forget(deleted.id);
    return this.describe(deleted);
  }

  /** The table as stored, for the stream feature; throws ResourceNotFoundException. */
  async require(name: string): Promise<StoredTable> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    validateTableName(name);
    const table = await this.store.tableGet({ name });
    if (!table) throw tableNotFound(name);
    this.cache.set(name, table);
    return table;
  }

  streamArnOf(table: StoredTable): string | undefined {
    const stream = table.definition.stream;
    return stream ? `${tableArn(this.arnContext, table.name)}/stream/${stream.label}` : undefined;
  }

  // ---------------------------------------------------------------- single items

  async putItem(input: PutItemInput): Promise<ItemOutput> {
    const table = await this.require(input.tableName);
    return this.withCollectionMetrics(await this.writeOne(planPut(table, input)), table, input.item, input);
  }

  async updateItem(input: UpdateItemInput): Promise<ItemOutput> {
    const table = await this.require(input.tableName);
    return this.withCollectionMetrics(await this.writeOne(planUpdate(table, input)), table, input.key, input);
  }

  async deleteItem(input: DeleteItemInput): Promise<ItemOutput> {
    const table = await this.require(input.tableName);
    return this.withCollectionMetrics(await this.writeOne(planDelete(table, input)), table, input.key, input);
  }

  /**
   * ReturnItemCollectionMetrics SIZE: for a table with local secondary indexes, the collection's kept
   * size, read after the write (an estimate, as DynamoDB's is), as a range of whole GB around it.
   */
  private async withCollectionMetrics(output: ItemOutput, table: StoredTable, item: Item, input: CollectionMetricsInput): Promise<ItemOutput> {
    if (input.returnItemCollectionMetrics !== 'SIZE' || !hasLocalIndexes(table)) return output;
    return { ...output, itemCollectionMetrics: (await this.collectionMetrics(table, item)).metrics };
  }

  /** The collection of `item` (any item or key of it), read now. */
  private async collectionMetrics(table: StoredTable, item: Item): Promise<{ pk: Buffer; metrics: ItemCollectionMetrics }> {
    const partitionKey = table.definition.partitionKey.name;
    const itemCollectionKey = { [partitionKey]: item[partitionKey] } as Item;
    const pk = encodeKey(table.definition, { ...itemCollectionKey, ...keySortPart(table, item) }).pk;
    const bytes = await this.store.itemCollectionBytes({ tableId: table.id, pk });
    const gb = Math.floor(bytes / 2 ** 30);
    return { pk, metrics: { itemCollectionKey, sizeEstimateRangeGB: [gb, gb + 1] } };
  }

  /**
   * ReturnItemCollectionMetrics SIZE on a call of several writes (BatchWriteItem, TransactWriteItems): each
   * collection written in a table with local secondary indexes once, read after the writes, under the
   * table name as the call gave it. Condition checks write nothing and report nothing.
   */
  private async collectionMetricsOfWrites(
    writes: Array<{ tableName: string; table: StoredTable; item: Item }>,
    input: CollectionMetricsInput,
  ): Promise<CollectionMetricsByTable | undefined> {
    if (input.returnItemCollectionMetrics !== 'SIZE') return undefined;
    // A Map, not an object: `__proto__` is a valid table name.
    const byTable = new Map<string, ItemCollectionMetrics[]>();
    const seen = new Set<string>();
    for (const { tableName, table, item } of writes) {
      if (!hasLocalIndexes(table)) continue;
      const { pk, metrics } = await this.collectionMetrics(table, item);
      const identity = `${table.id}|${pk.toString('base64')}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      const list = byTable.get(tableName) ?? [];
      list.push(metrics);
      byTable.set(tableName, list);
    }
    return byTable.size > 0 ? Object.fromEntries(byTable) : undefined;
  }

  async getItem(input: GetItemInput): Promise<{ item?: Item }> {
    const table = await this.require(input.tableName);
    const key = validateKey(table.definition, input.key);
    const { projection } = compileExpressions({
      projectionExpression: input.projectionExpression,
      expressionAttributeNames: input.expressionAttributeNames,
    });
    const row = await this.store.itemGet({ tableId: table.id, key: encodeKey(table.definition, key) });
    if (!row) return {};
    const item = decodeItem(row.item);
    return { item: projection ? projection.project(item) : item };
  }

  // ---------------------------------------------------------------- reads

  async query(input: QueryInput): Promise<PageOutput> {
    const table = await this.require(input.tableName);
    const { definition } = table;
    const index = input.indexName === undefined ? undefined : readableIndex(definition, input.indexName);
    const keys = index ?? definition;
    const compiled = compileExpressions({
      keyConditionExpression: input.keyConditionExpression,
      filterExpression: input.filterExpression,
      projectionExpression: input.projectionExpression,
      expressionAttributeNames: input.expressionAttributeNames,
      expressionAttributeValues: input.expressionAttributeValues,
      keySchema: { partitionKey: keys.partitionKey.name, sortKey: keys.sortKey?.name },
    });
    if (index) {
      if (input.allAttributes) checkAllAttributes(index);
      return queryIndex(this.store, {
        allAttributes: input.allAttributes ?? false,
        definition,
        tableId: table.id,
        index,
        compiled,
        limit: validateLimit(input.limit),
        exclusiveStartKey: input.exclusiveStartKey,
        forward: input.scanIndexForward ?? true,
      });
    }
    const bounds = queryBounds(definition, compiled.keyCondition!);
    let startAfter: Buffer | null = null;
    if (input.exclusiveStartKey) {
      const start = encodeKey(
        definition,
        validateKey(definition, input.exclusiveStartKey, 'ExclusiveStartKey'),
      );
      if (!start.pk.equals(bounds.pk)) {
        throw new SluiceError(
          'ValidationException',
          'ExclusiveStartKey: The provided starting key is outside the query partition',
          {
            field: 'ExclusiveStartKey',
          },
        );
      }
      startAfter = start.sk;
    }
    const page = await this.store.itemQuery({
      tableId: table.id,
      ...bounds,
      startAfter,
      forward: input.scanIndexForward ?? true,
      limit: validateLimit(input.limit),
      maxBytes: tableLimits.maxPageBytes,
    });
    return shapePage(definition, page, compiled);
  }

  async scan(input: ScanInput): Promise<PageOutput> {
    const table = await this.require(input.tableName);
    const compiled = compileExpressions({
      filterExpression: input.filterExpression,
      projectionExpression: input.projectionExpression,
      expressionAttributeNames: input.expressionAttributeNames,
      expressionAttributeValues: input.expressionAttributeValues,
    });
    const segments = validateSegments(input.segment, input.totalSegments);
    if (input.indexName !== undefined) {
      if (segments)
        throw new SluiceError('ValidationException', 'Sluice does not scan an index in segments', {
          field: 'Segment',
        });
      const index = readableIndex(table.definition, input.indexName);
      return scanIndex(this.store, {
        definition: table.definition,
        tableId: table.id,
        index,
        compiled,
        limit: validateLimit(input.limit),
        exclusiveStartKey: input.exclusiveStartKey,
      });
    }
    const startAfter = input.exclusiveStartKey
      ? encodeKey(
          table.definition,
          validateKey(table.definition, input.exclusiveStartKey, 'ExclusiveStartKey'),
        )
      : null;
    const limit = validateLimit(input.limit);
    const page = segments
      ? await scanSegment(this.store, { tableId: table.id, startAfter, limit, ...segments })
      : await this.store.itemScan({
          tableId: table.id,
          startAfter,
          limit,
          maxBytes: tableLimits.maxPageBytes,
        });
    return shapePage(table.definition, page, compiled);
  }

  // ---------------------------------------------------------------- several items

  /** Up to 25 puts and deletes, each applied (no conditions); DynamoDB's BatchWriteItem. */
  async batchWriteItem(requests: BatchWriteRequest[], options: CollectionMetricsInput = {}): Promise<BatchWriteOutput> {
    checkCount('RequestItems', requests, tableLimits.maxBatchWrite);
    const planned: PlannedRequest[] = [];
    for (const request of requests) {
      const table = await this.require(request.tableName);
      planned.push(
        'put' in request
          ? planPut(table, { tableName: request.tableName, item: validateItem(request.put) })
          : planDelete(table, { tableName: request.tableName, key: request.delete }),
      );
    }
    checkDistinct(planned, 'Provided list of item keys contains duplicates');
    // Not a transaction, but a collection over its limit fails the whole call with DynamoDB's exception
    // and writes nothing: AWS documents the exception as BatchWriteItem's own error (UnprocessedItems is
    // for throughput and internal failures only), and says nothing of the other writes; a client that
    // gets an error cannot tell what was written, so none is.
    await this.writeAll(planned, false, undefined, false);
    const itemCollectionMetrics = await this.collectionMetricsOfWrites(
      requests.map((request, index) => ({
        tableName: request.tableName,
        table: planned[index]!.plan.table,
        item: 'put' in request ? request.put : request.delete,
      })),
      options,
    );
    return { unprocessedItems: [], ...(itemCollectionMetrics ? { itemCollectionMetrics } : {}) };
  }

  /**
   * Up to 100 keys over one or more tables, read as one snapshot; DynamoDB's BatchGetItem. Keys past 16 MB
   * of items come back as unprocessed.
   */
  async batchGetItem(requests: BatchGetRequest[]): Promise<BatchGetOutput> {
    const total = requests.reduce(
      (sum, request) => sum + (Array.isArray(request.keys) ? request.keys.length : 0),
      0,
    );
    if (total === 0 || total > tableLimits.maxBatchGet) {
      throw new SluiceError(
        'ValidationException',
        `RequestItems: ${total} keys; must hold 1 to ${tableLimits.maxBatchGet}`,
        { field: 'RequestItems' },
      );
    }
    const reads: PlannedRead[] = [];
    for (const request of requests) {
      const planned = await this.planReads(
        request.tableName,
        request.keys,
        request,
        'Provided list of item keys contains duplicates',
      );
      reads.push(...planned.map((read) => ({ ...read, request })));
    }
    const rows = await this.store.itemGetMany({
      keys: reads.map(({ table, key }) => ({ tableId: table.id, key })),
    });
    const output: BatchGetOutput = { responses: {}, unprocessedKeys: [] };
    const left = new Map<BatchGetRequest, Item[]>();
    let bytes = 0;
    reads.forEach((read, i) => {
      const request = read.request!;
      const found: Item[] = (output.responses[request.tableName] ??= []);
      if (bytes >= tableLimits.maxBatchGetBytes) {
        left.set(request, [...(left.get(request) ?? []), read.keyItem]);
        return;
      }
      const row = rows[i];
      if (!row) return;
      bytes += row.size;
      found.push(read.project(decodeItem(row.item)));
    });
    for (const [request, keys] of left) output.unprocessedKeys.push({ ...request, keys });
    return output;
  }

  /** Up to 100 gets of distinct items, read as one snapshot; DynamoDB's TransactGetItems. */
  async transactGetItems(gets: GetItemInput[]): Promise<Array<Item | undefined>> {
    checkCount('TransactItems', gets, tableLimits.maxTransactItems);
    const reads: PlannedRead[] = [];
    const seen = new Set<string>();
    for (const get of gets) {
      const [read] = await this.planReads(
        get.tableName,
        [get.key],
        get,
        'Transaction request cannot include multiple operations on one item',
      );
      const identity = `${read!.table.id}|${keyIdentity(read!.key)}`;
      if (seen.has(identity))
        throw new SluiceError(
          'ValidationException',
          'Transaction request cannot include multiple operations on one item',
        );
      seen.add(identity);
      reads.push(read!);
    }
    const rows = await this.store.itemGetMany({
      keys: reads.map(({ table, key }) => ({ tableId: table.id, key })),
    });
    return reads.map((read, i) => {
      const row = rows[i];
      return row ? read.project(decodeItem(row.item)) : undefined;
    });
  }

  /** Validated keys of one table, distinct, each with the projection to apply to its item. */
  private async planReads(
    tableName: string,
    keys: Item[],
    expressions: { projectionExpression?: string; expressionAttributeNames?: ExpressionAttributeNames },
    duplicateMessage: string,
  ): Promise<PlannedRead[]> {
    const table = await this.require(tableName);
    const { projection } = compileExpressions({
      projectionExpression: expressions.projectionExpression,
      expressionAttributeNames: expressions.expressionAttributeNames,
    });
    const project = projection ? (item: Item) => projection.project(item) : (item: Item) => item;
    const seen = new Set<string>();
    return keys.map((key) => {
      const keyItem = validateKey(table.definition, key);
      const encoded = encodeKey(table.definition, keyItem);
      const identity = keyIdentity(encoded);
      if (seen.has(identity)) throw new SluiceError('ValidationException', duplicateMessage);
      seen.add(identity);
      return { table, key: encoded, keyItem, project };
    });
  }

  /**
   * Up to 100 actions on distinct items, all applied or none; DynamoDB's TransactWriteItems. A
   * `clientRequestToken` makes a repeat within 10 minutes succeed without applying again (the same
   * actions) or fail with IdempotentParameterMismatchException (others). The token is kept in the store,
   * taken in the transaction that applies the actions (request-tokens.ts), so it holds cluster-wide.
   */
  async transactWriteItems(
    actions: TransactWriteAction[],
    options: { clientRequestToken?: string } & CollectionMetricsInput = {},
  ): Promise<TransactWriteOutput> {
    const token = options.clientRequestToken;
    let planned: PlannedRequest[];
    if (token === undefined) planned = await this.applyTransaction(actions);
    else {
      // A repeat while the first call with this token is still being applied here is refused, as DynamoDB
      // does (the store does the same across nodes).
      if (this.tokensInFlight.has(token)) throw transactionInProgress();
      this.tokensInFlight.add(token);
      try {
        planned = await this.applyTransaction(actions, requestTokenOf(token, actions, this.clock.now()));
      } finally {
        this.tokensInFlight.delete(token);
      }
    }
    const writes = actions.flatMap((action, index) => {
      const table = planned[index]!.plan.table;
      if ('put' in action) return [{ tableName: action.put.tableName, table, item: action.put.item }];
      if ('update' in action) return [{ tableName: action.update.tableName, table, item: action.update.key }];
      if ('delete' in action) return [{ tableName: action.delete.tableName, table, item: action.delete.key }];
      return [];
    });
    const itemCollectionMetrics = await this.collectionMetricsOfWrites(writes, options);
    return itemCollectionMetrics ? { itemCollectionMetrics } : {};
  }

  /** Applies the transaction; returns its planned writes (with the table definitions they were applied with). */
  private async applyTransaction(actions: TransactWriteAction[], requestToken?: RequestToken): Promise<PlannedRequest[]> {
    checkCount('TransactItems', actions, tableLimits.maxTransactItems);
    const planned: PlannedRequest[] = [];
    for (const action of actions) {
      if ('put' in action) planned.push(planPut(await this.require(action.put.tableName), action.put));
      else if ('update' in action)
        planned.push(planUpdate(await this.require(action.update.tableName), action.update));
      else if ('delete' in action)
        planned.push(planDelete(await this.require(action.delete.tableName), action.delete));
      else
        planned.push(
          planConditionCheck(await this.require(action.conditionCheck.tableName), action.conditionCheck),
        );
    }
    checkDistinct(planned, 'Transaction request cannot include multiple operations on one item');
    await this.writeAll(planned, false, requestToken);
    return planned;
  }

  // ---------------------------------------------------------------- internals

  private async writeOne(request: PlannedRequest): Promise<ItemOutput> {
    const [result] = await this.writeAll([request], true);
    const attributes = request.returned(result as WriteResult);
    return attributes ? { attributes } : {};
  }

  /** One store transaction for every planned write; a failed condition cancels all of them. */
  private async writeAll(
    requests: PlannedRequest[],
    single = false,
    requestToken?: RequestToken,
    transaction = !single,
  ): Promise<WriteResult[]> {
    const now = this.clock.now();
    let writes = requests.map((request) => toItemWrite(request.plan, now, this.collectionLimit));
    const write = () => this.store.itemWrite({ writes: writes.map((w) => w.write), now, ...(requestToken ? { requestToken } : {}) });
    let outcome = await write();
    // A table's indexes changed since its definition was cached: decide again with the stored one.
    while (outcome.outcome === 'tableChanged') {
      const changedId = outcome.tableId;
      const stale = requests.find((r) => r.plan.table.id === changedId)!.plan.table;
      this.cache.delete(stale.name);
      const fresh = await this.require(stale.name);
      if (fresh.id !== changedId) throw tableNotFound(stale.name);
      for (const request of requests) if (request.plan.table.id === changedId) request.plan.table = fresh;
      writes = requests.map((request) => toItemWrite(request.plan, now, this.collectionLimit));
      outcome = await write();
    }
    // The same request, applied before with this token: done, nothing applied again.
    if (outcome.outcome === 'replayed') return writes.map((w) => w.result);
    if (outcome.outcome === 'tokenMismatch') throw tokenMismatch();
    if (outcome.outcome === 'tokenInProgress') throw transactionInProgress();
    if (outcome.outcome === 'tableGone') {
      const gone = requests.find((r) => r.plan.table.id === outcome.tableId)!.plan.table.name;
      this.cache.delete(gone);
      throw tableNotFound(gone);
    }
    if (outcome.outcome === 'collectionTooLarge') {
      if (!transaction) throw itemCollectionTooLarge(this.collectionLimit);
      throw new TransactionCanceled(
        requests.map((_, index) =>
          index === outcome.index
            ? { code: 'ItemCollectionSizeLimitExceeded' as const, message: itemCollectionTooLarge(this.collectionLimit).message }
            : { code: 'None' as const },
        ),
      );
    }
    if (outcome.outcome === 'cancelled') {
      if (single) {
        const [request] = requests as [PlannedRequest];
        throw new ConditionalCheckFailed(request.returnOldOnFailure ? writes[0]!.result.old : undefined);
      }
      throw new TransactionCanceled(
        outcome.reasons.map((reason, index) => {
          if (reason === null) return { code: 'None' as const };
          const item = requests[index]!.returnOldOnFailure ? writes[index]!.result.old : undefined;
          return {
            code: 'ConditionalCheckFailed' as const,
            message: 'The conditional request failed',
            ...(item ? { item } : {}),
          };
        }),
      );
    }
    for (const { write, result } of writes) {
      const table = requests.find((r) => r.plan.table.id === write.tableId)!.plan.table;
      const expiresAt = result.new ? expiresAtOf(table, result.new, now) : null;
      if (expiresAt !== null) this.ttl.noteExpiry(table.id, expiresAt);
    }
    for (const record of outcome.records) this.trimmer.noteRecord(record.tableId, now);
    return writes.map((w) => w.result);
  }

  private describe(table: StoredTable): TableDescription {
    const { definition } = table;
    const description: TableDescription = {
      tableName: table.name,
      tableArn: tableArn(this.arnContext, table.name),
      tableId: table.id,
      partitionKey: definition.partitionKey,
      createdAt: table.createdAt,
    };
    if (definition.sortKey) description.sortKey = definition.sortKey;
    if (definition.ttlAttribute !== null) description.ttlAttribute = definition.ttlAttribute;
    if (definition.capacity) description.capacity = { ...definition.capacity };
    if (definition.tags) description.tags = { ...definition.tags };
    if (definition.indexes) description.indexes = definition.indexes.map((index) => ({ ...index }));
    if (definition.stream) {
      description.stream = {
        viewType: definition.stream.viewType,
        streamArn: this.streamArnOf(table)!,
        streamLabel: definition.stream.label,
        shardCount: definition.shardCount,
      };
    }
    return description;
  }
}

interface PlannedRead {
  table: StoredTable;
  key: EncodedKey;
  keyItem: Item;
  project: (item: Item) => Item;
  request?: BatchGetRequest;
}

function checkCount(field: string, list: unknown[], max: number): void {
  if (!Array.isArray(list) || list.length === 0 || list.length > max) {
    throw new SluiceError(
      'ValidationException',
      `${field}: ${Array.isArray(list) ? list.length : 'no'} entries; must hold 1 to ${max}`,
      {
        field,
      },
    );
  }
}

function checkDistinct(requests: PlannedRequest[], message: string): void {
  const seen = new Set<string>();
  for (const { plan } of requests) {
    const identity = `${plan.table.id}|${keyIdentity(plan.key)}`;
    if (seen.has(identity)) throw new SluiceError('ValidationException', message);
    seen.add(identity);
  }
}
