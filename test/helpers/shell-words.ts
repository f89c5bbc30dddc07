// A small POSIX-shell tokeniser for the command lines of CI recipes: words (quotes removed, variables
// such as "$MIRROR" kept as written) and operators, enough to find each command and its arguments. Pure.

export type ShellToken = { kind: 'word'; value: string } | { kind: 'op'; value: string };

/** Longest first: `&&` before `&`, `>>` before `>`. */
const OPERATORS = ['&&', '||', ';;', '>>', '<<', '>&', '<&', '>|', ';', '&', '|', '(', ')', '<', '>'];

/** Redirections: the word after one is its target, not an argument. */
export const REDIRECTIONS = new Set(['>>', '<<', '>&', '<&', '>|', '<', '>']);

/** The end of a `$(...)` or `${...}` starting at `start` (the index of `$`), skipping quoted text inside. */
function skipExpansion(line: string, start: number): number {
  const open = line[start + 1] as string;
  const close = open === '(' ? ')' : '}';
  let depth = 0;
  for (let i = start + 1; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === "'" && open === '(') i = closingQuote(line, i, "'");
    else if (c === '"') i = closingQuote(line, i, '"');
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return i;
  }
  throw new Error(`unterminated $${open} in: ${line}`);
}

function closingQuote(line: string, start: number, quote: string): number {
  for (let i = start + 1; i < line.length; i++) {
    if (quote === '"' && line[i] === '\\') i++;
    else if (line[i] === quote) return i;
  }
  throw new Error(`unterminated ${quote} in: ${line}`);
}

/**
 * Tokens of one logical line (continuations already joined). Quotes are removed as the shell
 * removes them; `$NAME`, `${...}` and `$(...)` stay as written, so "$MIRROR" is the word `$MIRROR`.
 * A `#` at the start of a word starts a comment. A digit right before `>`/`<` is the redirection's.
 */
export function shellTokens(line: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) tokens.push({ kind: 'word', value: word });
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      endWord();
      continue;
    }
    if (c === '#' && word === undefined) break;
    const op = OPERATORS.find((o) => line.startsWith(o, i));
    if (op !== undefined) {
      if ((op[0] === '>' || op[0] === '<') && word !== undefined && /^\d+$/.test(word)) word = undefined;
      endWord();
      tokens.push({ kind: 'op', value: op });
      i += op.length - 1;
      continue;
    }
    if (c === '\\') {
      if (i + 1 < line.length) word = (word ?? '') + line[++i];
    } else if (c === "'") {
      const end = closingQuote(line, i, "'");
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const end = closingQuote(line, i, '"');
      word = (word ?? '') + line.slice(i + 1, end).replace(/\\([$`"\\\n])/g, '$1');
      i = end;
    } else if (c === '$' && (line[i + 1] === '(' || line[i + 1] === '{')) {
      const end = skipExpansion(line, i);
      word = (word ?? '') + line.slice(i, end + 1);
      i = end;
    } else {
      word = (word ?? '') + c;
    }
  }
  endWord();
  return tokens;
}

/** The words of a line that has no operator: `dib-pypi exec --mirror "$M" -- pip install 'a b'`. */
export function shellWords(line: string): string[] {
  return shellTokens(line).map((token) => {
    if (token.kind === 'op') throw new Error(`shell operator ${token.value} in: ${line}`);
    return token.value;
  });
}

/** A script as the shell reads it: `\` + newline joins lines (outside single quotes, where it is literal). */
export function logicalLines(script: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const line of script.split('\n')) {
    const backslashes = /\\+$/.exec(line)?.[0].length ?? 0;
    if (backslashes % 2 === 1) {
      current += line.slice(0, -1);
      continue;
    }
    lines.push(current + line);
    current = '';
  }
  if (current !== '') lines.push(current);
  return lines.filter((line) => line.trim() !== '');
}

/** Words that may come before a command: reserved words, and `!`. */
const BEFORE_COMMAND = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'time']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Every simple command of a line whose command word is `name`, as its argv without the name (redirections dropped). */
export function commandsNamed(line: string, name: string): string[][] {
  const found: string[][] = [];
  let atStart = true;
  let current: string[] | undefined;
  let skipNext = false;
  for (const token of shellTokens(line)) {
    if (skipNext) {
      skipNext = false;
      continue;
    }
    if (token.kind === 'op') {
      if (REDIRECTIONS.has(token.value)) {
        skipNext = true;
        continue;
      }
      current = undefined;
      atStart = true;
      continue;
    }
    if (current !== undefined) current.push(token.value);
    else if (atStart && (BEFORE_COMMAND.has(token.value) || ASSIGNMENT.test(token.value))) continue;
    else if (atStart && token.value === name) found.push((current = []));
    else atStart = false;
  }
  return found;
}
