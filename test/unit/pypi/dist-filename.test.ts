// parseDistFilename and sdistNameMatches: one row per file name, with the exact parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDistFilename, sdistNameMatches, sdistStem, sdistVersionFor } from '../../../src/pypi/dist-filename.js';
import type { DistFilename } from '../../../src/pypi/types.js';

const wheel = (name: string, normalized: string, version: string, tags: string, build?: string): DistFilename => {
  const [pythonTag, abiTag, platformTag] = tags.split('-') as [string, string, string];
  return { kind: 'wheel', name, normalized, version, ...(build === undefined ? {} : { build }), pythonTag, abiTag, platformTag };
};
const sdist = (name: string, normalized: string, version: string): DistFilename => ({ kind: 'sdist', name, normalized, version });

const WHEELS: { file: string; out: DistFilename }[] = [
  { file: 'demo_pkg-1.0-py3-none-any.whl', out: wheel('demo_pkg', 'demo-pkg', '1.0', 'py3-none-any') },
  { file: 'six-1.16.0-py2.py3-none-any.whl', out: wheel('six', 'six', '1.16.0', 'py2.py3-none-any') },
  {
    file: 'numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    out: wheel('numpy', 'numpy', '1.26.4', 'cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64'),
  },
  { file: 'pkg-1.0-1-py3-none-any.whl', out: wheel('pkg', 'pkg', '1.0', 'py3-none-any', '1') },
  { file: 'pkg-1.0-2abc-cp311-abi3-win_amd64.whl', out: wheel('pkg', 'pkg', '1.0', 'cp311-abi3-win_amd64', '2abc') },
  { file: 'Zope.Interface_Thing-5.0-py3-none-any.whl', out: wheel('Zope.Interface_Thing', 'zope-interface-thing', '5.0', 'py3-none-any') },
  { file: 'zope_interface_thing-5.0-py3-none-any.whl', out: wheel('zope_interface_thing', 'zope-interface-thing', '5.0', 'py3-none-any') },
  { file: 'pkg-1!2.0rc1.post3.dev4+local.7-py3-none-any.whl', out: wheel('pkg', 'pkg', '1!2.0rc1.post3.dev4+local.7', 'py3-none-any') },
  { file: 'pkg-v1.0-py3-none-any.whl', out: wheel('pkg', 'pkg', 'v1.0', 'py3-none-any') },
  // pip reads `_` in a wheel's version as `-` (old escaping): `1.0_1` is the post-release `1.0-1`.
  { file: 'pkg-1.0_1-py3-none-any.whl', out: wheel('pkg', 'pkg', '1.0-1', 'py3-none-any') },
  { file: 'pkg-1.0_post1-py3-none-any.whl', out: wheel('pkg', 'pkg', '1.0-post1', 'py3-none-any') },
  { file: 'A-1-py3-none-any.whl', out: wheel('A', 'a', '1', 'py3-none-any') },
];

for (const { file, out } of WHEELS) {
  test(`parseDistFilename: wheel ${file}`, () => {
    assert.deepEqual(parseDistFilename(file), out);
  });
}

