// The upload ACL, pure: the file format (every error names the file and line), pattern matching on
// PEP 503-normalised names, groups, and the decision (ACL grant, ownership, the right to create).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { InputError } from '../../../src/errors.js';
import { parseUploadAcl, type UploadAcl } from '../../../src/server/acl-file.js';
import { decide, isNamedByAcl, matchesPattern, type ProjectState } from '../../../src/server/upload-acl.js';

const EXAMPLE = `# who may upload what
[groups]
ml = alice, bob      # the ML team
ops = carol

[upload]
Team_ML.* = @ml      # PEP 503: the same as team-ml-*
infra-tools = @ops, dave
* = root-admin
reserved-name =

[create]
* = @ml, erin
`;

function acl(text: string): UploadAcl {
  return parseUploadAcl(text, 'acl.ini');
}

test('parse: groups expanded, patterns normalised, every named user with its first line', () => {
  const parsed = acl(EXAMPLE);
  assert.deepEqual(
    parsed.upload.map((r) => [r.pattern, [...r.users].sort(), r.line]),
    [
      ['team-ml-*', ['alice', 'bob'], 7],
      ['infra-tools', ['carol', 'dave'], 8],
      ['*', ['root-admin'], 9],
      ['reserved-name', [], 10],
    ],
  );
  assert.deepEqual(
    parsed.create.map((r) => [r.pattern, [...r.users].sort()]),
    [['*', ['alice', 'bob', 'erin']]],
  );
  assert.deepEqual([...parsed.users].sort(), [
    ['alice', 3],
    ['bob', 3],
    ['carol', 4],
    ['dave', 8],
    ['erin', 13],
    ['root-admin', 9],
  ]);
  assert.equal(parsed.source, 'acl.ini');
});

test('parse: syntax variants: CRLF, BOM, ; comments, section names in any case, a section reopened, an empty file', () => {
  const parsed = acl('\uFEFF; top comment\r\n[UPLOAD]\r\na = x\r\n[ create ]\r\nb* = y\r\n[upload]\r\nc = z\r\n');
  assert.deepEqual(
    parsed.upload.map((r) => r.pattern),
    ['a', 'c'],
  );
  assert.deepEqual(
    parsed.create.map((r) => r.pattern),
    ['b*'],
  );
  const empty = acl('');
  assert.deepEqual([empty.upload, empty.create, empty.users.size], [[], [], 0]);
  // Runs of stars are one star; a separator beside a star is kept.
  assert.equal(acl('[upload]\nA__**-.b = x\n').upload[0]?.pattern, 'a-*-b');
  // Unicode and __token__ are user names like any other.
  assert.deepEqual([...(acl('[upload]\nx = zoë, 日本, __token__\n').upload[0]?.users ?? [])], ['zoë', '日本', '__token__']);
});

test('parse: each bad line is one error naming the file and the line', () => {
  const cases: [string, RegExp][] = [
    ['a = b\n', /^acl\.ini line 1: a line before any \[section\]/],
    ['[upload]\n[owners]\n', /^acl\.ini line 2: unknown section \[owners\]/],
    ['[upload]\njust-a-name\n', /^acl\.ini line 2: expected "name = users"/],
    ['[upload]\n = alice\n', /^acl\.ini line 2: nothing before "="/],
    ['[upload]\na = alice,, bob\n', /^acl\.ini line 2: an empty name in the list/],
    ['[upload]\na = alice,\n', /^acl\.ini line 2: an empty name in the list/],
    ['[upload]\nteam x = alice\n', /^acl\.ini line 2: "team x" is not a project name pattern/],
    ['[upload]\n-team = alice\n', /^acl\.ini line 2: "-team" is not a project name pattern/],
    ['[upload]\nteam-* = alice\nteam-? = bob\n', /^acl\.ini line 3: "team-\?" is not a project name pattern/],
    ['[upload]\nteam[1] = alice\n', /^acl\.ini line 2: "team\[1\]" is not a project name pattern/],
    ['[upload]\nteam-x = alice\nTeam_X = bob\n', /^acl\.ini line 3: \[upload\] lists team-x twice \(also line 2\)/],
    ['[upload]\nx = @nobody\n', /^acl\.ini line 2: no group nobody in \[groups\]/],
    ['[upload]\nx = @bad/name\n', /^acl\.ini line 2: "@bad\/name" is not a group name/],
    ['[upload]\nx = al:ice\n', /^acl\.ini line 2: user "al:ice": a user name cannot hold ":"/],
    ['[upload]\nx = al ice\n', /^acl\.ini line 2: user "al ice": no blanks or control characters/],
    ['[upload]\nx = a\u200bb\n', /^acl\.ini line 2: user "a\u200bb": no blanks or control characters/],
    ['[upload]\nx = a=b\n', /^acl\.ini line 2: user "a=b": no "\[", "\]", "=" or ";"/],
    ['[groups]\ng = a\ng = b\n', /^acl\.ini line 3: group g is defined twice \(also line 2\)/],
    ['[groups]\ng = a\nh = @g\n', /^acl\.ini line 3: group h holds @g: a group holds users, not groups/],
    ['[groups]\nbad/name = a\n', /^acl\.ini line 2: "bad\/name" is not a group name/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => acl(text),
      (error: unknown) => error instanceof InputError && error.input === 'acl' && pattern.test(error.detail) && !error.detail.includes('\n'),
      JSON.stringify(text),
    );
  }
});

