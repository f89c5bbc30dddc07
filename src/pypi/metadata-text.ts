// The human text of core metadata (Name, Summary, the description) for people to read, not for pip. Pure.
import { decodeMetadataText } from './core-metadata.js';

export interface MetadataText {
  name?: string;
  summary?: string;
  /** The message body (Metadata-Version 2.1+) or, in older files, the `Description` field with its continuation lines. */
  description?: string;
}

const HEADER = /^([\x21-\x39\x3b-\x7e]+):(.*)$/;

/**
 * Core metadata's Name, Summary and description. The headers end at the first empty line (as
 * `email.feedparser`); the body after it is the description (core metadata spec, 2.1). Before
 * 2.1 the description is a `Description` field whose continuation lines keep their line breaks,
 * indented by 8 spaces or `|` (setuptools writes `        |`), which is taken off here.
 */
export function readMetadataText(bytes: Buffer | string): MetadataText {
  const lines = decodeMetadataText(bytes).split(/\r\n|\n|\r/);
  const fields = new Map<string, string[]>();
  let current: string[] | undefined;
  let at = 0;
  for (; at < lines.length; at++) {
    const line = lines[at] as string;
    if (line === '') break;
    if (line[0] === ' ' || line[0] === '\t') {
      if (current === undefined) break;
      current.push(line);
      continue;
    }
    const match = HEADER.exec(line);
    if (match === null) break;
    const name = (match[1] as string).toLowerCase();
    current = [(match[2] as string).trim()];
    if (!fields.has(name)) fields.set(name, current);
  }
  const text: MetadataText = {};
  const name = foldedField(fields.get('name'));
  if (name !== '') text.name = name;
  const summary = foldedField(fields.get('summary'));
  if (summary !== '') text.summary = summary;
  const body = lines
    .slice(at + 1)
    .join('\n')
    .trim();
  const description = body !== '' ? body : descriptionField(fields.get('description'));
  if (description !== '') text.description = description;
  return text;
}

/** A one-line field: continuation lines folded with one space. */
function foldedField(lines: string[] | undefined): string {
  return (lines ?? [])
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

/** The pre-2.1 `Description` field: line breaks kept, the continuation indent (8 spaces, or up to a `|`) taken off. */
function descriptionField(lines: string[] | undefined): string {
  if (lines === undefined) return '';
  const [first, ...rest] = lines;
  const body = rest.map((line) => {
    const bar = /^ {0,8}\|/.exec(line);
    if (bar !== null) return line.slice(bar[0].length);
    return line.replace(/^(?: {1,8}|\t)/, '');
  });
  return [first ?? '', ...body].join('\n').trim();
}
