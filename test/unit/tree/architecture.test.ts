// The layers of docs/architecture.md, checked against the code's own imports: what each layer may
// import, what it must never import, and no import circle between files or between layers.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** A layer: the first folder under src/ (`top` for src/*.ts). */
function layerOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 2 ? 'top' : (parts[1] ?? 'top');
}

/**
 * Which layers each layer may import (itself always). Everything may import `top` (errors,
 * redaction, appendAll). What is not listed is forbidden: the nevers of docs/architecture.md.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  top: [],
  async: [],
  fs: [],
  pypi: [],
  plan: [],
  upstream: ['pypi', 'fs', 'async'],
  mirror: ['pypi', 'upstream', 'fs', 'async', 'plan'],
  server: ['mirror', 'pypi', 'upstream', 'fs', 'async'],
  inject: ['plan', 'fs'],
  targets: ['inject', 'plan', 'fs', 'pypi'],
  cli: ['targets', 'inject', 'plan', 'server', 'mirror', 'upstream', 'pypi', 'fs', 'async'],
};

/** Node built-ins that mean disk, network or processes: the pure layers never import them. */
const IO_MODULES = /^node:(fs|fs\/promises|http|https|http2|net|tls|dgram|child_process|worker_threads|cluster)$/;
const PURE_LAYERS = new Set(['pypi', 'plan']);
/** inject/ configures a root from a plan: it needs no HTTP client or server. */
const NO_NETWORK_LAYERS = new Set(['inject', 'pypi', 'plan', 'fs']);
const NETWORK_MODULES = /^node:(http|https|http2|net|tls|dgram)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => relative(REPO, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

/** Every module specifier a file names: static imports, re-exports and import('...') with a literal. */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(REPO, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteral(argument)) found.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

interface Graph {
  files: string[];
  /** file -> the files of the tree it imports */
  edges: Map<string, string[]>;
  /** file -> the external modules it imports (node:..., packages) */
  external: Map<string, string[]>;
}

function readGraph(): Graph {
  const files = sourceFiles('src').sort();
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  for (const file of files) {
    const internal: string[] = [];
    const outside: string[] = [];
    for (const spec of specifiers(file)) {
      if (!spec.startsWith('.')) {
        outside.push(spec);
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      assert.ok(known.has(target), `${file} imports ${spec}, which is not a source file of the tree`);
      internal.push(target);
    }
    edges.set(file, internal);
    external.set(file, outside);
  }
  return { files, edges, external };
}

/** Strongly connected components with more than one member (or a self-import): the import circles. */
function circles(nodes: readonly string[], next: (node: string) => readonly string[]): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const to of next(node)) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || next(node).includes(node)) found.push(component.sort());
    }
  };
  for (const node of nodes) if (!index.has(node)) connect(node);
  return found;
}

const graph = readGraph();

test('circles: the helper finds a circle and only a circle', () => {
  const edges: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'], e: ['e'], f: [] };
  assert.deepEqual(
    circles(Object.keys(edges), (n) => edges[n] ?? []),
    [['a', 'b', 'c'], ['e']],
  );
});

test('every layer imports only the layers below it', () => {
  const wrong: string[] = [];
  for (const file of graph.files) {
    const layer = layerOf(file);
    const allowed = MAY_IMPORT[layer];
    assert.ok(allowed !== undefined, `${file}: layer ${layer} is not in docs/architecture.md; add it there and here`);
    for (const target of graph.edges.get(file) ?? []) {
      const to = layerOf(target);
      if (to !== layer && to !== 'top' && !allowed.includes(to)) wrong.push(`${file} (${layer}) imports ${target} (${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('pypi/ and plan/ touch no disk, network or process; inject/ and fs/ need no network', () => {
  const wrong: string[] = [];
  for (const file of graph.files) {
    const layer = layerOf(file);
    for (const module of graph.external.get(file) ?? []) {
      if (PURE_LAYERS.has(layer) && IO_MODULES.test(module)) wrong.push(`${file} imports ${module}`);
      else if (NO_NETWORK_LAYERS.has(layer) && NETWORK_MODULES.test(module)) wrong.push(`${file} imports ${module}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import circle between files', () => {
  assert.deepEqual(
    circles(graph.files, (file) => graph.edges.get(file) ?? []),
    [],
  );
});

test('no import circle between folders', () => {
  const folderEdges = new Map<string, Set<string>>();
  for (const file of graph.files) {
    const from = dirname(file);
    for (const target of graph.edges.get(file) ?? []) {
      const to = dirname(target);
      if (to === from) continue;
      let set = folderEdges.get(from);
      if (set === undefined) folderEdges.set(from, (set = new Set()));
      set.add(to);
    }
  }
  const folders = [...new Set(graph.files.map((file) => dirname(file)))].sort();
  assert.deepEqual(
    circles(folders, (folder) => [...(folderEdges.get(folder) ?? [])]),
    [],
  );
});

/** A module a reader can hold in mind: past this, it is doing more than one job. */
const MAX_LINES = 300;

test(`no source file over ${MAX_LINES} lines`, () => {
  const long = graph.files
    .map((file) => ({ file, lines: readFileSync(join(REPO, file), 'utf8').split('\n').length - 1 }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ file, lines }) => `${file}: ${lines} lines`);
  assert.deepEqual(long, []);
});
