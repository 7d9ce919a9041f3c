/**
 * `sluice tables list|describe|put|get|query|scan`: tables and their items over the native API. Items
 * and keys are JSON (binary values and sets as the native API's tags, `{"$SS": [...]}`); without
 * `--json`, items print as a table with one column per attribute.
 */
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, commandContext, integerOption } from '../context.js';
import { formatPairs, formatTable } from '../table.js';

interface TableView {
  tableName: string;
  tableArn: string;
  partitionKey: { name: string; type: string };
  sortKey?: { name: string; type: string };
  stream?: { viewType: string; streamArn: string };
  ttlAttribute?: string;
}
type JsonItem = Record<string, unknown>;
interface Page {
  items: JsonItem[];
  count: number;
  scannedCount: number;
  lastEvaluatedKey?: JsonItem;
}

function parseJson(text: string, what: string): JsonItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${what} must be a JSON object (got ${text.slice(0, 60)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object`);
  return value as JsonItem;
}

const cellOf = (value: unknown) =>
  typeof value === 'object' && value !== null
    ? JSON.stringify(value)
    : (value as string | number | boolean | null | undefined);

function itemTable(items: JsonItem[]): string {
  const names = [...new Set(items.flatMap((item) => Object.keys(item)))];
  return formatTable(
    items,
    names.map((name) => ({ header: name, value: (item: JsonItem) => cellOf(item[name]) })),
  );
}

function pageText(page: Page): string {
  const more = page.lastEvaluatedKey ? `\nmore: --start '${JSON.stringify(page.lastEvaluatedKey)}'` : '';
  return `${itemTable(page.items)}\n(${page.count} of ${page.scannedCount} read)${more}`;
}

interface ReadOptions {
  filter?: string;
  projection?: string;
  names?: string;
  values?: string;
  limit?: number;
  start?: string;
}

function readOptions(options: ReadOptions): JsonItem {
  return {
    ...(options.filter !== undefined ? { filterExpression: options.filter } : {}),
    ...(options.projection !== undefined ? { projectionExpression: options.projection } : {}),
    ...(options.names !== undefined ? { expressionAttributeNames: parseJson(options.names, '--names') } : {}),
    ...(options.values !== undefined
      ? { expressionAttributeValues: parseJson(options.values, '--values') }
      : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.start !== undefined ? { exclusiveStartKey: parseJson(options.start, '--start') } : {}),
  };
}

function withReadOptions(command: Command): Command {
  return command
    .option('--filter <expression>', 'FilterExpression')
    .option('--projection <expression>', 'ProjectionExpression')
    .option('--names <json>', 'ExpressionAttributeNames, e.g. \'{"#s": "status"}\'')
    .option('--values <json>', 'ExpressionAttributeValues as plain JSON, e.g. \'{":p": "task-1"}\'')
    .option('--limit <n>', 'items read per page', integerOption('--limit', 1, 1_000_000_000))
    .option('--start <json>', 'ExclusiveStartKey: the key printed after "more:"');
}

export function registerTables(program: Command): void {
  const tables = program.command('tables').description('Tables and their items (DynamoDB semantics).');
  tables
    .command('list')
    .description('Every table with its key schema and stream.')
    .action(
      action(async (_options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ tables: TableView[] }>('/v1/tables');
        context.print(result, () =>
          formatTable(result.tables, [
            { header: 'name', value: (t) => t.tableName },
            { header: 'partition key', value: (t) => `${t.partitionKey.name} (${t.partitionKey.type})` },
            { header: 'sort key', value: (t) => (t.sortKey ? `${t.sortKey.name} (${t.sortKey.type})` : '-') },
            { header: 'stream', value: (t) => t.stream?.viewType ?? '-' },
            { header: 'ttl', value: (t) => t.ttlAttribute ?? '-' },
          ]),
        );
      }),
    );
  tables
    .command('describe <table>')
    .description("A table's definition: keys, stream, TTL, capacity, tags.")
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ table: TableView }>(`/v1/tables/${segment(name)}`);
        context.print(result, () => formatPairs(result.table as unknown as Record<string, unknown>));
      }),
    );
  tables
    .command('put <table> <item>')
    .description('Write an item (JSON), optionally under a condition.')
    .option('--condition <expression>', 'ConditionExpression')
    .option('--names <json>', 'ExpressionAttributeNames')
    .option('--values <json>', 'ExpressionAttributeValues as plain JSON')
    .action(
      action(
        async (
          name: string,
          item: string,
          options: { condition?: string; names?: string; values?: string },
          command: Command,
        ) => {
          const context = commandContext(command);
          const result = await context.client.post<object>(`/v1/tables/${segment(name)}/items`, {
            item: parseJson(item, 'the item'),
            ...(options.condition !== undefined ? { conditionExpression: options.condition } : {}),
            ...(options.names !== undefined
              ? { expressionAttributeNames: parseJson(options.names, '--names') }
              : {}),
            ...(options.values !== undefined
              ? { expressionAttributeValues: parseJson(options.values, '--values') }
              : {}),
          });
          context.print(result, () => 'written');
        },
      ),
    );
  tables
    .command('get <table> <key>')
    .description('Read one item by its key (JSON); exit status 1 when there is none.')
    .option('--projection <expression>', 'ProjectionExpression')
    .action(
      action(async (name: string, key: string, options: { projection?: string }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ item?: JsonItem }>(`/v1/tables/${segment(name)}/get`, {
          key: parseJson(key, 'the key'),
          ...(options.projection !== undefined ? { projectionExpression: options.projection } : {}),
        });
        context.print(result, () => (result.item ? formatPairs(result.item) : '(no item)'));
        if (!result.item) process.exitCode = 1;
      }),
    );
  withReadOptions(
    tables
      .command('query <table> <keyCondition>')
      .description(
        "One partition's items: `sluice tables query tasks 'pk = :p' --values '{\":p\": \"t-1\"}'`.",
      )
      .option('--desc', 'descending sort-key order (ScanIndexForward false)'),
  ).action(
    action(
      async (
        name: string,
        keyCondition: string,
        options: ReadOptions & { desc?: boolean },
        command: Command,
      ) => {
        const context = commandContext(command);
        const result = await context.client.post<Page>(`/v1/tables/${segment(name)}/query`, {
          keyConditionExpression: keyCondition,
          ...(options.desc ? { scanIndexForward: false } : {}),
          ...readOptions(options),
        });
        context.print(result, () => pageText(result));
      },
    ),
  );
  withReadOptions(
    tables.command('scan <table>').description('Every item in key order, one page at a time.'),
  ).action(
    action(async (name: string, options: ReadOptions, command: Command) => {
      const context = commandContext(command);
      const result = await context.client.post<Page>(
        `/v1/tables/${segment(name)}/scan`,
        readOptions(options),
      );
      context.print(result, () => pageText(result));
    }),
  );
}
