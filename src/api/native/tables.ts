/**
 * /v1/tables: list and describe tables, put and get items, query and scan, over the table library.
 * Tables themselves are declared in the config file or created through the DynamoDB endpoint.
 */
import type { FastifyInstance } from 'fastify';
import type { Item } from '../../tables/expressions/index.js';
import { decodeItem, encodeItem } from '../../tables/item-codec.js';
import type { PageOutput } from '../../tables/types.js';
import {
  definedOnly,
  pathParam,
  readBody,
  type NativeContext,
  type NativeRouteModule,
} from './route-module.js';
import { tableRequests } from './schemas/tables.js';

/** A JSON map from the wire, with the store's tags for binary values and sets decoded. */
function fromWire(map: Record<string, unknown>): Item {
  return decodeItem(JSON.stringify(map));
}

function toWire(item: Item): Record<string, unknown> {
  return JSON.parse(encodeItem(item)) as Record<string, unknown>;
}

function optionalMap(map: Record<string, unknown> | undefined): Item | undefined {
  return map === undefined ? undefined : fromWire(map);
}

function pageToWire(page: PageOutput): object {
  return {
    items: page.items.map(toWire),
    count: page.count,
    scannedCount: page.scannedCount,
    ...(page.lastEvaluatedKey ? { lastEvaluatedKey: toWire(page.lastEvaluatedKey) } : {}),
  };
}

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const { tables } = sluice;

  app.get('/tables', async () => {
    const names = await tables.listTables();
    return { tables: await Promise.all(names.sort().map((name) => tables.describeTable(name))) };
  });
  app.get('/tables/:name', async (request) => ({
    table: await tables.describeTable(pathParam(request, 'name'), { counts: true }),
  }));
  app.post('/tables/:name/items', async (request) => {
    const input = readBody(request, tableRequests.put);
    await tables.putItem(
      definedOnly({
        tableName: pathParam(request, 'name'),
        item: fromWire(input.item),
        conditionExpression: input.conditionExpression,
        expressionAttributeNames: input.expressionAttributeNames,
        expressionAttributeValues: optionalMap(input.expressionAttributeValues),
      }),
    );
    return {};
  });
  app.post('/tables/:name/get', async (request) => {
    const input = readBody(request, tableRequests.get);
    const { item } = await tables.getItem(
      definedOnly({
        tableName: pathParam(request, 'name'),
        key: fromWire(input.key),
        projectionExpression: input.projectionExpression,
        expressionAttributeNames: input.expressionAttributeNames,
      }),
    );
    return item ? { item: toWire(item) } : {};
  });
  // Query and scan take the same paging members, decoded the same way.
  const read = (kind: 'query' | 'scan') =>
    app.post(`/tables/:name/${kind}`, async (request) => {
      const input = readBody(request, kind === 'query' ? tableRequests.query : tableRequests.scan);
      const params = definedOnly({
        ...input,
        tableName: pathParam(request, 'name'),
        expressionAttributeValues: optionalMap(input.expressionAttributeValues),
        exclusiveStartKey: optionalMap(input.exclusiveStartKey),
      });
      return pageToWire(
        kind === 'query'
          ? await tables.query(params as Parameters<typeof tables.query>[0])
          : await tables.scan(params),
      );
    });
  read('query');
  read('scan');
}

export const tableRoutes: NativeRouteModule = { name: 'tables', register };
