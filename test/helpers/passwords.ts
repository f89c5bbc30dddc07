// Random passwords over a hostile alphabet, for the redaction property tests.

/** A small deterministic PRNG (mulberry32): a failing seed can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Every character a URL parser treats specially, blanks, quotes, and some non-ASCII (a no-break space too).
const HOSTILE = ['/', '#', '?', '@', '%', ':', ' ', '\\', '"', "'", '=', ';', '&', '+', '[', ']', '%2F', '%40', '%zz', 'ä', 'ß', '€', '\u00a0', '日', '😀'];
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~';

/**
 * 8-16 characters, at least three of them hostile, starting with a letter or digit run so it is
 * distinctive. Never ` xy://` (a URL after a blank starts a new URL: the documented limit).
 */
export function randomPassword(random: () => number): string {
  for (;;) {
    const length = 8 + Math.floor(random() * 9);
    let out = '';
    let hostile = 0;
    while (out.length < length) {
      if (random() < 0.4) {
        out += HOSTILE[Math.floor(random() * HOSTILE.length)];
        hostile++;
      } else {
        out += PLAIN[Math.floor(random() * PLAIN.length)];
      }
    }
    if (hostile >= 3 && !/\s[a-zA-Z][a-zA-Z0-9+.-]+:\/\//.test(out)) return out;
  }
}

/** The forms a password takes in printed text: raw, percent-encoded, WHATWG userinfo-encoded. */
export function passwordForms(password: string): string[] {
  const url = new URL('http://h/');
  url.password = password;
  return [...new Set([password, encodeURIComponent(password), url.password])];
}

/** The strings that must never be printed: the password, its encodings, and its decoded form. */
export function secretForms(password: string): string[] {
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // not decodable: the raw form stands for it
  }
  return [...new Set([...passwordForms(password), decoded])];
}