test('parse: a large file (50 000 rules) parses in linear time', () => {
  const lines = ['[groups]', `big = ${Array.from({ length: 1000 }, (_, i) => `user${i}`).join(', ')}`, '[upload]'];
  for (let i = 0; i < 50_000; i++) lines.push(`project-${i} = @big, extra${i}`);
  const started = process.hrtime.bigint();
  const parsed = acl(lines.join('\n'));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(parsed.upload.length, 50_000);
  assert.equal(parsed.users.size, 51_000);
  assert.ok(ms < 20_000, `parsing took ${ms} ms`);
});

test('matchesPattern: * is any run (none too); everything else literal', () => {
  const rows: [string, string, boolean][] = [
    ['*', 'anything', true],
    ['team-*', 'team-x', true],
    ['team-*', 'team-', true],
    ['team-*', 'team', false],
    ['team-*', 'teamx', false],
    ['team*', 'team', true],
    ['team*', 'teams', true],
    ['*-tools', 'infra-tools', true],
    ['*-tools', 'tools', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['a*b*c', 'acb', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['exact', 'inexact', false],
    // A star in a name (never a valid project name, but still) is a character, not a wildcard.
    ['team-x', 'team-*', false],
    ['team-*', 'team-*', true],
  ];
  for (const [pattern, name, expected] of rows) assert.equal(matchesPattern(pattern, name), expected, `${pattern} ~ ${name}`);
  // A pattern of many stars against a long name that almost matches: no exponential backtracking.
  const started = process.hrtime.bigint();
  assert.equal(matchesPattern('a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 5000);
});

function state(owners: string[] = [], hasFiles = false): ProjectState {
  return { owners, hasFiles: () => hasFiles };
}

test('decide: the ACL grants by pattern and group; names compare PEP 503-normalised', () => {
  const rules = acl(EXAMPLE);
  const rows: [user: string, project: string, allowed: boolean][] = [
    ['alice', 'team-ml-core', true],
    ['alice', 'Team_ML.Core', true],
    ['bob', 'TEAM-ml--core', true],
    ['carol', 'team-ml-core', false],
    ['carol', 'infra-tools', true],
    ['dave', 'Infra.Tools', true],
    ['alice', 'infra-tools', false],
    ['root-admin', 'infra-tools', true],
    ['root-admin', 'team-ml-x', true],
    ['alice', 'reserved-name', false],
    ['Alice', 'team-ml-core', false], // user names are exact: not case-folded
  ];
  for (const [user, project, allowed] of rows) {
    const decision = decide(rules, user, project, state([], true));
    assert.equal(decision.allowed, allowed, `${user} -> ${project}: ${JSON.stringify(decision)}`);
  }
});

test('decide: ownership, the right to create, and projects the ACL names', () => {
  const rules = acl(EXAMPLE);
  // A new project nobody names: a user who may create it becomes its owner.
  assert.deepEqual(decide(rules, 'erin', 'new-thing', state()), { allowed: true, via: 'create', claims: true });
  assert.deepEqual(decide(rules, 'carol', 'new-thing', state()), {
    allowed: false,
    reason: 'user carol may not create new-thing: not granted by the ACL (no [create] line lets this user create it)',
  });
  // Once owned: the owner may, others may not (and are told whose it is); the ACL's * still grants.
  assert.deepEqual(decide(rules, 'erin', 'New_Thing', state(['erin'], true)), { allowed: true, via: 'owner', claims: false });
  assert.deepEqual(decide(rules, 'alice', 'new-thing', state(['erin'], true)), {
    allowed: false,
    reason: 'user alice may not upload to new-thing: owned by erin',
  });
  assert.deepEqual(decide(rules, 'root-admin', 'new-thing', state(['erin'], true)), { allowed: true, via: 'acl', claims: false });
  // A project the ACL names never gets an owner: even a user who may create anything is refused.
  assert.deepEqual(decide(rules, 'erin', 'team-ml-new', state()), {
    allowed: false,
    reason: 'user erin may not upload to team-ml-new: not granted by the ACL',
  });
  assert.deepEqual(decide(rules, 'alice', 'team-ml-new', state()), { allowed: true, via: 'acl', claims: false });
  assert.equal(isNamedByAcl(rules, 'Team.ML.New'), true);
  assert.equal(isNamedByAcl(rules, 'new-thing'), false, 'a bare * grants but names nothing');
  // An empty line reserves the name: nobody may create it.
  assert.equal(decide(rules, 'erin', 'reserved-name', state()).allowed, false);
  // A project with files and no owner (synced, added, uploaded before the ACL) is not new: only the ACL grants it.
  assert.deepEqual(decide(rules, 'erin', 'requests', state([], true)), {
    allowed: false,
    reason: 'user erin may not upload to requests: not granted by the ACL (the project has files and no owner)',
  });
  // A user granted by the bare * who may create claims a new project; one who may not create does not.
  const admin = acl('[upload]\n* = admin, helper\n[create]\n* = admin\n');
  assert.deepEqual(decide(admin, 'admin', 'fresh', state()), { allowed: true, via: 'acl', claims: true });
  assert.deepEqual(decide(admin, 'helper', 'fresh', state()), { allowed: true, via: 'acl', claims: false });
  // Create rights by pattern.
  const scoped = acl('[create]\nsandbox-* = @devs\n[groups]\ndevs = zoë\n');
  assert.equal(decide(scoped, 'zoë', 'sandbox-one', state()).allowed, true);
  assert.equal(decide(scoped, 'zoë', 'production', state()).allowed, false);
  // Unicode user names are compared exactly: another normalisation form is another user.
  assert.equal(decide(scoped, 'zoe\u0308', 'sandbox-one', state()).allowed, false);
});

test('decide: a name that normalises to an owned project is that project; odd user names are quoted in the reason', () => {
  const rules = acl('[create]\n* = alice, bob\n');
  for (const spelling of ['Team_X', 'team.x', 'TEAM-X', 'team__x']) {
    const decision = decide(rules, 'bob', spelling, state(['alice'], true));
    assert.deepEqual(decision, { allowed: false, reason: 'user bob may not upload to team-x: owned by alice' }, spelling);
  }
  const odd = decide(rules, 'mal"lory\n', 'team-x', state(['al ice'], true));
  assert.deepEqual(odd, { allowed: false, reason: 'user "mal\\"lory\\n" may not upload to team-x: owned by "al ice"' });
  // hasFiles is not asked when the answer does not need it.
  let asked = 0;
  decide(rules, 'alice', 'team-x', { owners: ['alice'], hasFiles: () => ++asked > 0 });
  assert.equal(asked, 0);
});

test('the example ACL of docs/serve.md parses, and means what the page says', () => {
  const page = readFileSync(new URL('../../../../docs/serve.md', import.meta.url), 'utf8');
  const example = /```ini\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(example !== undefined, 'docs/serve.md has an ```ini example');
  const rules = acl(example);
  assert.equal(decide(rules, 'bob', 'Team_ML.Core', state()).allowed, true);
  assert.equal(decide(rules, '__token__', 'anything', state([], true)).allowed, true);
  assert.equal(decide(rules, 'erin', 'reserved-name', state()).allowed, false);
  assert.deepEqual(decide(rules, 'carol', 'sandbox-1', state()), { allowed: true, via: 'create', claims: true });
  assert.equal(decide(rules, 'carol', 'other', state()).allowed, false);
});
