/** Runs `sluice <args>` in-process (the same program the bin builds) against a node, capturing stdout, stderr and the exit status. */
import { vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { TEST_TOKEN, type TestNode } from './in-process-node.js';

export async function runCliInProcess(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const program = buildProgram().exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(['--endpoint', url, '--token', TEST_TOKEN, ...args], { from: 'user' });
  } catch (error) {
    stderr += String((error as Error).message);
    process.exitCode = 1;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}

/** The same, against a test node. */
export function sluiceInProcess(node: TestNode, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliInProcess(node.url, ...args);
}
