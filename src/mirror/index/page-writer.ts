// Write one project's two pages (HTML, JSON) when their bytes changed: the unit of page work the indexer's workers run.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32HexFast } from '../inspect/crc32-native.js';
import { replaceFile } from '../../fs/replace-file.js';
import type { PageRecord } from '../store/manifest.js';
import { renderProjectHtml, renderProjectJson, type ProjectPage } from '../../pypi/render-pages.js';

export interface PageJob {
  dir: string;
  page: ProjectPage;
  /** CRCs of the pages as last written; undefined: unknown (compare with the file on disk). */
  previous?: PageRecord;
  /** The scan listed the project's directory and saw these pages there or not: no stat per page. */
  listed?: { hasHtml: boolean; hasJson: boolean };
}

export interface PageOutcome {
  project: string;
  record: PageRecord;
  written: number;
}

/**
 * Replace `target` with `text` unless it already holds exactly that (by the recorded CRC, or by
 * reading it). `isAbsent`: the caller's listing showed no `target` (a full run's new pages).
 */
export function writePageIfChanged(target: string, text: string, previousCrc: string | undefined, isAbsent = false): { crc: string; isWritten: boolean } {
  const crc = crc32HexFast(text);
  if (!isAbsent && crc === previousCrc && existsSync(target)) return { crc, isWritten: false };
  if (!isAbsent && previousCrc === undefined && existsSync(target) && readFileSync(target, 'utf8') === text) return { crc, isWritten: false };
  replaceFile(target, text);
  return { crc, isWritten: true };
}

export function writeProjectPages(job: PageJob): PageOutcome {
  const projectDir = join(job.dir, job.page.name);
  const write = (): PageOutcome => {
    const html = writePageIfChanged(join(projectDir, 'index.html'), renderProjectHtml(job.page), job.previous?.html, job.listed?.hasHtml === false);
    const json = writePageIfChanged(join(projectDir, 'index.json'), renderProjectJson(job.page), job.previous?.json, job.listed?.hasJson === false);
    return { project: job.page.name, record: { html: html.crc, json: json.crc }, written: Number(html.isWritten) + Number(json.isWritten) };
  };
  // A directory the scan listed is there (no mkdir per project), unless it was removed since.
  if (job.listed === undefined) mkdirSync(projectDir, { recursive: true });
  try {
    return write();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || job.listed === undefined) throw error;
    mkdirSync(projectDir, { recursive: true });
    return write();
  }
}
