// The upload ACL file (`serve --acl FILE`), parsed (pure): groups of users, and which users and
// groups may upload to, or create, the projects whose PEP 503-normalised names match a pattern.
//
//   [groups]            name = user, user        (a group holds users, not groups)
//   [upload]            pattern = user, @group   (may upload; a pattern other than * also "names" the project)
//   [create]            pattern = user, @group   (may create a new project, and so become its owner)
//
// A pattern is a project name with `*` (any run of characters, none too), normalised as names are.
import { InputError } from '../errors.js';
import { isValidProjectName, normalizeProjectName } from '../pypi/project-name.js';

/** One `pattern = who` line, its groups expanded. */
export interface AclRule {
  /** Normalised, runs of `*` collapsed. */
  pattern: string;
  users: ReadonlySet<string>;
  /** The line of the file, for messages. */
  line: number;
}

export interface UploadAcl {
  /** Where it came from, for messages. */
  source: string;
  upload: readonly AclRule[];
  create: readonly AclRule[];
  /** Every user the file names (directly or in a group), with the first line that names them. */
  users: ReadonlyMap<string, number>;
}

const SECTIONS = ['groups', 'upload', 'create'] as const;
type Section = (typeof SECTIONS)[number];

const GROUP_NAME = /^[A-Za-z0-9._-]+$/;

/** A pattern made a project name (each `*` one letter) must be a valid one: `-x`, `x-`, `a b` can never match. */
function parsePattern(raw: string, fail: (detail: string) => never): string {
  if (!/^[A-Za-z0-9._*-]+$/.test(raw) || !isValidProjectName(raw.replace(/\*/g, 'x')))
    fail(`${JSON.stringify(raw)} is not a project name pattern (letters, digits, - _ . and *)`);
  // PEP 503 on the literal parts; a separator next to a star stays a separator.
  return normalizeProjectName(raw).replace(/\*+/g, '*');
}

/** A user name: what a Basic auth user can be (no `:`), and unambiguous in this file's syntax. */
function checkUser(name: string, fail: (detail: string) => never): void {
  if (name.includes(':')) fail(`user ${JSON.stringify(name)}: a user name cannot hold ":" (HTTP Basic auth splits there)`);
  if (/[\p{Cc}\p{Cf}\s]/u.test(name)) fail(`user ${JSON.stringify(name)}: no blanks or control characters in a user name`);
  if (/[[\]=;]/.test(name)) fail(`user ${JSON.stringify(name)}: no "[", "]", "=" or ";" in a user name`);
}

interface Entry {
  key: string;
  who: { name: string; isGroup: boolean }[];
  line: number;
}

/** `key = a, @b  # comment` -> its parts; `fail` when malformed. */
function parseEntry(text: string, line: number, fail: (detail: string) => never): Entry {
  const equals = text.indexOf('=');
  if (equals < 0) fail('expected "name = users" or a [section]');
  const key = text.slice(0, equals).trim();
  if (key === '') fail('nothing before "="');
  const who: Entry['who'] = [];
  const value = text.slice(equals + 1).trim();
  // Nobody: the line still names the projects it matches (no one becomes their owner).
  if (value === '') return { key, who, line };
  for (const part of value.split(',')) {
    const name = part.trim();
    if (name === '') fail('an empty name in the list (two commas, or one at an end)');
    if (name.startsWith('@')) {
      if (!GROUP_NAME.test(name.slice(1))) fail(`${JSON.stringify(name)} is not a group name (letters, digits, - _ .)`);
      who.push({ name: name.slice(1), isGroup: true });
    } else {
      checkUser(name, fail);
      who.push({ name, isGroup: false });
    }
  }
  return { key, who, line };
}

/** Split into sections of entries, checking the syntax of each line. */
function readEntries(text: string, where: (line: number) => string): Record<Section, Entry[]> {
  const entries: Record<Section, Entry[]> = { groups: [], upload: [], create: [] };
  let section: Section | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const fail: (detail: string) => never = (detail) => {
      throw new InputError('acl', `${where(line)}: ${detail}`);
    };
    const hash = raw.indexOf('#');
    const text = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (text === '' || text.startsWith(';')) continue;
    const header = /^\[\s*([^\]]*?)\s*\]$/.exec(text);
    if (header !== null) {
      const name = (header[1] as string).toLowerCase();
      if (!(SECTIONS as readonly string[]).includes(name)) fail(`unknown section [${header[1]}] (sections: [groups], [upload], [create])`);
      section = name as Section;
      continue;
    }
    if (section === undefined) fail('a line before any [section] (sections: [groups], [upload], [create])');
    entries[section].push(parseEntry(text, line, fail));
  }
  return entries;
}

/** The ACL file's text -> its rules. Throws InputError('acl', "FILE line N: ...") for the first bad line. */
export function parseUploadAcl(text: string, source: string): UploadAcl {
  const where = (line: number) => `${source} line ${line}`;
  const entries = readEntries(text, where);
  const groups = new Map<string, { users: string[]; line: number }>();
  for (const entry of entries.groups) {
    const fail: (detail: string) => never = (detail) => {
      throw new InputError('acl', `${where(entry.line)}: ${detail}`);
    };
    if (!GROUP_NAME.test(entry.key)) fail(`${JSON.stringify(entry.key)} is not a group name (letters, digits, - _ .)`);
    const earlier = groups.get(entry.key);
    if (earlier !== undefined) fail(`group ${entry.key} is defined twice (also line ${earlier.line})`);
    const nested = entry.who.find((w) => w.isGroup);
    if (nested !== undefined) fail(`group ${entry.key} holds @${nested.name}: a group holds users, not groups`);
    groups.set(entry.key, { users: entry.who.map((w) => w.name), line: entry.line });
  }
  const users = new Map<string, number>();
  const note = (user: string, line: number) => {
    if (!users.has(user)) users.set(user, line);
  };
  for (const [, group] of groups) for (const user of group.users) note(user, group.line);
  const rules = (section: 'upload' | 'create'): AclRule[] => {
    const seen = new Map<string, number>();
    return entries[section].map((entry) => {
      const fail: (detail: string) => never = (detail) => {
        throw new InputError('acl', `${where(entry.line)}: ${detail}`);
      };
      const pattern = parsePattern(entry.key, fail);
      const earlier = seen.get(pattern);
      if (earlier !== undefined) fail(`[${section}] lists ${pattern} twice (also line ${earlier}); join the lines`);
      seen.set(pattern, entry.line);
      const members = new Set<string>();
      for (const w of entry.who) {
        if (!w.isGroup) members.add(w.name);
        else {
          const group = groups.get(w.name);
          if (group === undefined) fail(`no group ${w.name} in [groups]`);
          for (const user of group.users) members.add(user);
        }
      }
      for (const w of entry.who) if (!w.isGroup) note(w.name, entry.line);
      return { pattern, users: members, line: entry.line };
    });
  };
  return { source, upload: rules('upload'), create: rules('create'), users };
}
