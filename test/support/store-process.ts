/**
 * Spawns test/fixtures/store-process.ts (another process on a shared store) and follows its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const tsxLoader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const fixture = fileURLToPath(new URL('../fixtures/store-process.ts', import.meta.url));

export interface StoreProcess {
  child: ChildProcess;
  /** Every line printed so far, in order. */
  lines: string[];
  /** Resolves once a line satisfies `match` (at once if one already has); rejects if the process exits first. */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then the exit. */
  stop(): Promise<void>;
}

export async function startStoreProcess(role: string, args: string[]): Promise<StoreProcess> {
  const child = spawn(process.execPath, ['--import', tsxLoader, fixture, role, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const watchers = new Set<() => void>();
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      for (const w of [...watchers]) w();
      resolve();
    }),
  );
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...watchers]) w();
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    process.stderr.write(`[${role}] ${line}\n`);
  });
  const waitFor = (match: (line: string) => boolean, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found !== undefined) return done(() => resolve(found));
        if (exited) done(() => reject(new Error(`${role} exited first:\n${stderr.join('\n')}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${role}: no such line in ${timeoutMs} ms`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        watchers.delete(check);
        settle();
      };
      watchers.add(check);
      check();
    });
  const process_: StoreProcess = {
    child,
    lines,
    waitFor,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
  await waitFor((line) => line === 'ready');
  return process_;
}
