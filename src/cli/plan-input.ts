// The CLI's edge for plans: read flags, process.env and the .env file into a Plan.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { buildPlan } from '../plan/build-plan.js';
import type { EnvMap, Plan, PlanFlags } from '../plan/types.js';

export interface SharedFlags {
  mirrorUrl?: string[];
  offline?: boolean;
  noPypi?: boolean;
  retries?: string;
  envFile?: string;
}

/** `--env-file PATH` must be readable; `./.env` is read when present (dotenv is loaded only then). */
export async function readDotenv(envFile: string | undefined, cwd: string): Promise<{ vars: EnvMap; path?: string }> {
  const path = envFile !== undefined ? resolve(cwd, envFile) : resolve(cwd, '.env');
  if (envFile === undefined && !existsSync(path)) return { vars: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      envFile !== undefined ? '--env-file' : '.env',
    );
  }
  const { parse } = await import('dotenv');
  return { vars: parse(text), path };
}

export function planFlagsOf(flags: SharedFlags): PlanFlags {
  return { mirrorUrls: flags.mirrorUrl ?? [], offline: flags.offline === true, noPypi: flags.noPypi === true, retries: flags.retries };
}

/** flags > env > .env -> Plan. */
export async function planFromCli(flags: SharedFlags, env: EnvMap, cwd: string): Promise<Plan> {
  const dotenv = await readDotenv(flags.envFile, cwd);
  return buildPlan({ flags: planFlagsOf(flags), env, dotenv: dotenv.vars, dotenvPath: dotenv.path });
}
