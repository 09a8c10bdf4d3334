/**
 * The WebSocket the client runs on. It needs only the standard browser
 * interface, so browsers (and Node 22+) serve it with their global
 * `WebSocket`, and Node 20 with the `ws` package passed in the options;
 * tests pass a fake.
 */
import { ByrdError } from "../errors.js";
import { WEBSOCKET_PATH, WEBSOCKET_TOKEN_PARAM } from "../generated/protocol.js";

/** The query parameter that carries a ticket from `POST /v1/ws/tickets`. */
const WEBSOCKET_TICKET_PARAM = "ticket";

/** A handler the client sets on a socket; `null` removes it. */
export type SocketHandler<E> = ((event: E) => void) | null;

/**
 * The part of the standard WebSocket interface the client uses.
 *
 * The client only ever sets the `on...` handlers, never reads them, so
 * they are declared as setters of handlers that need no more of an event
 * than the client reads. That way the browser's `WebSocket` (whose
 * handlers take a `MessageEvent` or a `CloseEvent`) and the `ws`
 * package's class are both a `WebSocketConstructor` as they are, without
 * a cast: a handler property typed `(event: unknown) => void` would
 * refuse both, since a function may not ask more of its argument than
 * the property promises.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  get onopen(): unknown;
  set onopen(handler: SocketHandler<unknown>);
  get onmessage(): unknown;
  set onmessage(handler: SocketHandler<{ readonly data: unknown }>);
  get onclose(): unknown;
  set onclose(handler: SocketHandler<{ readonly code: number; readonly reason: string }>);
  get onerror(): unknown;
  set onerror(handler: SocketHandler<unknown>);
}

/** A WebSocket class: the global `WebSocket`, `ws`'s default export, or a test's fake. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * The given implementation, or the global one. Throws a `ByrdError` of
 * kind `unsupported` when there is neither (Node 20 without `ws`).
 * `RealtimeClient` calls it when it is created; an application calls it
 * first to fail before it starts a chat it could not follow.
 */
export function resolveWebSocket(given?: WebSocketConstructor): WebSocketConstructor {
  const found = given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!found) {
    throw new ByrdError(
      "unsupported",
      "no WebSocket implementation: pass one in the options (in Node 20, `import WebSocket from \"ws\"`)",
    );
  }
  return found;
}

/** What opens a socket: a single-use ticket, or the token itself. */
export type Opener = { readonly ticket: string } | { readonly token: string };

/**
 * `wss://host/v1/ws?ticket=...` (or `?token=...`) from an `https://host`
 * base URL. A browser's WebSocket cannot carry a header, so whichever
 * opens the socket rides in the URL; that is why a ticket, spent by the
 * handshake, is the default.
 */
export function socketUrl(baseUrl: string, opener: Opener, afterSeq: number | null): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}${WEBSOCKET_PATH}`);
  url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
  if ("ticket" in opener) url.searchParams.set(WEBSOCKET_TICKET_PARAM, opener.ticket);
  else url.searchParams.set(WEBSOCKET_TOKEN_PARAM, opener.token);
  if (afterSeq !== null) url.searchParams.set("after_seq", String(afterSeq));
  return url.toString();
}

/** The text of a message event; binary frames are not part of the protocol. */
export function textOf(data: unknown): string | null {
  return typeof data === "string" ? data : null;
}

/** Removes every handler the client set, so a socket left behind can no longer reach it. */
export function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
}
