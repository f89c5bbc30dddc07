// Which project a distribution file belongs to: the rule every writer of the mirror applies (src/mirror/store/file-owner.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileBelongsTo } from '../../../src/mirror/store/file-owner.js';

test("fileBelongsTo: a file is its own project's only, as pip and the index both read its name", () => {
  const rows: [string, string, boolean][] = [
    ['demo_pkg-1.0-py3-none-any.whl', 'demo-pkg', true],
    ['Demo.Pkg-1.0-py3-none-any.whl', 'demo-pkg', true],
    ['other-1.0-py3-none-any.whl', 'demo-pkg', false],
    ['demo_pkg_extra-1.0-py3-none-any.whl', 'demo-pkg', false],
    ['demo_pkg-1.0.tar.gz', 'demo-pkg', true],
    ['demo-pkg-1.0.tar.gz', 'demo-pkg', true],
    ['python-dateutil-2.8.2.tar.gz', 'python-dateutil', true],
    ['python-dateutil-2.8.2.tar.gz', 'python', false], // pip: version "dateutil-2.8.2", not a version
    ['foo-bar-1.0.tar.gz', 'foo', false],
    ['foo-bar-1.0.tar.gz', 'foo-bar', true],
    ['a-1-2.tar.gz', 'a-1', false], // ambiguous: `a` 1.post2 or `a-1` 2, as PKG-INFO says in the index
    ['a-1-2.tar.gz', 'a', false], // the same file on `a`'s page: a PKG-INFO naming `a-1` would move it there
    ['corp-2-9.0.tar.gz', 'corp-2', true], // `corp` + `2-9.0` is no version: one reading only
    ['x-1.0-1.tar.gz', 'x', false], // `x` 1.0.post1, or `x-1.0` 1
    ['a_1-2.tar.gz', 'a-1', true], // PEP 625 names are not ambiguous
    ['victim-1.0.zip', 'victim', true],
    ['notes.txt', 'notes', false],
    ['../victim-1.0.tar.gz', 'victim', false],
  ];
  for (const [filename, project, expected] of rows) assert.equal(fileBelongsTo(filename, project), expected, `${filename} on ${project}`);
});
