// Run the real dib-pypi binary (the compiled CLI) as a user would.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/dib-pypi.cjs', import.meta.url));

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no DIB_*, PYPI_* or PIP_* from the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(DIB_|PYPI_|PIP_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, ['--', BIN, ...args], {
    env: options.env ?? cleanEnv(),
    cwd: options.cwd,
    encoding: 'utf8',
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** As runCli, without blocking the event loop: for tests that serve HTTP from this process while the CLI runs. */
export function runCliAsync(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--', BIN, ...args], { env: options.env ?? cleanEnv(), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}
