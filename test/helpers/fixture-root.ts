// Temporary root filesystems shaped like image roots: files of other owners, mode 0600, a read-only parent, user pip config.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from './require.js';

export interface FixtureRoot extends Disposable {
  base: string;
  root: string;
  state: string;
  /** A directory outside the root, standing for the host. */
  outside: string;
}

function chownIfRoot(path: string, uid: number, gid: number): void {
  if (isRoot) chownSync(path, uid, gid);
}

/** A temp dir holding `root/`, `state/` and `outside/`; removed on dispose. */
export function makeTempRoot(prefix = 'dib-pypi-root-'): FixtureRoot {
  const base = mkdtempSync(join(tmpdir(), prefix));
  const root = join(base, 'root');
  const state = join(base, 'state');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'host-file'), 'host data\n');
  return {
    base,
    root,
    state,
    outside,
    [Symbol.dispose]() {
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** A root with the pip and distutils files a real image may already have. */
export function makeBusyRoot(): FixtureRoot {
  const fixture = makeTempRoot();
  const r = (p: string) => join(fixture.root, p);
  mkdirSync(r('etc/xdg/pip'), { recursive: true });
  writeFileSync(r('etc/xdg/pip/pip.conf'), '[install]\nindex-url = http://xdg.example/simple\n');
  chmodSync(r('etc/xdg/pip/pip.conf'), 0o444);
  chmodSync(r('etc/xdg/pip'), 0o555); // a read-only parent
  writeFileSync(r('etc/hostname'), 'image\n');
  mkdirSync(r('root/.pip'), { recursive: true, mode: 0o700 });
  chmodSync(r('root'), 0o700);
  writeFileSync(r('root/.pip/pip.conf'), '[global]\ntimeout = 60\nindex-url = https://user:secret@corp.example/simple\n');
  chmodSync(r('root/.pip/pip.conf'), 0o600);
  writeFileSync(r('root/.pydistutils.cfg'), '[easy_install]\nindex_url = https://corp.example/simple\n');
  chmodSync(r('root/.pydistutils.cfg'), 0o640);
  chownIfRoot(r('root/.pydistutils.cfg'), 0, 42);
  mkdirSync(r('home/alice/.config/pip'), { recursive: true });
  writeFileSync(r('home/alice/.config/pip/pip.conf'), '[install]\nindex_url = http://alice.example/simple\n');
  for (const p of ['home/alice', 'home/alice/.config', 'home/alice/.config/pip', 'home/alice/.config/pip/pip.conf']) chownIfRoot(r(p), 1000, 1000);
  chmodSync(r('home/alice'), 0o750);
  mkdirSync(r('home/bob'), { recursive: true });
  chownIfRoot(r('home/bob'), 1234, 5678);
  symlinkSync('../etc/hostname', r('home/bob/link-to-hostname'));
  return fixture;
}
