// Start listening, with the reasons a server cannot listen told apart (the CLI adds which flag to change).
import type { Server } from 'node:http';
import { DibPypiError } from '../errors.js';

export type ListenProblem = 'in-use' | 'no-such-address' | 'permission-denied';

const MESSAGES: Record<ListenProblem, (host: string, port: number) => string> = {
  'in-use': (host, port) => `cannot listen on ${host}:${port}: the port is in use`,
  'no-such-address': (host) => `cannot listen on ${JSON.stringify(host)}: no such local address`,
  'permission-denied': (host, port) => `cannot listen on ${host}:${port}: permission denied (ports below 1024 need root)`,
};

const PROBLEMS: Record<string, ListenProblem> = {
  EADDRINUSE: 'in-use',
  EADDRNOTAVAIL: 'no-such-address',
  ENOTFOUND: 'no-such-address',
  EACCES: 'permission-denied',
};

export class ListenError extends DibPypiError {
  readonly problem: ListenProblem;
  readonly host: string;
  readonly port: number;
  constructor(problem: ListenProblem, host: string, port: number, options?: { cause?: unknown }) {
    super(MESSAGES[problem](host, port), options);
    this.problem = problem;
    this.host = host;
    this.port = port;
  }
}

/** Resolves once `server` listens on host:port; a ListenError for the usual reasons it cannot. */
export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const problem = PROBLEMS[error.code ?? ''];
      fail(problem === undefined ? error : new ListenError(problem, host, port, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      done();
    });
  });
}
