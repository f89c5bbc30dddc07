// The change API's routes and bodies (pure): `/+api/<action>` only for POST, each action's fields checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChangeBody } from '../../../src/server/change-api.js';
import { route } from '../../../src/server/routes.js';

test('POST /+api/<action> is the change API; anything else is not', () => {
  assert.deepEqual(route('POST', '/+api/remove'), { kind: 'upload', change: 'remove' });
  assert.deepEqual(route('POST', '/+api/yank'), { kind: 'upload', change: 'yank' });
  assert.deepEqual(route('POST', '/+api/unyank'), { kind: 'upload', change: 'unyank' });
  assert.deepEqual(route('POST', '/'), { kind: 'upload' });
  for (const path of ['/+api/delete', '/+api/remove/', '/simple/+api/remove', '/+api/', '/%2Bapi/remove'])
    assert.deepEqual(route('POST', path), { kind: 'not-found' }, path);
  assert.equal(route('GET', '/+api/remove').kind, 'not-found');
});

test('bodies: a JSON object of strings with the action fields, nothing else', () => {
  assert.deepEqual(parseChangeBody('remove', '{"project":"foo","version":"1.0"}'), { project: 'foo', version: '1.0' });
  assert.deepEqual(parseChangeBody('yank', '{"project":"foo","version":"1.0","reason":"bad"}'), { project: 'foo', version: '1.0', reason: 'bad' });
  const bad: [Parameters<typeof parseChangeBody>[0], string, RegExp][] = [
    ['remove', '{"project":', /not JSON/],
    ['remove', '["foo"]', /not a JSON object/],
    ['remove', 'null', /not a JSON object/],
    ['remove', '{"version":"1.0"}', /missing field project/],
    ['yank', '{"project":"foo"}', /missing field version/],
    ['remove', '{"project":"foo","reason":"x"}', /unknown field "reason"/],
    ['unyank', '{"project":"foo","version":"1","reason":"x"}', /unknown field "reason"/],
    ['remove', '{"project":["foo"]}', /field project is not a string/],
    ['remove', '{"project":"foo","version":1}', /field version is not a string/],
  ];
  for (const [action, body, message] of bad) assert.throws(() => parseChangeBody(action, body), message, body);
});
