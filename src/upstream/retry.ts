// Retries with exponential backoff and jitter, for transient upstream errors only.
import { UpstreamError } from './simple-model.js';

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** First delay; doubled each attempt, with up to 50% jitter, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 4_000 };

/** The delay before retry number `attempt` (1-based). `random` in [0, 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp * (0.5 + random / 2));
}

/** Run `fn` until it succeeds, a non-transient error occurs, or the retries are spent (the last error is thrown). */
export async function withRetries<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  onRetry?: (error: UpstreamError, attempt: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!(error instanceof UpstreamError) || !error.isTransient || attempt >= policy.retries) throw error;
      onRetry?.(error, attempt + 1);
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(policy, attempt + 1, Math.random())));
    }
  }
}
