/**
 * The CLI's pieces that need no running node: the table formatter, message attribute options, and the
 * project `sluice init` scaffolds (its config loads, applies, and its handler processes orders).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scaffold } from '../src/cli/commands/init.js';
import { parseMessageAttribute } from '../src/cli/commands/messages.js';
import { buildProgram } from '../src/cli/main.js';
import { formatTable } from '../src/cli/table.js';
import { applyConfig } from '../src/config/apply.js';
import { loadConfigFile } from '../src/config/load.js';
import { Sluice } from '../src/engine/sluice.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the table formatter', () => {
  it('aligns columns, numbers to the right, and cuts long cells', () => {
    const text = formatTable(
      [
        { name: 'orders', visible: 12, body: 'x'.repeat(100) },
        { name: 'a', visible: 3, body: 'short' },
      ],
      [
        { header: 'name', value: (r) => r.name },
        { header: 'visible', value: (r) => r.visible },
        { header: 'body', value: (r) => r.body, max: 10 },
      ],
    );
    expect(text.split('\n')).toEqual(['NAME    VISIBLE  BODY', 'orders       12  xxxxxxxxx…', 'a             3  short']);
    expect(formatTable([], [{ header: 'x', value: () => 1 }])).toBe('(none)');
  });
});

describe('command-line options', () => {
  it('reads message attributes as name=value, name:Number=value and name:Binary=base64', () => {
    expect(parseMessageAttribute('kind=order')).toEqual(['kind', { dataType: 'String', stringValue: 'order' }]);
    expect(parseMessageAttribute('n:Number=4=2')).toEqual(['n', { dataType: 'Number', stringValue: '4=2' }]);
    expect(parseMessageAttribute('b:Binary=AAE=')).toEqual(['b', { dataType: 'Binary', binaryValue: 'AAE=' }]);
    expect(() => parseMessageAttribute('novalue')).toThrow('expected name=value');
  });

  it('offers --help on every command', () => {
    const program = buildProgram();
    const walk = (command: typeof program): string[] => [command.name(), ...command.commands.flatMap(walk)];
    const names = walk(program);
    expect(names).toEqual(expect.arrayContaining(['start', 'init', 'queues', 'list', 'create', 'delete', 'purge', 'redrive', 'send', 'receive', 'invoke', 'functions', 'triggers', 'enable', 'disable', 'metrics']));
    for (const command of program.commands) expect(command.helpInformation()).toContain('--help');
  });
});

describe('sluice init', () => {
  it('scaffolds a config whose handler processes orders and reports the failing one', async () => {
    const project = join(dir, 'app');
    expect(scaffold(project).sort()).toEqual(['.env', '.gitignore', 'handlers/process-order.ts', 'orders.jsonl', 'sluice.config.ts']);
    expect(readFileSync(join(project, '.env'), 'utf8')).toMatch(/^SLUICE_TOKENS=[0-9a-f]{48}$/m);
    expect(() => scaffold(project)).toThrow('is not empty');
    const loaded = await loadConfigFile(join(project, 'sluice.config.ts'));
    const sluice = await Sluice.open({ store: 'sqlite::memory:' });
    try {
      await applyConfig({ sluice, config: loaded.config, baseDir: loaded.baseDir, prune: false });
      const lines = readFileSync(join(project, 'orders.jsonl'), 'utf8').trim().split('\n');
      await sluice.queues.sendBatch('orders', lines.slice(0, 10).map((body, i) => ({ id: `o${i}`, body })));
      for (let i = 0; i < 200; i++) {
        const counts = await sluice.queues.counts('orders');
        if (counts.visible === 0 && counts.inFlight === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const metrics = sluice.triggers.metrics(sluice.triggers.list()[0]!.uuid);
      expect(metrics.records).toBe(10);
      expect(metrics.failedRecords).toBe(1);
    } finally {
      await sluice.close();
    }
  });
});
