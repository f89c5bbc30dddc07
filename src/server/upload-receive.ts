// Receiving a legacy upload's multipart form: fields in memory (capped), the `content` file streamed to a temp file while hashed; on any failure nothing stays open or on disk.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import busboy from 'busboy';
import type { UploadForm } from './upload-form.js';

export interface Received {
  form: UploadForm;
  temp?: string;
}

/** The form is not one we can read, or the client went away: 400 (when anyone is left to hear it). */
export class BadForm extends Error {}
/** The form's fields (metadata, description) together, at most. */
const MAX_FIELD_BYTES = 4 * 1024 * 1024;
/** The file or the fields are over their limits: 413. */
export class TooLarge extends Error {}

/**
 * Read the multipart form: fields into memory, the `content` file streamed to a temp file while
 * hashed. On any failure (a client that goes away, a malformed form, a file over the limit) the
 * temp file is closed and removed before the promise rejects: nothing stays open or on disk.
 */
export function receiveUpload(req: IncomingMessage, options: { tempDir: string; maxBytes: number }): Promise<Received> {
  return new Promise((resolve, reject) => {
    // Gone while its credentials were checked: its 'close' has been and will not come again.
    if (req.destroyed || req.readableAborted) return reject(new BadForm('the client went away during the upload'));
    const received: Received = { form: { fields: new Map() } };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, preservePath: true, limits: { files: 1, fields: 200, fieldSize: 1024 * 1024, fileSize: options.maxBytes } });
    } catch (error) {
      reject(new BadForm(`not a multipart/form-data upload: ${(error as Error).message}`));
      return;
    }
    let out: WriteStream | undefined;
    let settled = false;
    let writing: Promise<void> = Promise.resolve();
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      parser.destroy();
      const stream = out;
      const closed = stream === undefined || stream.closed ? Promise.resolve() : new Promise<void>((done) => stream.once('close', () => done()));
      stream?.destroy();
      const temp = received.temp;
      void closed
        .then(() => (temp === undefined ? undefined : rm(temp, { force: true })))
        .catch(() => undefined)
        .then(() => reject(error));
    };
    let fieldBytes = 0;
    parser.on('field', (name, value) => {
      if (settled) return;
      // 200 fields of 1 MiB each would be 200 MiB held per upload: the whole form's fields are capped instead.
      fieldBytes += name.length + value.length;
      if (fieldBytes > MAX_FIELD_BYTES) return fail(new TooLarge(`the form's fields are larger than ${MAX_FIELD_BYTES} bytes`));
      received.form.fields.set(name, value);
    });
    parser.on('file', (name, stream, info) => {
      // After a failure the parser may still be inside the chunk it was given: nothing more is opened.
      if (name !== 'content' || out !== undefined || settled) {
        stream.resume();
        return;
      }
      received.form.filename = info.filename;
      const temp = join(options.tempDir, `${Date.now()}-${randomBytes(6).toString('hex')}.part`);
      received.temp = temp;
      const md5 = createHash('md5');
      const sha256 = createHash('sha256');
      let size = 0;
      const file = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
      out = file;
      stream.on('data', (chunk: Buffer) => {
        md5.update(chunk);
        sha256.update(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => fail(new TooLarge(`the file is larger than the limit of ${options.maxBytes} bytes`)));
      stream.on('error', (error: Error) => fail(new BadForm(`malformed upload: ${error.message}`)));
      file.on('error', fail);
      // Resolved once the descriptor is closed, not merely flushed.
      writing = new Promise((done) =>
        file.on('close', () => {
          if (file.errored !== null || settled) return;
          received.form.received = { md5: md5.digest('hex'), sha256: sha256.digest('hex'), size };
          done();
        }),
      );
      stream.pipe(file);
    });
    parser.on('error', (error: Error) => fail(new BadForm(`malformed upload: ${error.message}`)));
    parser.on(
      'close',
      () =>
        void writing.then(() => {
          if (settled) return;
          settled = true;
          resolve(received);
        }),
    );
    req.on('aborted', () => fail(new BadForm('the client went away during the upload')));
    req.on('close', () => {
      if (!req.complete) fail(new BadForm('the client went away during the upload'));
    });
    req.on('error', (error) => fail(new BadForm(`the upload failed: ${error.message}`)));
    req.pipe(parser);
  });
}
