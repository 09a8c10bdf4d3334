/**
 * Reconnect delays: exponential with full jitter, between a floor and a
 * cap. Full jitter spreads out the clients that lost the same server at
 * the same moment; the floor keeps a client that fails at once from spinning.
 */

export interface BackoffOptions {
  /** The first retry's ceiling, in ms (default 500). */
  base: number;
  /** The shortest wait, in ms (default 100). */
  floor: number;
  /** The longest ceiling, in ms (default 30 000). */
  cap: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { base: 500, floor: 100, cap: 30_000 };

/** The wait before retry `retry` (1 for the first): random in `[0, min(cap, base × 2^(retry-1))]`, at least `floor`. */
export function fullJitter(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const doublings = Math.min(Math.max(retry - 1, 0), 30);
  const ceiling = Math.min(options.cap, options.base * 2 ** doublings);
  return Math.max(options.floor, Math.floor(ceiling * random()));
}

/** Backoff options of which any may be left out, or given as `undefined`, for its default. */
export type BackoffOverrides = { [K in keyof BackoffOptions]?: BackoffOptions[K] | undefined };

/** The defaults, with what `overrides` sets; an `undefined` value keeps the default. */
export function backoffWith(overrides: BackoffOverrides = {}): BackoffOptions {
  return {
    base: overrides.base ?? DEFAULT_BACKOFF.base,
    floor: overrides.floor ?? DEFAULT_BACKOFF.floor,
    cap: overrides.cap ?? DEFAULT_BACKOFF.cap,
  };
}
