/**
 * One error type for everything the SDK can fail with. `kind` says which
 * failure it is, so callers branch on a string rather than on classes:
 *
 * - `api`: the server answered with an error (`ByrdApiError`: code, status,
 *   request id);
 * - `transport`: the request or the socket failed on the network;
 * - `decode`: an answer could not be read (not JSON, or not the documented shape);
 * - `auth`: the credentials were refused for good (revoked, invalid, or a
 *   token provider that said no); retrying cannot help;
 * - `queue_full`: a send found the offline queue, or the frames waiting for
 *   the pace, full;
 * - `closed`: the realtime client is closed, by the application or by a
 *   close code whose action is `stop`;
 * - `unsupported`: the environment lacks what the SDK needs (a WebSocket
 *   implementation in Node 20): pass one in the options;
 * - `listener`: an application's event listener threw or rejected (`cause`
 *   holds what it threw), reported as a realtime `error` event.
 */
import type { ErrorCode } from "./generated/types.js";

export type ByrdErrorKind =
  | "api"
  | "transport"
  | "decode"
  | "auth"
  | "queue_full"
  | "closed"
  | "unsupported"
  | "listener";

export interface ByrdErrorDetails {
  /** The HTTP status, when there was an answer. */
  status?: number | undefined;
  /** `X-Request-Id` of the answer: quote it when reporting a failure. */
  requestId?: string | null | undefined;
  /** The WebSocket close code that ended the client (`closed`, `auth`). */
  closeCode?: number | null | undefined;
  cause?: unknown;
}

export class ByrdError extends Error {
  readonly kind: ByrdErrorKind;
  readonly status: number | null;
  readonly requestId: string | null;
  readonly closeCode: number | null;

  constructor(kind: ByrdErrorKind, message: string, details: ByrdErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ByrdError";
    this.kind = kind;
    this.status = details.status ?? null;
    this.requestId = details.requestId ?? null;
    this.closeCode = details.closeCode ?? null;
  }
}

/** The server refused a request or a frame with a documented error body. */
export class ByrdApiError extends ByrdError {
  /** The stable code; branch on it, never on `message`. */
  readonly code: ErrorCode;
  /** Seconds from `Retry-After`, on `429 rate_limited`. */
  readonly retryAfter: number | null;

  constructor(
    code: ErrorCode,
    message: string,
    details: ByrdErrorDetails & { retryAfter?: number | null | undefined } = {},
  ) {
    super("api", message, details);
    this.name = "ByrdApiError";
    this.code = code;
    this.retryAfter = details.retryAfter ?? null;
  }
}

/** The API error behind `error`, if it is or wraps one. */
export function apiErrorOf(error: unknown): ByrdApiError | null {
  if (error instanceof ByrdApiError) return error;
  if (error instanceof ByrdError && error.cause instanceof ByrdApiError) return error.cause;
  return null;
}
