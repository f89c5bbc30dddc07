// One GET over undici's low-level dispatch(): status and headers as soon as they are in, the body after
// them through a ResponseBody (response-body.ts), with no stream or redirect wrapper per request.
import type { Dispatcher } from 'undici';
import type Agent from 'undici/lib/dispatcher/agent.js';
import { ResponseBody } from './response-body.js';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
}

/** One header's value (the first, when repeated). */
export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Response headers as undici's request() gives them: lower-case names, repeated ones as arrays. */
export function headersFromRaw(raw: readonly Buffer[] | readonly string[] | null | undefined): HttpResponse['headers'] {
  const headers: HttpResponse['headers'] = {};
  if (raw === null || raw === undefined) return headers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString().toLowerCase();
    const value = raw[i + 1]!.toString();
    const before = headers[name];
    if (before === undefined) headers[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else headers[name] = [before, value];
  }
  return headers;
}

/** One GET through the agent: resolves with status and headers once they are in; the body follows through ResponseBody. */
export function dispatchGet(agent: Agent, url: string, headers: Record<string, string>): Promise<HttpResponse> {
  const parsed = new URL(url);
  return new Promise<HttpResponse>((resolve, reject) => {
    let body: ResponseBody | undefined;
    let abortRequest: ((error?: Error) => void) | undefined;
    const handler: Dispatcher.DispatchHandlers = {
      onConnect(abort) {
        abortRequest = abort;
      },
      onError(error) {
        if (body === undefined) reject(error);
        else body.fail(error);
      },
      onUpgrade() {},
      onHeaders(status, raw, resume) {
        body = new ResponseBody(resume, abortRequest);
        resolve({ status, headers: headersFromRaw(raw), body });
        return true;
      },
      onData(chunk) {
        return (body as ResponseBody).push(chunk);
      },
      onComplete() {
        (body as ResponseBody).end();
      },
    };
    agent.dispatch({ origin: parsed.origin, path: `${parsed.pathname}${parsed.search}`, method: 'GET', headers }, handler);
  });
}
