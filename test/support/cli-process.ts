/**
 * Runs the real `sluice` CLI (src/cli/main.ts through tsx) as child processes: a node with `start`, and
 * one-shot client commands.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const tsxLoader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const cliMain = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  url: string;
  /** Log lines (JSON) seen so far. */
  logs: string[];
  exited: Promise<number | null>;
}

export function startNodeProcess(params: { args: string[]; cwd: string; env: NodeJS.ProcessEnv }): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, 'start', ...params.args], {
    cwd: params.cwd,
    env: { ...process.env, ...params.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the node did not start:\n${logs.join('\n')}`)), 20_000);
    const onLine = (line: string) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { url?: string; msg?: string };
        if (entry.url && entry.msg?.startsWith('Sluice listening')) {
          clearTimeout(timer);
          resolve({ child, url: entry.url, logs, exited });
        }
      } catch {
        // handler output and other non-JSON lines
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the node exited with ${code}:\n${logs.join('\n')}`));
    });
  });
}

export function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', tsxLoader, cliMain, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}
