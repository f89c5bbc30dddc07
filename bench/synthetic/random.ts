// Seeded randomness for the synthetic mirror: the same seed gives the same mirror, byte for byte.

/** A small deterministic random source (mulberry32 over a string-hashed seed). */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Log-uniform in [min, max]: small values common, large ones rare, like real file sizes. */
  logUniform(min: number, max: number): number;
}

/** FNV-1a: a 32-bit seed from any string (`--add-project NAME` seeds by NAME). */
export function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** mulberry32: fast, good enough for test data, and reproducible on every platform. */
export function createRandom(seed: string | number): Random {
  let state = typeof seed === 'number' ? seed >>> 0 : hashSeed(seed);
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => nextUint32() / 4294967296;
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('synthetic: pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    logUniform: (min, max) => Math.round(Math.exp(Math.log(min) + next() * (Math.log(max) - Math.log(min)))),
  };
}

/**
 * `bytes` of seeded noise. Files take slices of it at random offsets: incompressible (neither
 * zip nor gzip can shrink them, like real compiled extensions) yet free to produce per file.
 */
export function makeNoisePool(seed: string | number, bytes: number): Buffer {
  const random = createRandom(seed);
  const words = new Uint32Array(Math.ceil(bytes / 4));
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(random.next() * 4294967296);
  return Buffer.from(words.buffer, 0, bytes);
}
