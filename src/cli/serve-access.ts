// `--read-auth`, `--metrics-auth`, `--tls-cert`/`--tls-key`: checked once at start, and the warning
// about passwords sent in clear text over a network.
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { AccessSettings } from '../server/read-auth.js';
import { readTlsPair, type TlsSettings } from '../server/tls.js';
import type { ServeFlags } from './commands/serve-options.js';
import { readHtpasswdUsers } from './serve-htpasswd.js';

/** Passwords for reading and /metrics, when --read-auth or --metrics-auth names a file (read and checked here). */
export function accessSettings(flags: ServeFlags, maxLoginFailures: number, warnings: string[]): AccessSettings | undefined {
  if (flags.readAuth === undefined && flags.metricsAuth === undefined) return undefined;
  if (flags.readAuth !== undefined) readHtpasswdUsers(flags.readAuth, '--read-auth', warnings);
  if (flags.metricsAuth !== undefined) readHtpasswdUsers(flags.metricsAuth, '--metrics-auth', warnings);
  return { readUsersFile: flags.readAuth, metricsUsersFile: flags.metricsAuth, maxLoginFailures };
}

/** HTTPS, when --tls-cert and --tls-key are both given; `isChecked`: the pair is read and checked here. */
export function tlsSettings(flags: ServeFlags, isChecked = true): TlsSettings | undefined {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return undefined;
  if (flags.tlsCert === undefined) throw new UsageError('needs --tls-cert FILE too', '--tls-key');
  if (flags.tlsKey === undefined) throw new UsageError('needs --tls-key FILE too', '--tls-cert');
  const settings = { certFile: flags.tlsCert, keyFile: flags.tlsKey };
  if (isChecked) readTlsPair(settings); // InputError tls-cert / tls-key: the command's inputs name the flag
  return settings;
}

/** Whether `host` is this machine only: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The warning when passwords would cross a network in clear text: uploads or read auth, on another address than loopback, without TLS. */
export function clearTextWarning(host: string, what: { isUploading: boolean; hasPasswords: boolean; hasTls: boolean }): string | undefined {
  if (what.hasTls || isLoopbackHost(host) || !(what.isUploading || what.hasPasswords)) return undefined;
  const which = [what.isUploading ? 'uploads' : '', what.hasPasswords ? 'read or metrics passwords' : ''].filter((each) => each !== '').join(' and ');
  return `${which} on ${host} without TLS: passwords and files cross the network in clear text; give --tls-cert and --tls-key, or put a TLS proxy in front and listen on 127.0.0.1`;
}

/**
 * What the nginx configuration needs of --read-auth and --tls-cert/--tls-key: the same files, checked
 * the same way (nginx's crypt(3), libxcrypt on Debian, verifies the bcrypt entries of htpasswd -B).
 */
export function nginxAccess(flags: ServeFlags): { usersFile?: string; tls?: TlsSettings } {
  if (flags.metricsAuth !== undefined) throw new UsageError('the nginx configuration serves no /metrics', '--metrics-auth');
  if (flags.readAuth !== undefined) readHtpasswdUsers(flags.readAuth, '--read-auth', []);
  // The pair is nginx's to read (its master runs as root): a key this user may not read is no error here.
  return { usersFile: flags.readAuth === undefined ? undefined : resolve(flags.readAuth), tls: absolute(tlsSettings(flags, false)) };
}

function absolute(tls: TlsSettings | undefined): TlsSettings | undefined {
  return tls === undefined ? undefined : { certFile: resolve(tls.certFile), keyFile: resolve(tls.keyFile) };
}
