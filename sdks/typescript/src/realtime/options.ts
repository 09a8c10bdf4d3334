/**
 * What an application may set on the realtime client, and the settings the
 * client runs with once each option has taken its default. The
 * heartbeat, the frame allowance and the frame limit are settled again at
 * every `hello`, from what that server announces held to sane ranges
 * (`limitsOf`), unless an option fixed them.
 */
import type { Credential } from "../auth/credential.js";
import {
  CONNECT_TIMEOUT_MS,
  FALLBACK_LIMITS,
  HELLO_BOUNDS,
  PACING_MARGIN,
  SEND_QUEUE,
  SOCKET_AUTH_DEFAULT,
  type SocketAuth,
} from "../generated/client.js";
import type { ServerHello } from "../generated/types.js";
import type { Client } from "../rest/client.js";
import { type BackoffOptions, type BackoffOverrides, backoffWith } from "./backoff.js";
import { resolveWebSocket, type WebSocketConstructor } from "./socket.js";

export interface RealtimeOptions {
  /** The REST client: base URL, credential and `fetch` (gap paging uses it). */
  client: Client;
  /** The credential to connect with; the client's first one by default. */
  credential?: Credential | undefined;
  /** A WebSocket implementation; the global `WebSocket` by default. */
  WebSocket?: WebSocketConstructor | undefined;
  /**
   * What opens each socket. `"ticket"` (the default, the spec's client
   * behaviour table): a fresh single-use ticket from `POST /v1/ws/tickets`
   * right before every connect and reconnect, so the token never rides in
   * a URL, which proxies and browser consoles record; a server without
   * tickets (404) gets the token. `"token"`: the token in the URL
   * (`?token=`), one request fewer per connect, for simple clients.
   */
  socketAuth?: SocketAuth | undefined;
  /** Reconnect delays in ms; defaults (the spec's client behaviour table) base 500, floor 100, cap 30 000, reset after 2 000 up. */
  backoff?: BackoffOverrides | undefined;
  /** Sends that may wait for an ack at once (default 100, the spec's client behaviour table). */
  maxQueuedSends?: number | undefined;
  /** A socket that has not said `hello` after this many ms is dropped (default `CONNECT_TIMEOUT_MS` of the client table: 10 000). */
  connectTimeoutMs?: number | undefined;
  /**
   * The server's frame limit in bytes; a larger send is refused at once.
   * By default the limit the server announces in `hello.limits` (65 536
   * before the first `hello`).
   */
  maxFrameBytes?: number | undefined;
  /**
   * Frames a second the client writes at most, and the burst it may write
   * at once: a server refuses frames past its allowance and closes a
   * connection that keeps trying. By default the allowance the server
   * announces in `hello.limits` (20 and 40 when it announces none).
   */
  framesPerSecond?: number | undefined;
  frameBurst?: number | undefined;
  /** In browsers, reconnect at once when the network returns or the page is shown (default true). */
  watchPage?: boolean | undefined;
  /**
   * Where each chat starts, when the application already holds its
   * messages up to some `seq` (say, restored from storage). A guest's own
   * chat starts at 0 otherwise.
   */
  resumeFrom?: Readonly<Record<string, number>> | undefined;
}

/** Options of one `send`. */
export interface SendOptions {
  /** The message's id, made beforehand (`randomUuid()`) by pages that keep unsent messages across a reload. */
  clientMsgId?: string | undefined;
}

/** The options with every default taken; what the client runs with. */
export interface Settings {
  readonly client: Client;
  readonly credential: Credential;
  readonly WebSocket: WebSocketConstructor;
  readonly socketAuth: SocketAuth;
  readonly backoff: BackoffOptions;
  readonly connectTimeout: number;
  readonly maxQueuedSends: number;
  readonly watchPage: boolean;
  /** Set by the application: then `hello.limits` does not change them. */
  readonly maxFrameBytes: number | undefined;
  readonly framesPerSecond: number | undefined;
  readonly frameBurst: number | undefined;
  readonly resumeFrom: Readonly<Record<string, number>>;
}

