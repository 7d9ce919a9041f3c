/**
 * Code packages on their own: Lambda's handler names, the handler's file in a package (Lambda's
 * extension order), the limits, and the node-local extraction (once per SHA-256, checked against it).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { zipClaiming, zipOf } from '../testkit/zip.js';
import { decodeZipFile, extractCodePackage, handlerFile, inspectCodePackage, parseHandlerName } from './code-package.js';

describe('code packages', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reads handler names as Lambda does: the module up to the first dot after the last slash', () => {
    expect(parseHandlerName('index.handler')).toEqual({ module: 'index', exportName: 'handler' });
    expect(parseHandlerName('src/app.v2/main.run')).toEqual({ module: 'src/app.v2/main', exportName: 'run' });
    for (const bad of ['index', 'index.', '.handler', 'src/.handler']) expect(() => parseHandlerName(bad), bad).toThrow(/not a Node.js handler/);
  });

  it('finds the handler file with .js first, then .mjs, then .cjs', () => {
    expect(handlerFile(['index.cjs', 'index.mjs'], 'index.handler')).toBe('index.mjs');
    expect(handlerFile(['index.cjs', 'index.js'], 'index.handler')).toBe('index.js');
    expect(handlerFile(['lib/a.cjs'], 'lib/a.go')).toBe('lib/a.cjs');
    expect(handlerFile(['other.js'], 'index.handler')).toBeUndefined();
  });

  it('reports the digest and size Lambda reports, and refuses what Lambda refuses', () => {
    const zip = zipOf({ 'index.js': 'exports.handler = () => 1', 'dir/': '' });
    expect(inspectCodePackage(zip)).toEqual({
      sha256Hex: createHash('sha256').update(zip).digest('hex'),
      codeSha256: createHash('sha256').update(zip).digest('base64'),
      codeSize: zip.length,
      files: ['index.js'],
    });
    expect(() => inspectCodePackage(zipClaiming({ 'index.js': 'x' }, 262_144_001))).toThrow('Unzipped size must be smaller than 262144000 bytes');
    expect(() => inspectCodePackage(Buffer.from('nope'))).toThrow(/Could not unzip uploaded file/);
    expect(() => decodeZipFile('not base64!', 'CreateFunction')).toThrow(/not base64/);
    expect(() => decodeZipFile(Buffer.alloc(52_428_801).toString('base64'), 'UpdateFunctionCode')).toThrow(
      'Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation',
    );
  });

  it('extracts a package once under its SHA-256, and refuses bytes that are not that package', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-code-unit-'));
    dirs.push(root);
    const zip = zipOf({ 'index.js': 'one', 'lib/deep/file.txt': 'two' });
    const sha = createHash('sha256').update(zip).digest('hex');
    const [first, second] = await Promise.all([extractCodePackage(root, sha, zip), extractCodePackage(root, sha, zip)]);
    expect(first).toBe(join(root, sha));
    expect(second).toBe(first);
    expect(readFileSync(join(first, 'lib/deep/file.txt'), 'utf8')).toBe('two');
    expect(readdirSync(root)).toEqual([sha]);
    await expect(extractCodePackage(root, 'f'.repeat(64), zip)).rejects.toThrow(/SHA-256/);
  });
});
