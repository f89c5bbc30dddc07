// A multipart/form-data body as twine sends it (fields, then the `content` file), for hand-made uploads in tests.
import { createHash, randomBytes } from 'node:crypto';

export interface UploadParts {
  fields: Record<string, string>;
  filename: string;
  content: Buffer;
}

/** The form twine 4 sends for `file`, digests computed from `content` (override any field in `fields`). */
export function twineFields(name: string, version: string, content: Buffer): Record<string, string> {
  return {
    ':action': 'file_upload',
    protocol_version: '1',
    metadata_version: '2.1',
    name,
    version,
    filetype: 'bdist_wheel',
    pyversion: 'py3',
    md5_digest: createHash('md5').update(content).digest('hex'),
    sha256_digest: createHash('sha256').update(content).digest('hex'),
  };
}

export function multipart(parts: UploadParts): { body: Buffer; contentType: string } {
  const boundary = `----dib-pypi-test-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(parts.fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  chunks.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${parts.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
  );
  chunks.push(parts.content, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
