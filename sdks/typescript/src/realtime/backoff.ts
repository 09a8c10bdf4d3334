/**
 * Reconnect delays: exponential with full jitter, between a floor and a
 * cap. Full jitter spreads out the clients that lost the same server at
 * the same moment; the floor keeps a client that fails at once from
 * spinning. The defaults, and the rule that starts the count over, are
 * the spec's client behaviour table (`generated/client.ts`).
 */
import { RECONNECT_BACKOFF, RECONNECT_RESET_AFTER_MS } from "../generated/client.js";

export interface BackoffOptions {
  /** The first retry's ceiling, in ms (default 500). */
  base: number;
  /** How the ceiling grows with each retry (default 2). */
  factor: number;
  /** The shortest wait, in ms (default 100). */
  floor: number;
  /** The longest ceiling, in ms (default 30 000). */
  cap: number;
  /**
   * A connection that got its `hello` and stayed up this long (ms) starts
   * the count over (default 2 000): a link that drops every few seconds
   * then reconnects at once each time instead of climbing to the cap.
   */
  resetAfter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { ...RECONNECT_BACKOFF, resetAfter: RECONNECT_RESET_AFTER_MS };

/** The wait before retry `retry` (1 for the first): random in `[0, min(cap, base × factor^(retry-1))]`, at least `floor`. */
export function fullJitter(
  retry: number,
  options: Pick<BackoffOptions, "base" | "floor" | "cap"> & { factor?: number },
  random: () => number = Math.random,
): number {
  const growth = Math.max(options.factor ?? 2, 1) ** Math.min(Math.max(retry - 1, 0), 30);
  const ceiling = Math.min(options.cap, options.base * growth);
  return Math.max(options.floor, Math.floor(ceiling * random()));
}

/** Backoff options of which any may be left out, or given as `undefined`, for its default. */
export type BackoffOverrides = { [K in keyof BackoffOptions]?: BackoffOptions[K] | undefined };

/** The defaults, with what `overrides` sets; an `undefined` value keeps the default. */
export function backoffWith(overrides: BackoffOverrides = {}): BackoffOptions {
  return {
    base: overrides.base ?? DEFAULT_BACKOFF.base,
    factor: overrides.factor ?? DEFAULT_BACKOFF.factor,
    floor: overrides.floor ?? DEFAULT_BACKOFF.floor,
    cap: overrides.cap ?? DEFAULT_BACKOFF.cap,
    resetAfter: overrides.resetAfter ?? DEFAULT_BACKOFF.resetAfter,
  };
}
