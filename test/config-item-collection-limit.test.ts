/**
 * `node.itemCollectionLimitBytes`: a node started with a small item collection limit refuses, through the
 * DynamoDB endpoint, a write that would grow a collection of a table with local indexes past it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeLogger } from '../src/api/logger.js';
import { startNode } from '../src/api/node.js';
import { validateConfig } from '../src/config/schema.js';
import { sdkFailure } from './support/sdk-failure.js';

describe('node.itemCollectionLimitBytes', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'sluice-collection-limit-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('is refused outside 1 byte to 10 GB', () => {
    expect(() => validateConfig({ node: { itemCollectionLimitBytes: 0 } }, 'test')).toThrow(
      /node\.itemCollectionLimitBytes: must be an integer from 1 to 10737418240 bytes \(got 0\)/,
    );
  });

  it('limits the collections of tables with local indexes on the node', async () => {
    const configPath = join(cwd, 'sluice.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        node: { itemCollectionLimitBytes: 2000 },
        tables: {
          threads: {
            partitionKey: { name: 'forum', type: 'S' },
            sortKey: { name: 'subject', type: 'S' },
            indexes: { byPost: { local: true, sortKey: { name: 'lastPost', type: 'S' } } },
          },
        },
      }),
    );
    const logger = createNodeLogger({ level: 'silent', destination: { write: () => true } as never });
    const node = await startNode({ store: 'sqlite::memory:', cwd, configPath, port: 0, insecureDev: true, prune: false, env: {}, logger });
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: node.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 }),
    );
    try {
      const put = (subject: string) =>
        doc.send(new PutCommand({ TableName: 'threads', Item: { forum: 'S3', subject, lastPost: 'p', note: 'x'.repeat(400) } }));
      await put('a'); // each item counts twice (itself and its ALL-projected local index entry): ~900 bytes
      await put('b');
      const refused = await sdkFailure(put('c'));
      expect(refused.name).toBe('ItemCollectionSizeLimitExceededException');
      expect(refused.message).toContain('maximum limit of 2000 bytes');
    } finally {
      doc.destroy();
      await node.close();
    }
  });
});
