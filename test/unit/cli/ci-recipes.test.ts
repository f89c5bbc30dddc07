// The CI recipes of docs/ci/ (shown in docs/ci.md): valid YAML of the shape each CI expects, and every
// dib-pypi command line in them accepted by the real command table and declarations, so a misspelt
// command or flag, or a missing argument, fails here instead of in a user's pipeline.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../../src/cli/commands.js';
import {
  argvProblem,
  dibPypiCommands,
  splitCommand,
  githubScripts,
  gitlabScripts,
  loadDeclarations,
  parseRecipe,
  type Script,
} from '../../helpers/ci-recipes.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (path: string) => readFileSync(`${REPO}${path}`, 'utf8');

const RECIPES = [
  { file: 'docs/ci/github-actions.yml', scripts: githubScripts },
  { file: 'docs/ci/gitlab-ci.yml', scripts: gitlabScripts },
] as const;

/** What a pipeline must do (docs/ci.md): fill, export, build the image, install for the tests, export the variables. */
const EXPECTED = ['mirror add', 'mirror export', 'docker build', 'exec', 'env'];

let declarations: Awaited<ReturnType<typeof loadDeclarations>>;
before(async () => {
  declarations = await loadDeclarations();
});

/** Every dib-pypi line of a recipe's text that would be refused, as `where: line: why`. */
function problemsOf(text: string, scripts: (doc: unknown) => Script[]): string[] {
  return dibPypiCommands(scripts(parseRecipe(text))).flatMap(({ where, line, argv }) => {
    const problem = argvProblem(argv, declarations);
    return problem === undefined ? [] : [`${where}: ${line}: ${problem}`];
  });
}

test('every command of the table has its declaration in src/cli/commands/ (the check below uses them)', () => {
  assert.deepEqual([...declarations.keys()].sort(), Object.keys(COMMANDS).sort());
});

for (const { file, scripts } of RECIPES) {
  test(`${file}: parses, has the CI's structure, and every dib-pypi line parses with the CLI's own parser`, () => {
    const text = read(file);
    const found = dibPypiCommands(scripts(parseRecipe(text)));
    assert.deepEqual(problemsOf(text, scripts), []);
    const names = new Set(found.map(({ argv }) => splitCommand(argv).name));
    for (const name of EXPECTED) assert.ok(names.has(name), `${file} runs no dib-pypi ${name}`);
    // Each dib-pypi word of the file is a command the extraction found (none hidden from the check by a form it misses).
    const mentions = text.split('\n').filter((line) => /^\s*(?!#).*\bdib-pypi\s+[a-z]/.test(line) && !/^\s*(- )?name:/.test(line));
    assert.equal(found.length, mentions.length, `commands found:\n${found.map((c) => c.line).join('\n')}\nlines:\n${mentions.join('\n')}`);
  });
}

test('github-actions.yml: no $' + '{{ }} expression inside a run: script (values reach the shell as variables, never as code)', () => {
  const scripts = githubScripts(parseRecipe(read('docs/ci/github-actions.yml')));
  assert.deepEqual(
    scripts.filter(({ text }) => text.includes('${{')).map(({ where }) => where),
    [],
  );
});

test('a misspelt command, an unknown flag, a missing argument or a flag without its value fails, naming the line', () => {
  const good = read('docs/ci/github-actions.yml');
  const cases: [string, string, RegExp][] = [
    ['dib-pypi mirror export requirements.lock "$LOCKED"', 'dib-pypi mirror exprot requirements.lock "$LOCKED"', /unknown command 'mirror exprot'/],
    ['-r requirements.lock --no-lock', '-r requirements.lock --no-lok', /mirror add: unknown option '--no-lok'/],
    ['dib-pypi mirror export requirements.lock "$LOCKED" --from', 'dib-pypi mirror export "$LOCKED" --from', /mirror export expects LOCKFILE OUTDIR, got 1/],
    ['--format github >>', '--format >>', /env: .*--format/],
    ['dib-pypi exec --mirror "$LOCKED" -- \\', 'dib-pypi exec --mirorr "$LOCKED" -- \\', /exec: unknown option '--mirorr'/],
    ['-t "app:$GITHUB_SHA" .', '-t "app:$GITHUB_SHA"', /docker build: expects one build context/],
    ['dib-pypi docker build --mirror', 'dib-pypi docker build -xq --mirror', /docker build: unknown or combined short option '-xq'/],
    ['run: dib-pypi env', 'run: dib-pypi mirror', /'mirror' is a group of commands/],
  ];
  for (const [from, to, why] of cases) {
    assert.ok(good.includes(from), from);
    const problems = problemsOf(good.replace(from, to), githubScripts);
    assert.equal(problems.length, 1, `${to}: ${problems.join('\n')}`);
    assert.match(problems[0] as string, why);
    assert.match(problems[0] as string, /^jobs\.\w+\.steps\[\d+\]\.run: dib-pypi /, 'the problem names the step and the line');
  }
  const gitlab = read('docs/ci/gitlab-ci.yml').replace('dib-pypi env --mirror', 'dib-pypi env --mirror-dir');
  assert.deepEqual(problemsOf(gitlab, gitlabScripts), [
    'test.script[4]: dib-pypi env --mirror-dir "$LOCKED" > pip-env.sh: env: unknown option \'--mirror-dir\'',
  ]);
});

test('a duplicate key or a job of the wrong shape fails the recipe', () => {
  assert.throws(() => parseRecipe('jobs:\n  a:\n    runs-on: x\n  a:\n    runs-on: y\n'), /Map keys must be unique/);
  assert.throws(() => parseRecipe('a: [1\n'), /./);
  assert.throws(
    () => githubScripts(parseRecipe('on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - name: nothing\n')),
    /jobs\.a\.steps\[0\]: needs run or uses/,
  );
  assert.throws(
    () => githubScripts(parseRecipe('on: push\njobs:\n  a:\n    runs-on: x\n    needs: b\n    steps:\n      - run: "true"\n')),
    /jobs\.a\.needs: no job b/,
  );
  assert.throws(() => githubScripts(parseRecipe('jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: "true"\n')), /no on: trigger/);
  assert.throws(() => gitlabScripts(parseRecipe('stages: [a]\njob:\n  stage: b\n  script: ["true"]\n')), /job\.stage: b is not in stages/);
  assert.throws(() => gitlabScripts(parseRecipe('stages: [a]\njob:\n  stage: a\n')), /job: no script/);
  assert.throws(() => gitlabScripts(parseRecipe('stages: [a]\njob:\n  stage: a\n  script: "true"\n')), /job\.script: not a list of strings/);
  assert.throws(() => gitlabScripts(parseRecipe('stages: [a]\njob:\n  stage: a\n  extends: .base\n')), /job\.extends: no job \.base/);
  assert.throws(() => gitlabScripts(parseRecipe('stages: [a]\nimage:\n  stage: a\n  script: ["true"]\n')), /image: a global keyword, not a job name/);
});

test('docs/ci.md shows each recipe exactly as its file holds it', () => {
  const blocks = [...read('docs/ci.md').matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  assert.deepEqual(
    blocks,
    RECIPES.map(({ file }) => read(file)),
  );
});
