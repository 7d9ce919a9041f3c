/** The AWS CLI, for the tests that drive a node with it when this machine has it (they skip otherwise). */
import { execFile, execFileSync } from 'node:child_process';

export const hasAwsCli = (() => {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Runs `aws <service> --endpoint-url <url> <args...>` with the given credentials, in us-east-1. */
export function runAws(
  params: { url: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  service: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: params.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: params.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
  };
  return new Promise((resolve) =>
    execFile('aws', [service, '--endpoint-url', params.url, ...args], { env }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}
