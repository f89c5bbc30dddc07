// pip's output lines -> progress events, and the one-line reason of a failure. Pure.
// Line shapes read from pip 23.0/23.2 (`pip/_internal/operations/prepare.py`, `commands/download.py`, `commands/wheel.py`).

export type PipEvent =
  /** `Collecting demo.pkg[fancy]`, `Collecting dep-lib>=1 (from demo.pkg)` (pip 23.2 adds the `from`). */
  | { kind: 'collecting'; requirement: string }
  /** `  Downloading http://.../x.whl (1.2 MB)`; `Processing ./x.whl` for file:// indexes and --find-links. */
  | { kind: 'downloading'; file: string; size?: string }
  /** `Saved /tmp/.../x.whl`, `  File was already downloaded /tmp/.../x.whl`. */
  | { kind: 'saved'; file: string }
  /** `  Building wheel for tiny-sdist (pyproject.toml): started`. */
  | { kind: 'building'; project: string }
  /** `  Created wheel for tiny-sdist: filename=tiny_sdist-0.1-py3-none-any.whl size=...`. */
  | { kind: 'built'; file: string };

function baseName(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  return decodeURIComponent(cut === -1 ? trimmed : trimmed.slice(cut + 1));
}

function safeBaseName(path: string): string {
  try {
    return baseName(path);
  } catch {
    return path.trim();
  }
}

/** The event one line of pip's output stands for, or undefined for every other line. */
export function parsePipLine(line: string): PipEvent | undefined {
  let m = /^Collecting (.+?)(?: \(from .*\))?$/.exec(line);
  if (m) return { kind: 'collecting', requirement: m[1] as string };
  m = /^\s+Downloading (\S+)(?: \((.+)\))?$/.exec(line) ?? /^Processing (\S+)(?: \(from .*\))?$/.exec(line);
  if (m)
    return m[2] === undefined
      ? { kind: 'downloading', file: safeBaseName(m[1] as string) }
      : { kind: 'downloading', file: safeBaseName(m[1] as string), size: m[2] };
  m = /^Saved (.+)$/.exec(line) ?? /^\s+File was already downloaded (.+)$/.exec(line);
  if (m) return { kind: 'saved', file: safeBaseName(m[1] as string) };
  m = /^\s+Building wheel for (\S+) \(.*\): started$/.exec(line);
  if (m) return { kind: 'building', project: m[1] as string };
  m = /^\s+Created wheel for \S+: filename=(\S+)/.exec(line);
  if (m) return { kind: 'built', file: m[1] as string };
  return undefined;
}

/**
 * Why pip failed, in one line: its last `ERROR:` line (pip's verdict, e.g. `No matching distribution
 * found for x`), else its last `error:` line (a build backend's) and the requirement pip was working on.
 */
export function pipFailureReason(lines: readonly string[]): string {
  const last = (pattern: RegExp) =>
    [...lines]
      .reverse()
      .map((l) => pattern.exec(l)?.[1])
      .find((x) => x !== undefined);
  // pip's own verdicts name the requirement (`No matching distribution found for x`, `Package 'x' requires a different Python`).
  const verdict = last(/^ERROR: (.+)$/);
  if (verdict !== undefined) return verdict;
  const event = [...lines]
    .reverse()
    .map(parsePipLine)
    .find((e) => e?.kind === 'collecting' || e?.kind === 'downloading' || e?.kind === 'building');
  const working =
    event === undefined
      ? undefined
      : event.kind === 'collecting'
        ? event.requirement
        : event.kind === 'downloading'
          ? event.file
          : event.kind === 'building'
            ? event.project
            : undefined;
  // A build backend's `error:` does not say which distribution it was building.
  const backend = last(/^error: (.+)$/);
  if (backend === undefined) return working === undefined ? 'pip printed no error' : `while working on ${working}`;
  return working === undefined ? backend : `${backend} (while working on ${working})`;
}
