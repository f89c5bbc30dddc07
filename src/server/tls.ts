// HTTPS for `dib-pypi serve`: the certificate (chain) and its key read from PEM files and checked as a
// pair, and read again on SIGHUP for new connections (a pair that does not load keeps the old one).
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:https';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import { InputError } from '../errors.js';
import { ObservedResponse } from './observe.js';

export interface TlsSettings {
  /** PEM: the server's certificate, then any intermediates. */
  certFile: string;
  /** PEM: its private key, not encrypted. */
  keyFile: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** OpenSSL's message without its code prefix (`error:05800074:x509 certificate routines::key values mismatch` -> `key values mismatch`). */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^error:[0-9A-F]+:[^:]*::?/, '').split('\n')[0] as string;
}

function readPem(path: string, input: 'tls-cert' | 'tls-key'): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InputError(input, `cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? reason(error)}`);
  }
}

/**
 * The pair, read and checked the way the server will load it: both files readable, the certificate
 * PEM, the key PEM and unencrypted, and the key the certificate's. InputError `tls-cert` or `tls-key`.
 */
export function readTlsPair(settings: TlsSettings): TlsPair {
  const cert = readPem(settings.certFile, 'tls-cert');
  const key = readPem(settings.keyFile, 'tls-key');
  try {
    createSecureContext({ cert });
  } catch (error) {
    throw new InputError('tls-cert', `${JSON.stringify(settings.certFile)} holds no PEM certificate: ${reason(error)}`);
  }
  try {
    createSecureContext({ key });
  } catch (error) {
    throw new InputError('tls-key', `${JSON.stringify(settings.keyFile)} holds no unencrypted PEM private key: ${reason(error)}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new InputError(
      'tls-key',
      `${JSON.stringify(settings.keyFile)} is not the key of the certificate in ${JSON.stringify(settings.certFile)}: ${reason(error)}`,
    );
  }
  return { cert, key };
}

/** An HTTPS server answering like app.ts's HTTP one. */
export function createHttpsServer(pair: TlsPair): Server {
  return createServer({ ...pair, ServerResponse: ObservedResponse }) as unknown as Server;
}

/**
 * Read the pair again and hand it to new connections (open ones keep theirs). A pair that does not
 * load (a half-copied file, a key of another certificate) keeps the one in use; either way it is logged.
 */
export function reloadTls(server: Server, settings: TlsSettings, log: (line: string) => void): void {
  let pair: TlsPair;
  try {
    pair = readTlsPair(settings);
  } catch (error) {
    log(`warning: TLS certificate not reloaded, the one in use stays: ${error instanceof InputError ? error.detail : reason(error)}`);
    return;
  }
  (server as unknown as TlsServer).setSecureContext(pair);
  log(`TLS certificate reloaded from ${settings.certFile}: new connections get it`);
}
