/**
 * Starts test/fixtures/cluster-node.ts as a child process with a node spec (see that file) and resolves
 * once the node says it is ready. The cluster chaos tests kill, stop and resume these processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const fixture = new URL('../fixtures/cluster-node.ts', import.meta.url).pathname;

export interface RunningNode {
  id: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The first 200 lines the node wrote to stderr, for failure messages. */
  stderr: string[];
}

export function startClusterNode(spec: { nodeId: string } & Record<string, unknown>): Promise<RunningNode> {
  const id = spec.nodeId;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, SLUICE_NODE_SPEC: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.length < 200 && stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node ${id} did not start:\n${stderr.join('\n')}`)),
      30_000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (process.env.SLUICE_NODE_DEBUG && line.includes('"debug"')) console.log(line);
      if (line.includes('"ready"')) {
        clearTimeout(timer);
        resolve({ id, child, exited, stderr });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${id} exited with ${code}:\n${stderr.join('\n')}`));
    });
  });
}