const SDISTS: { file: string; out: DistFilename }[] = [
  { file: 'demo_pkg-1.0.tar.gz', out: sdist('demo_pkg', 'demo-pkg', '1.0') },
  { file: 'demo_pkg-1.0.zip', out: sdist('demo_pkg', 'demo-pkg', '1.0') },
  { file: 'demo_pkg-1.0.tar.bz2', out: sdist('demo_pkg', 'demo-pkg', '1.0') },
  { file: 'demo_pkg-1.0.tgz', out: sdist('demo_pkg', 'demo-pkg', '1.0') },
  { file: 'demo_pkg-1.0.tar.xz', out: sdist('demo_pkg', 'demo-pkg', '1.0') },
  { file: 'demo_pkg-1.0.tar', out: sdist('demo_pkg', 'demo-pkg', '1.0') },
  { file: 'python-dateutil-2.8.2.tar.gz', out: sdist('python-dateutil', 'python-dateutil', '2.8.2') },
  { file: 'python_dateutil-2.8.2.tar.gz', out: sdist('python_dateutil', 'python-dateutil', '2.8.2') },
  { file: 'zope.interface-5.0.tar.gz', out: sdist('zope.interface', 'zope-interface', '5.0') },
  { file: 'Zope.Interface_Thing-1.0.tar.gz', out: sdist('Zope.Interface_Thing', 'zope-interface-thing', '1.0') },
  { file: 'django-2fa-1.0.tar.gz', out: sdist('django-2fa', 'django-2fa', '1.0') },
  { file: 'a-b-c-d-0.1.zip', out: sdist('a-b-c-d', 'a-b-c-d', '0.1') },
  // The first `-` followed by a valid version wins: `1.0-1` is a post-release, `v2-1` too.
  { file: 'pkg-1.0-1.tar.gz', out: sdist('pkg', 'pkg', '1.0-1') },
  { file: 'foo-v2-1.tar.gz', out: sdist('foo', 'foo', 'v2-1') },
  { file: 'foo-v2-1.0.tar.gz', out: sdist('foo-v2', 'foo-v2', '1.0') },
  { file: 'pkg-2024.1.1.dev0+g1234abc.tar.gz', out: sdist('pkg', 'pkg', '2024.1.1.dev0+g1234abc') },
  { file: 'pkg-1!1.0.tar.gz', out: sdist('pkg', 'pkg', '1!1.0') },
  { file: 'PKG-1.0RC1.tar.gz', out: sdist('PKG', 'pkg', '1.0RC1') },
];

for (const { file, out } of SDISTS) {
  test(`parseDistFilename: sdist ${file}`, () => {
    assert.deepEqual(parseDistFilename(file), out);
  });
}

const NOT_DISTRIBUTIONS: { file: string; why: string }[] = [
  { file: 'README', why: 'no suffix' },
  { file: 'index.html', why: 'not a distribution' },
  { file: 'pkg-1.0-py2.7.egg', why: 'eggs are not indexed' },
  { file: 'pkg-1.0.win32.exe', why: 'bdist_wininst' },
  { file: 'pkg-1.0.msi', why: 'bdist_msi' },
  { file: 'pkg-1.0-py3-none-any.whl.metadata', why: 'a PEP 658 sidecar' },
  { file: 'pkg-1.0.tar.gz.yanked', why: 'a yank sidecar' },
  { file: 'pkg-1.0.tar.gz.upload-time', why: 'an upload-time sidecar' },
  { file: 'foo.whl', why: 'too few wheel parts' },
  { file: 'foo-1.0.whl', why: 'too few wheel parts' },
  { file: 'foo-1.0-py3-none.whl', why: 'four wheel parts' },
  { file: 'foo-1.0-1-2-py3-none-any.whl', why: 'seven wheel parts' },
  { file: 'foo-1.0-b1-py3-none-any.whl', why: 'build tag must start with a digit' },
  { file: 'foo-notaversion-py3-none-any.whl', why: 'invalid wheel version' },
  { file: '-1.0-py3-none-any.whl', why: 'empty wheel name' },
  { file: 'foo--py3-none-any.whl', why: 'empty wheel version' },
  { file: 'foo-1.0--none-any.whl', why: 'empty python tag' },
  { file: '..-1.0-py3-none-any.whl', why: 'a name that is a path' },
  { file: '.foo-1.0-py3-none-any.whl', why: 'name must start with a letter or digit' },
  { file: 'foo bar-1.0-py3-none-any.whl', why: 'whitespace' },
  { file: 'foo+bar-1.0-py3-none-any.whl', why: 'not a PEP 508 name' },
  { file: 'foo-1.0-py3-none-any.WHL', why: 'pip compares suffixes case-sensitively' },
  { file: 'foo.tar.gz', why: 'no version' },
  { file: 'foo-.tar.gz', why: 'empty version' },
  { file: '-1.0.tar.gz', why: 'empty name' },
  { file: 'foo-bar.tar.gz', why: 'no valid version' },
  { file: 'foo-1.0 .tar.gz', why: 'whitespace in the version' },
  { file: 'foo bar-1.0.tar.gz', why: 'whitespace in the name' },
  { file: 'foo-1.0.0.0.0.dev.x.tar.gz', why: 'invalid version' },
  { file: '_foo-1.0.tar.gz', why: 'not a PEP 508 name' },
  { file: '.tar.gz', why: 'only a suffix' },
  { file: 'foo-1.0.tar.Z', why: 'unsupported sdist format' },
  { file: 'foo-1.0.TAR.GZ', why: 'suffixes are case-sensitive' },
];

