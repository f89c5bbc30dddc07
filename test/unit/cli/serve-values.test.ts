// `dib-pypi serve`'s flag values: each parser's default, accepted forms, and the UsageError naming its flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors.js';
import { parseSize } from '../../../src/parse-size.js';
import { DEFAULT_PORT, parseByteLimit, parseLogFormat, parseMegabytes, parsePort, parseSeconds, urlHost } from '../../../src/cli/serve-values.js';

function refused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => error instanceof UsageError && message.test(error.message));
}

test('--port: 8080 by default, 0..65535, digits only', () => {
  assert.equal(parsePort(undefined), DEFAULT_PORT);
  assert.equal(parsePort('0'), 0);
  assert.equal(parsePort('65535'), 65535);
  for (const bad of ['65536', '-1', '80a', '', ' 80', '123456']) refused(() => parsePort(bad), /^--port: expected a port number 0-65535/);
});

test('seconds: above 0, fractions allowed, at most a year; the flag is named', () => {
  assert.equal(parseSeconds(undefined, '--ttl', 600), 600);
  assert.equal(parseSeconds('0.5', '--ttl', 600), 0.5);
  assert.equal(parseSeconds('31536000', '--timeout', 10), 31_536_000);
  for (const bad of ['0', '0.0', '-1', '1e3', '.5', 'ten', '31536001'])
    refused(() => parseSeconds(bad, '--timeout', 10), /^--timeout: expected a number of seconds above 0/);
});

test('MiB: a whole number of 1 or more', () => {
  assert.equal(parseMegabytes(undefined, '--cache-mb', 64), 64);
  assert.equal(parseMegabytes('1', '--cache-mb', 64), 1);
  for (const bad of ['0', '1.5', '-2', '1234567', 'x'])
    refused(() => parseMegabytes(bad, '--max-upload-mb', 1024), /^--max-upload-mb: expected a whole number of MiB/);
});

test('byte limits take parseSize units and must be above 0', () => {
  assert.equal(parseByteLimit(undefined, '--max-page-size', 7), 7);
  assert.equal(parseByteLimit('512M', '--max-page-size', 7), parseSize('512M', 'x'));
  assert.equal(parseByteLimit('64MiB', '--max-file-size', 7), 64 * 1024 ** 2);
  refused(() => parseByteLimit('0', '--max-file-size', 7), /^--max-file-size: expected a size above 0/);
  refused(() => parseByteLimit('big', '--max-file-size', 7), /^--max-file-size: expected a size such as/);
});

test('--log-format: combined by default, json, only with --access-log', () => {
  assert.equal(parseLogFormat(undefined, false), 'combined');
  assert.equal(parseLogFormat('json', true), 'json');
  assert.equal(parseLogFormat('combined', true), 'combined');
  refused(() => parseLogFormat('json', false), /^--log-format: only with --access-log/);
  refused(() => parseLogFormat('common', true), /^--log-format: expected combined or json/);
});

test('urlHost: IPv6 addresses in brackets', () => {
  assert.equal(urlHost('127.0.0.1'), '127.0.0.1');
  assert.equal(urlHost('localhost'), 'localhost');
  assert.equal(urlHost('::1'), '[::1]');
});
