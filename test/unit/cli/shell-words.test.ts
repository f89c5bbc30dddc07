// The shell tokeniser the CI recipe test reads command lines with: quotes, escapes, variables kept as
// words, operators and redirections apart, `\` continuations, and finding each command by its name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandsNamed, logicalLines, shellTokens, shellWords } from '../../helpers/shell-words.js';

test('shellWords: quotes removed as the shell removes them; variables and expansions stay as written', () => {
  assert.deepEqual(shellWords(`dib-pypi exec --mirror "$LOCKED" -- pip install 'a b' c\\ d`), [
    'dib-pypi',
    'exec',
    '--mirror',
    '$LOCKED',
    '--',
    'pip',
    'install',
    'a b',
    'c d',
  ]);
  assert.deepEqual(shellWords(`a"b"'c'd "x\\"y\\$z\\q" 'it''s'`), ['abcd', 'x"y$z\\q', 'its']);
  assert.deepEqual(shellWords(`-t "app:$GITHUB_SHA" "\${A:-x y}" $(date "+%s  x") \${{ github.sha }}`), [
    '-t',
    'app:$GITHUB_SHA',
    '$' + '{A:-x y}',
    '$(date "+%s  x")',
    '$' + '{{ github.sha }}',
  ]);
  assert.deepEqual(shellWords(`--build-arg=V="1 2" ''`), ['--build-arg=V=1 2', '']);
  assert.deepEqual(shellWords('  a\tb  # a comment "'), ['a', 'b']);
  assert.deepEqual(shellWords('a#b'), ['a#b'], 'a # inside a word is no comment');
  assert.throws(() => shellWords(`echo "open`), /unterminated "/);
  assert.throws(() => shellWords(`echo 'open`), /unterminated '/);
  assert.throws(() => shellWords('echo $(open'), /unterminated \$\(/);
  assert.throws(() => shellWords('a && b'), /shell operator &&/);
});

test('shellTokens: operators apart from words, the longest first; a file descriptor belongs to its redirection', () => {
  assert.deepEqual(shellTokens('a&&b||c;d|e&f>>g 2>&1 <h'), [
    { kind: 'word', value: 'a' },
    { kind: 'op', value: '&&' },
    { kind: 'word', value: 'b' },
    { kind: 'op', value: '||' },
    { kind: 'word', value: 'c' },
    { kind: 'op', value: ';' },
    { kind: 'word', value: 'd' },
    { kind: 'op', value: '|' },
    { kind: 'word', value: 'e' },
    { kind: 'op', value: '&' },
    { kind: 'word', value: 'f' },
    { kind: 'op', value: '>>' },
    { kind: 'word', value: 'g' },
    { kind: 'op', value: '>&' },
    { kind: 'word', value: '1' },
    { kind: 'op', value: '<' },
    { kind: 'word', value: 'h' },
  ]);
  assert.deepEqual(shellTokens(`"a;b" 'c|d' e\\;f`), [
    { kind: 'word', value: 'a;b' },
    { kind: 'word', value: 'c|d' },
    { kind: 'word', value: 'e;f' },
  ]);
});

test('logicalLines: a trailing backslash joins the next line; an escaped backslash does not; blank lines go', () => {
  assert.deepEqual(logicalLines('a \\\n  b \\\n  c\n\nd \\\\\ne\n'), ['a   b   c', 'd \\\\', 'e']);
  assert.deepEqual(logicalLines('x \\'), ['x ']);
});

test('commandsNamed: each simple command whose command word is the name, after reserved words and assignments, without redirections', () => {
  assert.deepEqual(commandsNamed('dib-pypi env --format github >> "$GITHUB_ENV"', 'dib-pypi'), [['env', '--format', 'github']]);
  assert.deepEqual(commandsNamed('if [ ! -d "$M/.x" ]; then dib-pypi mirror add "$M" -r l; fi', 'dib-pypi'), [['mirror', 'add', '$M', '-r', 'l']]);
  assert.deepEqual(commandsNamed('A=1 B="2 3" dib-pypi plan 2>/dev/null && ! dib-pypi env | tee x', 'dib-pypi'), [['plan'], ['env']]);
  assert.deepEqual(
    commandsNamed('echo dib-pypi plan; npm install -g ./dib-pypi-1.tgz; x="dib-pypi env"', 'dib-pypi'),
    [],
    'an argument or a string is no command',
  );
  assert.deepEqual(
    commandsNamed('dib-pypi exec --mirror m -- dib-pypi plan', 'dib-pypi'),
    [['exec', '--mirror', 'm', '--', 'dib-pypi', 'plan']],
    'a command run by another one is its argument',
  );
});