for (const { file, why } of NOT_DISTRIBUTIONS) {
  test(`parseDistFilename: ${JSON.stringify(file)} is not a distribution (${why})`, () => {
    assert.equal(parseDistFilename(file), undefined);
  });
}

const STEMS: { file: string; stem: string | undefined }[] = [
  { file: 'a-1.tar.gz', stem: 'a-1' },
  { file: 'a-1.tar.bz2', stem: 'a-1' },
  { file: 'a-1.tar.xz', stem: 'a-1' },
  { file: 'a-1.tgz', stem: 'a-1' },
  { file: 'a-1.tar', stem: 'a-1' },
  { file: 'a-1.zip', stem: 'a-1' },
  { file: 'a-1-py3-none-any.whl', stem: undefined },
  { file: 'a-1.gz', stem: undefined },
];

for (const { file, stem } of STEMS) {
  test(`sdistStem: ${file} -> ${String(stem)}`, () => {
    assert.equal(sdistStem(file), stem);
  });
}

// pip's _find_name_version_sep: the first `-` whose prefix normalises to the project, with something after it.
const MATCHES: { file: string; project: string; version: string | undefined }[] = [
  { file: 'python-dateutil-2.8.2.tar.gz', project: 'python-dateutil', version: '2.8.2' },
  { file: 'python-dateutil-2.8.2.tar.gz', project: 'Python_Dateutil', version: '2.8.2' },
  { file: 'python-dateutil-2.8.2.tar.gz', project: 'python', version: 'dateutil-2.8.2' },
  { file: 'python-dateutil-2.8.2.tar.gz', project: 'dateutil', version: undefined },
  { file: 'python-dateutil-2.8.2.tar.gz', project: 'python-dateutil-2', version: undefined },
  { file: 'zope.interface-5.0.tar.gz', project: 'zope-interface', version: '5.0' },
  { file: 'zope.interface-5.0.tar.gz', project: 'zope.interface', version: '5.0' },
  { file: 'zope.interface-5.0.tar.gz', project: 'zope', version: undefined },
  { file: 'Zope.Interface_Thing-1.0.zip', project: 'zope-interface-thing', version: '1.0' },
  { file: 'foo-v2-1.tar.gz', project: 'foo', version: 'v2-1' },
  { file: 'foo-v2-1.tar.gz', project: 'foo-v2', version: '1' },
  { file: 'foo-v2-1.tar.gz', project: 'foo-v', version: undefined },
  { file: 'foo-bar-1.0.tar.gz', project: 'foo-bar', version: '1.0' },
  { file: 'foo-bar-1.0.tar.gz', project: 'foobar', version: undefined },
  { file: 'foo-bar-1.0.tar.gz', project: 'foo-bar-1.0', version: undefined },
  { file: 'foo-.tar.gz', project: 'foo', version: undefined },
  { file: 'foo.tar.gz', project: 'foo', version: undefined },
  { file: 'foo-1.0.egg', project: 'foo', version: undefined },
  { file: 'foo_bar-1.0-py3-none-any.whl', project: 'Foo.Bar', version: '1.0' },
  { file: 'foo_bar-1.0_1-py3-none-any.whl', project: 'foo-bar', version: '1.0-1' },
  { file: 'foo_bar-1.0-py3-none-any.whl', project: 'foo', version: undefined },
  { file: 'foo.whl', project: 'foo', version: undefined },
];

for (const { file, project, version } of MATCHES) {
  test(`sdistVersionFor(${file}, ${project}) -> ${String(version)}; sdistNameMatches -> ${version !== undefined}`, () => {
    assert.equal(sdistVersionFor(file, project), version);
    assert.equal(sdistNameMatches(file, project), version !== undefined);
  });
}
