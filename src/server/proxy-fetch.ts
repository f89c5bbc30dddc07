// The pull-through cache's upstreams and its file fetches: a file downloaded on first request, streamed to
// the client while written, verified against upstream's sha256, then committed to the mirror by the store.
import { basename } from 'node:path';
import type { ServerResponse } from 'node:http';
import { commitDownload } from '../mirror/store/commit-download.js';
import { parseDistFilename } from '../pypi/dist-filename.js';
import { redact } from '../redact.js';
import { downloadVerified, HashMismatchError, type DownloadTee } from '../upstream/download-file.js';
import { HttpTransport } from '../upstream/http-transport.js';
import { SimpleIndexClient } from '../upstream/simple-client.js';
import { UpstreamError, type UpstreamFile } from '../upstream/simple-model.js';
import { authHeaders, parseUpstreamUrl, type UpstreamUrl } from '../upstream/upstream-url.js';
import { sendError } from './respond.js';

export interface Upstream {
  url: UpstreamUrl;
  client: SimpleIndexClient;
  transport: HttpTransport;
  /** Circuit breaker: after a failure the upstream counts as down until then. */
  downUntil: number;
  lastError?: string;
}

const PAGE_RETRY = { retries: 1, baseDelayMs: 100, maxDelayMs: 500 };
/** The longest one attempt at a page may take in the background (a request waits --timeout at most when a page is kept). */
const pageAttemptMs = (timeoutMs: number) => Math.max(60_000, 6 * timeoutMs);

/** The clients of one upstream index URL. */
export function connectUpstream(raw: string, options: { timeoutMs: number; maxPageBytes: number }): Upstream {
  const url = parseUpstreamUrl(raw);
  return {
    url,
    client: new SimpleIndexClient({
      url: raw,
      timeoutMs: options.timeoutMs,
      connections: 16,
      retry: PAGE_RETRY,
      userAgent: 'dib-pypi-serve',
      maxPageBytes: options.maxPageBytes,
      pageAttemptMs: pageAttemptMs(options.timeoutMs),
    }),
    transport: new HttpTransport({ connections: 16, timeoutMs: options.timeoutMs, userAgent: 'dib-pypi-serve' }),
    downUntil: 0,
  };
}

export interface FetchJob {
  upstream: Upstream;
  project: string;
  url: string;
  sha256: string;
  size?: number | undefined;
  /** Where the file goes: `DIR/<project>/<file>`, or a kept `.metadata` file. */
  target: string;
  /** The client to stream the download to. */
  res?: ServerResponse | undefined;
  /** The distribution file as upstream lists it (not for a `.metadata` file). */
  file?: UpstreamFile;
}

export interface FetchHooks {
  maxFileBytes: number;
  log: (line: string) => void;
  onUpstreamRequest?: ((kind: 'page' | 'file', seconds: number, isOk: boolean) => void) | undefined;
  /** A distribution file was stored as DIR/<project>/<filename> (re-index soon). */
  onStored: (project: string, filename: string) => void;
}

/**
 * Download `url` into `target` through a temp file (`.<name>.part-*`), hashing as it streams and
 * copying to `res` when given; renamed into place only when the sha256 (and size) match. On any
 * failure the temp is removed and `res`, if streaming, is cut off so the client cannot take the
 * bytes for a whole file.
 */
export async function fetchIntoMirror(job: FetchJob, hooks: FetchHooks): Promise<boolean> {
  const { upstream, project, url, sha256, size, target, res, file } = job;
  let isDone = false;
  const startedAt = performance.now();
  try {
    const tee: DownloadTee | undefined =
      res === undefined
        ? undefined
        : {
            start: (announced) =>
              res.writeHead(200, {
                'Content-Type': 'application/octet-stream',
                ...(announced === undefined ? {} : { 'Content-Length': String(announced) }),
                'X-Dib-Pypi-Cache': 'miss',
              }),
            // Only a full socket buffer holds the upstream connection (a promise for every chunk would pause it each time).
            write: (data) => (res.destroyed || res.write(data) ? undefined : drainedOrClosed(res)),
          };
    const sdist = file === undefined ? undefined : parseDistFilename(file.filename);
    const isSdist = sdist?.kind === 'sdist';
    const result = await downloadVerified(upstream.transport, {
      url,
      target,
      algorithm: 'sha256',
      digest: sha256,
      maxBytes: hooks.maxFileBytes,
      ...(size === undefined ? {} : { size }),
      headers: authHeaders(upstream.url, url),
      makeParent: true,
      ...(tee === undefined ? {} : { tee }),
      ...(isSdist ? { commit: 'keep-temp' as const } : {}),
    });
    await commitDownload(target, {
      project,
      ...(isSdist && result.temp !== undefined ? { sdist: { temp: result.temp, filename: sdist } } : {}),
      ...(file?.uploadTime === undefined ? {} : { uploadTime: file.uploadTime }),
      ...(file?.yanked === undefined ? {} : { yanked: file.yanked }),
    });
    isDone = true;
    hooks.onUpstreamRequest?.('file', (performance.now() - startedAt) / 1000, true);
    if (result.heldBack !== undefined && res !== undefined && !res.destroyed) res.write(result.heldBack);
    res?.end();
    hooks.log(`cached ${project}/${target.split('/').pop()} from ${upstream.url.display} (${result.bytes} bytes)`);
    if (file !== undefined) hooks.onStored(project, basename(target));
    return true;
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error));
    hooks.onUpstreamRequest?.('file', (performance.now() - startedAt) / 1000, false);
    hooks.log(`download failed, nothing kept: ${message}`);
    if (error instanceof UpstreamError && error.isTransient && !(error instanceof HashMismatchError)) {
      upstream.lastError = message;
    }
    if (res !== undefined && !res.headersSent) sendError(res.req, res, 502, `upstream download failed: ${message}`);
    return false;
  } finally {
    if (res !== undefined && !isDone && res.headersSent && !res.writableEnded) res.destroy();
  }
}

/** Resolves when `res` drains or closes; neither listener outlives it (a long download drains many times). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
