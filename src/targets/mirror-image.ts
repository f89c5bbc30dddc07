// The mirror as a local Docker image (`docker import` of its files), so a `--network none` BuildKit
// build can mount it with `RUN --mount=type=bind,from=IMAGE`. Tagged by a hash of the mirror's file
// list (path, size, mtime, mode): an unchanged mirror is imported once and reused.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DibPypiError } from '../errors.js';
import type { EnvMap } from '../plan/types.js';
import { dockerEnv, dockerOutput } from './docker-cli.js';

export const MIRROR_IMAGE_REPO = 'dib-pypi-mirror';
/** The label every mirror image carries: a hash of the mirror's host path, to drop the stale ones. */
export const MIRROR_LABEL = 'dib-pypi.mirror';
/** dib-pypi's own state in a mirror (manifest, locks, quarantine): not part of the index. */
const STATE_DIR = '.dib-pypi';

/** Every entry of the mirror, sorted, as `path size mtime mode` lines. */
function listing(mirror: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string) => {
    const names = readdirSync(join(mirror, rel)).sort();
    for (const name of names) {
      if (rel === '' && name === STATE_DIR) continue;
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(mirror, path), { bigint: true });
      lines.push(`${path}\t${st.size}\t${st.mtimeNs}\t${st.mode}\t${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return lines;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** `dib-pypi-mirror:<16 hex>` for the mirror as it is now. */
export function mirrorImageTag(mirror: string): string {
  return `${MIRROR_IMAGE_REPO}:${shortHash(listing(mirror).join('\n'))}`;
}

function imageExists(docker: string, tag: string, env: EnvMap): boolean {
  try {
    dockerOutput(docker, ['image', 'inspect', '--format', '{{.Id}}', tag], env);
    return true;
  } catch {
    return false;
  }
}

/** tar of the mirror (without .dib-pypi/) piped into `docker import`. */
function importMirror(docker: string, mirror: string, tag: string, label: string, env: EnvMap): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['--numeric-owner', '-C', mirror, `--exclude=./${STATE_DIR}`, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const imp = spawn(docker, ['import', '--change', `LABEL ${MIRROR_LABEL}=${label}`, '-', tag], { stdio: ['pipe', 'ignore', 'pipe'], env: dockerEnv(env) });
    tar.stdout.pipe(imp.stdin);
    let errors = '';
    tar.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    imp.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    let tarCode: number | null = null;
    tar.on('error', reject);
    imp.on('error', reject);
    tar.on('close', (code) => (tarCode = code));
    imp.on('close', (code) => {
      if (code === 0 && tarCode === 0) resolve();
      else reject(new DibPypiError(`cannot import the mirror ${mirror} as the image ${tag}: ${errors.trim() || `tar exit ${tarCode}, docker import exit ${code}`}`));
    });
  });
}

/**
 * The mirror's image, imported when the mirror changed since the last import; older images of the
 * same mirror are removed then. Returns the tag.
 */
export async function ensureMirrorImage(docker: string, mirror: string, env: EnvMap, onProgress: (line: string) => void): Promise<string> {
  const tag = mirrorImageTag(mirror);
  if (imageExists(docker, tag, env)) return tag;
  const label = shortHash(mirror);
  onProgress(`importing the mirror ${mirror} as the image ${tag} (once per change of the mirror)`);
  await importMirror(docker, mirror, tag, label, env);
  const stale = dockerOutput(docker, ['image', 'ls', '--filter', `label=${MIRROR_LABEL}=${label}`, '--format', '{{.Repository}}:{{.Tag}}'], env)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== tag && line.startsWith(`${MIRROR_IMAGE_REPO}:`));
  if (stale.length > 0) {
    try {
      dockerOutput(docker, ['image', 'rm', ...stale], env);
    } catch {
      // still in use by a running build: left for the next time
    }
  }
  return tag;
}
