/**
 * The REST runtime the generated operations call: one `Client` holds the
 * base URL, the credentials and the `fetch` to use; `request` runs one
 * operation with the right token, typed errors and retries.
 *
 * Retries follow the spec's client behaviour table (`rest.rules` of
 * `client.json`, generated into `generated/client.ts`), the same for
 * every SDK: a `401 token_expired` gets one fresh token (single flight,
 * shared with every other caller) and one more try; `rate_limited` and
 * `unavailable`, which say nothing was done, are retried for every
 * operation after `Retry-After`; connection failures and other `429`s and
 * `503`s only for safe operations (idempotent, keyed by the client, or
 * replayable within their window, as `refreshSession` within the
 * server's refresh grace), after a backoff with full jitter.
 */
import type { Credential, TokenKind } from "../auth/credential.js";
import { ByrdApiError, ByrdError } from "../errors.js";
import type { ErrorBody } from "../generated/types.js";
import { REST_BACKOFF, REST_MAX_RETRIES, REST_MAX_RETRY_AFTER_MS, restRule } from "../generated/client.js";
import { fullJitter } from "../realtime/backoff.js";

export interface ClientOptions {
  /** The server's base URL, such as `https://chat.example.com`. */
  baseUrl: string;
  /** Where tokens come from; an operation takes the first of a kind it accepts. */
  credential?: Credential | readonly Credential[] | undefined;
  /** A `fetch` implementation; the global one by default. */
  fetch?: typeof fetch | undefined;
  /** Retries after the first try (default 2); 0 turns retrying off. */
  maxRetries?: number | undefined;
  /** The longest `Retry-After` honoured, in seconds (default 60); past it the error is thrown. */
  maxRetryAfterSeconds?: number | undefined;
}

/** Per-call options. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
  /** False: answer `401 token_expired` with the error instead of refreshing the token and trying again. */
  refreshOnExpiry?: boolean | undefined;
}

/** What the generated code says about an operation. */
export interface OperationSpec {
  method: string;
  /** The path with its parameters already filled in. */
  path: string;
  query?: object;
  body?: unknown;
  /** The token kinds the operation accepts; empty when it needs none. */
  tokens: readonly TokenKind[];
  /** The operation may be repeated without doing its work twice. */
  idempotent: boolean;
  /** Safe to repeat this long (ms) after the first attempt although not idempotent. */
  replayWindowMs?: number;
  /** Statuses other than 2xx whose body is the answer, not an error (a 503 health report). */
  answers?: readonly number[];
}

