// The strict check of every member of a tar archive from outside (an upload): what pip's extraction filter refuses, and more.
import { TarFormatError, type TarMember } from './tar-scanner.js';

/** Symlinks one name may go through before it is refused (a loop, or a long chain): the kernel's ELOOP limit. */
export const MAX_LINK_STEPS = 40;
/** Path components one name may walk, its links' included, before it is refused. */
const MAX_WALKED_PARTS = 4096;
/** Path components a whole archive may walk through its symlinks (a few seconds' work at most), before it is refused. */
const MAX_ARCHIVE_WALKED_PARTS = 16 * 1024 * 1024;
/** A link target longer than this is refused (Linux's PATH_MAX: extraction would fail with ENAMETOOLONG). */
const MAX_LINK_TARGET_BYTES = 4095;

/** A directory of the extracted tree that holds symlinks (at some depth), or a symlink (`link`, its target). */
interface LinkNode {
  children: Map<string, LinkNode>;
  link?: string;
}

function pathParts(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Where `path` (from the archive root) lands once the symlinks in `root` are followed, as
 * `os.path.realpath` would on the tree extracted so far: its parts from the root, or undefined
 * when it leaves the root. A loop or a chain of more than MAX_LINK_STEPS links throws.
 */
function resolveThroughLinks(root: LinkNode, path: string, member: string, budget: { parts: number }): string[] | undefined {
  const parts: string[] = [];
  // nodes[i]: the node of parts[0..i), undefined off the tree (no symlink below).
  const nodes: (LinkNode | undefined)[] = [root];
  const todo = pathParts(path).reverse();
  let links = 0;
  let walked = 0;
  for (let part = todo.pop(); part !== undefined; part = todo.pop()) {
    if (++walked > MAX_WALKED_PARTS) throw new TarFormatError(`${member}: more than ${MAX_WALKED_PARTS} path components to resolve`);
    if (--budget.parts < 0) throw new TarFormatError(`more than ${MAX_ARCHIVE_WALKED_PARTS} path components to resolve through the archive's symlinks`);
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
      nodes.pop();
      continue;
    }
    const node = nodes[nodes.length - 1]?.children.get(part);
    if (node?.link === undefined) {
      parts.push(part);
      nodes.push(node);
      continue;
    }
    if (++links > MAX_LINK_STEPS) throw new TarFormatError(`${member} goes through more than ${MAX_LINK_STEPS} symlinks (a symlink loop?)`);
    if (node.link.startsWith('/')) return undefined;
    const target = pathParts(node.link);
    for (let i = target.length - 1; i >= 0; i--) todo.push(target[i] as string);
  }
  return parts;
}

/** The symlink at `parts` (from the root): its target, or undefined when there is none. */
function linkAt(root: LinkNode, parts: string[]): string | undefined {
  let node: LinkNode | undefined = root;
  for (const part of parts) node = node?.children.get(part);
  return node?.link;
}

/** The node at `parts` (from the root), made when missing. */
function linkNodeAt(root: LinkNode, parts: string[]): LinkNode {
  let node = root;
  for (const part of parts) {
    let child = node.children.get(part);
    if (child === undefined) node.children.set(part, (child = { children: new Map() }));
    node = child;
  }
  return node;
}

/**
 * The check of every member of an archive from outside, in archive order (one checker per
 * archive): what Python's `tarfile.data_filter` (PEP 706, what pip extracts sdists with) refuses.
 * Absolute names, `..` in names, devices and FIFOs; a name that lands outside the archive through
 * the symlinks before it (`os.path.realpath(dest/name)`); a symlink whose target, from its own
 * directory, or a hard link whose target, from the root, lands outside (absolute, `..` past the
 * root, or through earlier symlinks), as realpath would resolve it on the tree extracted so far.
 * Stricter than the filter: a symlink loop or a chain of more than MAX_LINK_STEPS links, and a
 * link target that leaves the root on its way back in, are refused too.
 */
export function tarMemberChecker(): (member: TarMember) => void {
  const root: LinkNode = { children: new Map() };
  let hasSymlinks = false;
  const budget = { parts: MAX_ARCHIVE_WALKED_PARTS };
  return (member: TarMember) => {
    const path = member.path;
    if (path.startsWith('/') || path.split('/').includes('..')) throw new TarFormatError(`unsafe member name ${JSON.stringify(path)}`);
    if (member.type === '3' || member.type === '4' || member.type === '6') throw new TarFormatError(`${path} is a device or FIFO (tar type ${member.type})`);
    const linkPath = member.linkPath;
    if (linkPath === undefined && !hasSymlinks) return; // no symlink yet: the name was checked whole above
    const resolve = (target: string) => resolveThroughLinks(root, target, path, budget);
    if (resolve(path) === undefined) throw new TarFormatError(`${path} lands outside the archive through its symlinks`);
    if (linkPath === undefined) return;
    const outside = () => new TarFormatError(`${path} links outside the archive (to ${JSON.stringify(linkPath)})`);
    if (linkPath.startsWith('/')) throw outside();
    if (Buffer.byteLength(linkPath) > MAX_LINK_TARGET_BYTES) throw new TarFormatError(`${path} links to a target longer than ${MAX_LINK_TARGET_BYTES} bytes`);
    const nameParts = pathParts(path);
    const base = nameParts.pop();
    const parent = resolve(nameParts.join('/'));
    if (base === undefined || parent === undefined) throw new TarFormatError(`unsafe member name ${JSON.stringify(path)}`);
    let symlinkTarget: string | undefined;
    if (member.type === '2') {
      if (resolve(`${nameParts.join('/')}/${linkPath}`) === undefined) throw outside();
      symlinkTarget = linkPath;
    } else {
      if (resolve(linkPath) === undefined) throw outside();
      // A hard link to a symlink can be extracted as a copy of that symlink, here: checked as one.
      const targetParts = pathParts(linkPath);
      const targetBase = targetParts.pop();
      const targetParent = targetBase === undefined || targetBase === '..' ? undefined : resolve(targetParts.join('/'));
      const link = targetParent === undefined ? undefined : linkAt(root, [...targetParent, targetBase as string]);
      if (link !== undefined) {
        if (link.startsWith('/') || resolve(`${nameParts.join('/')}/${link}`) === undefined) throw outside();
        symlinkTarget = link;
      }
    }
    if (symlinkTarget === undefined) return;
    // Extraction replaces what was at the name's place (its parent's symlinks followed) with the symlink.
    linkNodeAt(root, [...parent, base]).link = symlinkTarget;
    hasSymlinks = true;
    resolve(path); // throws when the new link closes a loop
  };
}