/** Takes every option's default; throws when there is no credential or no WebSocket implementation. */
export function settingsOf(options: RealtimeOptions): Settings {
  const credential = options.credential ?? options.client.credentials[0];
  if (!credential) throw new TypeError("the realtime client needs a credential");
  return {
    client: options.client,
    credential,
    WebSocket: resolveWebSocket(options.WebSocket),
    socketAuth: socketAuthOf(options.socketAuth),
    backoff: backoffWith(options.backoff),
    connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    maxQueuedSends: options.maxQueuedSends ?? SEND_QUEUE,
    watchPage: options.watchPage ?? true,
    maxFrameBytes: ownLimit("maxFrameBytes", options.maxFrameBytes, HELLO_BOUNDS.max_frame_bytes),
    framesPerSecond: ownLimit("framesPerSecond", options.framesPerSecond, HELLO_BOUNDS.frames_per_second),
    frameBurst: ownLimit("frameBurst", options.frameBurst, HELLO_BOUNDS.frame_burst),
    resumeFrom: options.resumeFrom ?? {},
  };
}

/** The option, checked: a JavaScript caller may pass anything. */
function socketAuthOf(value: SocketAuth | undefined): SocketAuth {
  if (value === undefined) return SOCKET_AUTH_DEFAULT;
  if (value !== "ticket" && value !== "token") throw new RangeError(`socketAuth must be "ticket" or "token", not ${String(value)}`);
  return value;
}

/**
 * An application's own limit, held to the range a server's may take: a pace
 * of 0 frames a second would never write and spin instead, so a value out
 * of range is refused when the client is made, not found out later.
 */
function ownLimit(name: string, value: number | undefined, bounds: { min: number; max: number }): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < bounds.min || value > bounds.max) {
    throw new RangeError(`${name} must be between ${bounds.min} and ${bounds.max}, not ${value}`);
  }
  return value;
}

/** What one connection runs with: its heartbeat, its frame limit and its pace. */
export interface FrameLimits {
  /** How often the client pings; silence for twice as long is a dead socket. */
  readonly heartbeatMs: number;
  readonly maxFrameBytes: number;
  readonly perSecond: number;
  readonly burst: number;
}

/**
 * The longest delay a timer takes (2^31 - 1 ms): a longer one fires at
 * once, over and over. The client table's ceiling of every `hello` value.
 */
export const MAX_TIMER_MS = HELLO_BOUNDS.heartbeat_interval_ms.max;

/** The heartbeat of a `hello` that names none a number (the spec's default). */
const FALLBACK_HEARTBEAT_MS = 25_000;

/** `value` as a whole number within `bounds`; `fallback` when it is no number at all. */
function within(value: unknown, bounds: { min: number; max: number }, fallback: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) return fallback;
  return Math.min(bounds.max, Math.max(bounds.min, Math.floor(value)));
}

/** The limits before any `hello`. */
export function initialLimits(settings: Settings): FrameLimits {
  return limitsOf(settings, undefined, FALLBACK_LIMITS.max_frame_bytes);
}

/**
 * The limits of a connection whose server said `hello` (undefined: before
 * any), each held to `HELLO_BOUNDS`. The server says what it allows; an
 * explicit option wins, and a server that announces nothing gets the
 * protocol's defaults for the pace and keeps the frame limit `previous` of
 * the connection before.
 */
export function limitsOf(settings: Settings, hello: Partial<ServerHello> | undefined, previous: number): FrameLimits {
  const announced: Partial<ServerHello["limits"]> | undefined = hello?.limits ?? undefined;
  const framesPerSecond = within(announced?.frames_per_second, HELLO_BOUNDS.frames_per_second, FALLBACK_LIMITS.frames_per_second);
  const frameBurst = within(announced?.frame_burst, HELLO_BOUNDS.frame_burst, FALLBACK_LIMITS.frame_burst);
  // A tenth below the announced allowance: the server counts frames as
  // they arrive, and one delayed on the way arrives closer to the next
  // than it was written; at exactly the allowance that is a refusal.
  const perSecond = framesPerSecond * PACING_MARGIN;
  const burst = Math.max(1, Math.floor(frameBurst * PACING_MARGIN));
  return {
    heartbeatMs: within(hello?.heartbeat_interval_ms, HELLO_BOUNDS.heartbeat_interval_ms, FALLBACK_HEARTBEAT_MS),
    maxFrameBytes: settings.maxFrameBytes ?? within(announced?.max_frame_bytes, HELLO_BOUNDS.max_frame_bytes, previous),
    perSecond: settings.framesPerSecond ?? perSecond,
    burst: settings.frameBurst ?? burst,
  };
}
