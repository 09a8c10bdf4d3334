/**
 * The WebSocket the client runs on. It needs only the standard browser
 * interface, so browsers (and Node 22+) serve it with their global
 * `WebSocket`, and Node 20 with the `ws` package passed in the options;
 * tests pass a fake.
 */
import { ByrdError } from "../errors.js";
import { WEBSOCKET_PATH, WEBSOCKET_TOKEN_PARAM } from "../generated/protocol.js";

/** The part of the standard WebSocket interface the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The given implementation, or the global one. */
export function resolveWebSocket(given: WebSocketConstructor | undefined): WebSocketConstructor {
  const found = given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!found) {
    throw new ByrdError(
      "transport",
      "no WebSocket implementation: pass one in the options (in Node 20, `import WebSocket from \"ws\"`)",
    );
  }
  return found;
}

/** `wss://host/v1/ws?token=...` from an `https://host` base URL. */
export function socketUrl(baseUrl: string, token: string, afterSeq: number | null): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}${WEBSOCKET_PATH}`);
  url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
  url.searchParams.set(WEBSOCKET_TOKEN_PARAM, token);
  if (afterSeq !== null) url.searchParams.set("after_seq", String(afterSeq));
  return url.toString();
}

/** The text of a message event; binary frames are not part of the protocol. */
export function textOf(data: unknown): string | null {
  return typeof data === "string" ? data : null;
}
