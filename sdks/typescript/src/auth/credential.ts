/**
 * Credentials: where a client's tokens come from. Three kinds exist (an
 * agent session, a guest session, an application's token provider) and all
 * answer the same two questions: a token good for now, and a fresh token
 * because the server refused `stale`.
 *
 * Freshness is decided on use, from the token's expiry and the wall clock,
 * never by a timer: timers stall in background tabs and sleeping laptops,
 * and a client that wakes must not present a token that expired meanwhile.
 * However many callers need a fresh token at once, one refresh runs.
 */
import { ByrdError } from "../errors.js";
import { REFRESH_MARGIN_MS } from "../generated/client.js";

export type TokenKind = "agent" | "guest";

export interface Credential {
  readonly kind: TokenKind;
  /** A token valid for at least a while longer; refreshes first when it is not. */
  token(): Promise<string>;
  /**
   * A token other than `stale`, which the server refused as expired or
   * which is about to expire. Callers racing with the same `stale` token
   * share one refresh.
   */
  refresh(stale: string): Promise<string>;
  /**
   * Calls `listener` with every token a refresh brings, whoever asked for
   * it; answers the function that stops it. The realtime client sends
   * such a token on its live socket.
   */
  onRefresh?(listener: (token: string) => void): () => void;
}

/** The claims of a JWT, read without checking the signature (the server does that). */
export function readClaims(token: string): Record<string, unknown> | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims !== null && typeof claims === "object" ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A token's `exp` in milliseconds since the epoch, when it has one. */
export function expiryOf(token: string): number | null {
  const exp = readClaims(token)?.exp;
  return typeof exp === "number" ? exp * 1000 : null;
}

/** A token's whole life (`exp` less `iat`) in milliseconds, when it says. */
function lifetimeOf(token: string): number | null {
  const claims = readClaims(token);
  return typeof claims?.exp === "number" && typeof claims.iat === "number" ? (claims.exp - claims.iat) * 1000 : null;
}

/**
 * The shared machinery of every credential: the current token and its
 * expiry, and one refresh at a time.
 */
export abstract class RefreshingCredential implements Credential {
  abstract readonly kind: TokenKind;
  protected current: string | null = null;
  /** When `current` expires (ms since the epoch), or null when unknown. */
  protected expiresAt: number | null = null;
  /** How long `current` lives in all (ms), or null when unknown (a token given at construction). */
  #lifetime: number | null = null;
  #inflight: Promise<string> | null = null;
  readonly #listeners = new Set<(token: string) => void>();

  onRefresh(listener: (token: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Gets a new token and sets `current` and `expiresAt`. */
  protected abstract renew(): Promise<void>;

  token(): Promise<string> {
    const current = this.current;
    if (current !== null && this.#fresh()) return Promise.resolve(current);
    return this.refresh(current ?? "");
  }

  /** Whether `current` has long enough left to be used rather than refreshed. */
  #fresh(): boolean {
    if (this.expiresAt === null) return true;
    // Less than the table's margin left, or less than half of a short life.
    return this.expiresAt - Date.now() > Math.min(REFRESH_MARGIN_MS, (this.#lifetime ?? Infinity) / 2);
  }

  refresh(stale: string): Promise<string> {
    if (this.#inflight) return this.#inflight;
    const current = this.current;
    if (current !== null && current !== stale && this.#fresh()) {
      // Someone else's refresh already replaced the stale token.
      return Promise.resolve(current);
    }
    const started = Date.now();
    const flight = this.renew()
      .then(() => {
        this.#lifetime = this.current === null ? null : (lifetimeOf(this.current) ?? (this.expiresAt === null ? null : this.expiresAt - started));
        const token = this.current;
        if (token === null) throw new ByrdError("auth", "the credential has no token");
        for (const listener of this.#listeners) listener(token);
        return token;
      })
      .finally(() => {
        this.#inflight = null;
      });
    this.#inflight = flight;
    return flight;
  }
}

/**
 * A credential backed by the application: `provide` is called whenever a
 * fresh token is needed (a backend minting agent tokens, say). An empty
 * string, or a thrown `ByrdError` of kind `auth`, means "no more tokens":
 * the realtime client stops. Any other failure is retried with backoff.
 */
export function tokenProvider(kind: TokenKind, provide: () => Promise<string> | string): Credential {
  return new (class extends RefreshingCredential {
    readonly kind = kind;
    protected async renew(): Promise<void> {
      const token = await provide();
      if (typeof token !== "string" || token === "") {
        throw new ByrdError("auth", "the token provider gave no token");
      }
      this.current = token;
      this.expiresAt = expiryOf(token);
    }
  })();
}

/** A fixed token: for one-off calls, or a token whose renewal the application handles itself. */
export function staticToken(kind: TokenKind, token: string): Credential {
  return {
    kind,
    token: () => Promise.resolve(token),
    refresh: () => Promise.reject(new ByrdError("auth", "a static token cannot be refreshed")),
  };
}
