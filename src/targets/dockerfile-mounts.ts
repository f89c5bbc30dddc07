// Add BuildKit `--mount=` flags to every RUN instruction of a Dockerfile's text. Pure.
//
// The Dockerfile grammar of BuildKit's built-in frontend (moby/buildkit frontend/dockerfile/parser):
// parser directives (`# escape=`, `# syntax=`) only at the very top; an instruction goes on over
// lines that end with the escape character (default `\`); comment lines and empty lines inside a
// continued instruction are skipped. Flags come right after the keyword: `RUN --mount=... cmd`,
// also in exec form (`RUN --mount=... ["cmd", "arg"]`). Only the keyword's line is touched, so
// the build's output and error messages keep the user's line numbers.

export interface RewriteResult {
  text: string;
  /** How many RUN instructions got the mounts. */
  runs: number;
  /** The `# syntax=` directive, when there is one (BuildKit would pull that frontend image). */
  syntax?: string;
  /** `ONBUILD RUN` lines, left alone: they run in other builds. */
  onbuildRuns: number;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$/;

/** The parser directives at the top of the file (names lower-cased) and where the directives end. */
export function parserDirectives(lines: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of lines) {
    const match = DIRECTIVE.exec(line);
    if (match === null) break;
    const name = (match[1] as string).toLowerCase();
    if (found.has(name)) break;
    found.set(name, match[2] as string);
  }
  return found;
}

/** Whether the line goes on to the next one: its last non-blank character is the escape character. */
function continues(line: string, escapeChar: string): boolean {
  return line.trimEnd().endsWith(escapeChar);
}

function isCommentOrBlank(line: string): boolean {
  const trimmed = line.trimStart();
  return trimmed === '' || trimmed.startsWith('#');
}

/** `mounts` (each a full `--mount=...` flag) inserted after the keyword of every RUN instruction. */
export function addRunMounts(dockerfile: string, mounts: readonly string[]): RewriteResult {
  const lines = dockerfile.split('\n');
  const directives = parserDirectives(lines);
  const escapeChar = directives.get('escape') === '`' ? '`' : '\\';
  const flags = mounts.join(' ');
  let runs = 0;
  let onbuildRuns = 0;
  let inInstruction = false;
  const out = lines.map((line) => {
    if (inInstruction) {
      if (!isCommentOrBlank(line)) inInstruction = continues(line, escapeChar);
      return line;
    }
    if (isCommentOrBlank(line)) return line;
    inInstruction = continues(line, escapeChar);
    if (/^\s*onbuild\s+run(\s|$)/i.test(line)) onbuildRuns++;
    const keyword = (escapeChar === '`' ? /^(\s*run)(?=\s|$|`)/i : /^(\s*run)(?=\s|$|\\)/i).exec(line);
    if (keyword === null) return line;
    runs++;
    const head = keyword[1] as string;
    return `${head} ${flags}${line.slice(head.length)}`;
  });
  const syntax = directives.get('syntax');
  return { text: out.join('\n'), runs, onbuildRuns, ...(syntax !== undefined ? { syntax } : {}) };
}

/** The images the stages start FROM, without earlier stage names, `scratch` and references built from ARGs. */
export function baseImagesOf(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const line of dockerfile.split('\n')) {
    const match = /^\s*from\s+(?:--\S+\s+)*(\S+)(?:\s+as\s+(\S+))?/i.exec(line);
    if (match === null) continue;
    const ref = match[1] as string;
    if (!stages.has(ref.toLowerCase()) && ref !== 'scratch' && !ref.includes('$') && !images.includes(ref)) images.push(ref);
    if (match[2] !== undefined) stages.add(match[2].toLowerCase());
  }
  return images;
}