export class Client {
  readonly baseUrl: string;
  readonly credentials: readonly Credential[];
  readonly maxRetries: number;
  readonly maxRetryAfterSeconds: number;
  readonly #fetch: typeof fetch | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const credential = options.credential;
    this.credentials = credential === undefined ? [] : Array.isArray(credential) ? [...credential] : [credential as Credential];
    this.maxRetries = options.maxRetries ?? REST_MAX_RETRIES;
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? REST_MAX_RETRY_AFTER_MS / 1000;
    this.#fetch = options.fetch;
  }

  /** The same client with other credentials. */
  withCredential(credential: Credential | readonly Credential[]): Client {
    return new Client({
      baseUrl: this.baseUrl,
      credential,
      maxRetries: this.maxRetries,
      maxRetryAfterSeconds: this.maxRetryAfterSeconds,
      ...(this.#fetch ? { fetch: this.#fetch } : {}),
    });
  }

  /** The credential an operation accepting `kinds` uses, if the client has one. */
  credentialFor(kinds: readonly TokenKind[]): Credential | undefined {
    return this.credentials.find((c) => kinds.includes(c.kind));
  }

  /** The `fetch` to call, looked up late so a polyfill installed after construction counts. */
  get fetch(): typeof fetch {
    const f = this.#fetch ?? globalThis.fetch;
    if (typeof f !== "function") {
      throw new ByrdError("transport", "no fetch implementation: pass `fetch` in the client options");
    }
    return f.bind(globalThis);
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** Runs one operation and decodes its JSON answer (`undefined` for 204). */
export async function request<T>(client: Client, op: OperationSpec, options: RequestOptions = {}): Promise<T> {
  const credential = op.tokens.length ? client.credentialFor(op.tokens) : undefined;
  if (op.tokens.length && !credential) {
    throw new ByrdError("auth", `${op.method} ${op.path} needs a ${op.tokens.join(" or ")} token`);
  }
  const maxRetries = options.maxRetries ?? client.maxRetries;
  const started = Date.now();
  let token = credential ? await credential.token() : undefined;
  let refreshed = false;
  for (let retry = 0; ; retry++) {
    const safe = op.idempotent || (op.replayWindowMs !== undefined && Date.now() - started < op.replayWindowMs);
    let response: Response;
    try {
      response = await client.fetch(url(client.baseUrl, op.path, op.query), init(op, token, attemptSignal(op, started, options.signal)));
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      const error = new ByrdError("transport", `${op.method} ${op.path} failed: ${String(cause)}`, { cause });
      const rule = restRule(null, null);
      if (rule && (rule.operations === "every" || safe) && retry < maxRetries) {
        await sleep(fullJitter(retry + 1, REST_BACKOFF), options.signal);
        continue;
      }
      throw error;
    }
    if (response.ok || op.answers?.includes(response.status)) return decodeSuccess<T>(response, op);
    const error = await decodeError(response);
    const rule = restRule(error.code, response.status);
    if (rule?.wait === "token_refresh") {
      if (credential && token !== undefined && !refreshed && options.refreshOnExpiry !== false) {
        refreshed = true;
        token = await credential.refresh(token);
        retry--;
        continue;
      }
      throw error;
    }
    if (rule && (rule.operations === "every" || safe) && retry < maxRetries) {
      const wait = rule.wait === "retry_after" && error.retryAfter !== null ? error.retryAfter * 1000 : fullJitter(retry + 1, REST_BACKOFF);
      if (wait <= client.maxRetryAfterSeconds * 1000) {
        await sleep(wait, options.signal);
        continue;
      }
    }
    throw error;
  }
}

/**
 * The signal of one attempt: the caller's, and for a replayable operation
 * the end of its window too, since an answer later than that could not be
 * asked for again.
 */
function attemptSignal(op: OperationSpec, started: number, signal: AbortSignal | undefined): AbortSignal | undefined {
  if (op.replayWindowMs === undefined) return signal;
  const window = AbortSignal.timeout(Math.max(1, op.replayWindowMs - (Date.now() - started)));
  return signal ? AbortSignal.any([signal, window]) : window;
}

function url(baseUrl: string, path: string, query: object | undefined): string {
  let search = "";
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.append(key, String(value));
    }
    const text = params.toString();
    if (text) search = `?${text}`;
  }
  return `${baseUrl}${path}${search}`;
}

function init(op: OperationSpec, token: string | undefined, signal: AbortSignal | undefined): RequestInit {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const init: RequestInit = { method: op.method, headers };
  // An absent optional body is left out, not sent as `null`.
  if (op.body !== undefined && op.body !== null) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(op.body);
  }
  if (signal) init.signal = signal;
  return init;
}

async function decodeSuccess<T>(response: Response, op: OperationSpec): Promise<T> {
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch (cause) {
    throw new ByrdError("decode", `${op.method} ${op.path}: the answer is not JSON`, {
      status: response.status,
      requestId: response.headers.get("x-request-id"),
      cause,
    });
  }
}

/** The typed error of a non-2xx answer. */
export async function decodeError(response: Response): Promise<ByrdApiError> {
  const requestId = response.headers.get("x-request-id");
  const retryAfterHeader = response.headers.get("retry-after");
  const retryAfter = retryAfterHeader !== null && /^\d+$/.test(retryAfterHeader.trim()) ? Number(retryAfterHeader) : null;
  let body: Partial<ErrorBody> | null = null;
  try {
    body = (await response.json()) as Partial<ErrorBody>;
  } catch {
    // Not the documented body (a proxy's page, say): the status decides.
  }
  const detail = body?.error;
  if (detail && typeof detail.code === "string") {
    return new ByrdApiError(detail.code, String(detail.message ?? detail.code), { status: response.status, requestId, retryAfter });
  }
  return new ByrdApiError(`http_${response.status}`, `the server answered ${response.status} without an error body`, {
    status: response.status,
    requestId,
    retryAfter,
  });
}

/** Items of every page of a cursor-paged operation, fetching pages as they are needed. */
export async function* paginate<Page, Item>(
  fetchPage: (cursor: string | undefined) => Promise<Page>,
  items: (page: Page) => readonly Item[],
  next: (page: Page) => string | null | undefined,
): AsyncGenerator<Item, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* items(page);
    cursor = next(page) ?? undefined;
  } while (cursor !== undefined);
}
