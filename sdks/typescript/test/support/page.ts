//! What a browser page gives the README's guest quick start, so that it
//! runs in Node as written (`node --import page.js guest.js`): the page's
//! `render`, `showTyping` and `showConnection`, which print what they are
//! given as `page: <json>` lines; a global `WebSocket`; and the page's
//! host, `https://chat.example.com`, pointed at the test server
//! (`BYRD_TEST_URL`) the way a hosts file would. Every request the page
//! makes is printed too, so a test can tell whether a chat was started.
//!
//! `BYRD_PAGE_WEBSOCKET=none` takes the global `WebSocket` away, as in
//! Node 20 without `ws`.
import WebSocket from "ws";

const PAGE_HOST = "chat.example.com";
const server = new URL(process.env.BYRD_TEST_URL ?? "");

function print(what: string, value: unknown): void {
  process.stdout.write(`page: ${JSON.stringify({ [what]: value })}\n`);
}

/** `https://chat.example.com/...` and `wss://chat.example.com/...` at the test server. */
function mapped(address: string): string {
  const url = new URL(address);
  if (url.hostname !== PAGE_HOST) return address;
  url.protocol = url.protocol === "wss:" || url.protocol === "ws:" ? "ws:" : "http:";
  url.host = server.host;
  return url.toString();
}

class PageWebSocket extends WebSocket {
  constructor(address: string) {
    super(mapped(address));
  }
}

const page = globalThis as unknown as Record<string, unknown>;
const realFetch = globalThis.fetch;
page.fetch = (input: string | URL | Request, init?: RequestInit) => {
  const address = input instanceof Request ? input.url : String(input);
  print("request", `${init?.method ?? "GET"} ${new URL(address).pathname}`);
  return realFetch(input instanceof Request ? input : mapped(address), init);
};
if (process.env.BYRD_PAGE_WEBSOCKET === "none") delete page.WebSocket;
else page.WebSocket = PageWebSocket;
page.render = (message: unknown) => print("render", message);
page.showTyping = (author: unknown, active: unknown) => print("typing", { author, active });
page.showConnection = (status: unknown) => print("connection", status);
