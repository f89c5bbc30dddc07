// Credentials in URLs are allowed, but never printed: every line dib-pypi writes goes through here.

// user:password@ -> user:***@ ; token@ (no password) -> ***@ . Works on text that is not a valid URL
// too (`http:/user:pw@host`), but not `mailto:`. Greedy up to the last `@` before the path, as URL parsers and pip read it.
const USERINFO = /(\b[a-zA-Z][a-zA-Z0-9+.-]*:\/{1,3})([^/?#\s]*)@/g;

/** Replace the secret part of every URL's userinfo in `text`. */
export function redact(text: string): string {
  return text.replace(USERINFO, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon === -1) return `${scheme}***@`;
    return `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** Whether a URL carries credentials (so files holding it must be treated as secret). */
export function hasCredentials(url: string): boolean {
  USERINFO.lastIndex = 0;
  const found = USERINFO.test(url);
  USERINFO.lastIndex = 0;
  return found;
}
