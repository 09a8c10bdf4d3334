//! A WebSocket stand-in for unit tests of the state machine: the test
//! plays the server, opening, sending frames and closing by hand.
import type { WebSocketConstructor, WebSocketLike } from "../../src/realtime/socket.js";

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closedByClient = false;

  constructor(readonly url: string) {}

  get params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(): void {
    this.closedByClient = true;
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code: 1005, reason: "" }), 0);
  }

  // The server's side.

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  hello(heartbeatMs = 25_000, limits: Record<string, number> = {}): void {
    if (this.readyState === 0) this.open();
    this.receive({
      type: "hello",
      protocol_version: "1.0.0",
      connection_id: "00000000-0000-4000-8000-00000000000c",
      principal: { type: "agent", id: "00000000-0000-4000-8000-00000000000a" },
      heartbeat_interval_ms: heartbeatMs,
      token_expires_at: "2030-01-01T00:00:00Z",
      limits: {
        frames_per_second: 20,
        frame_burst: 40,
        max_frame_bytes: 65_536,
        max_message_chars: 4_000,
        replay_cap: 1_000,
        ...limits,
      },
    });
  }

  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((frame) => frame.type === type);
  }
}

/** A WebSocket class whose every instance the test can reach. */
export function fakeSockets(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[]; next(): Promise<FakeSocket> } {
  const sockets: FakeSocket[] = [];
  const waiters: ((socket: FakeSocket) => void)[] = [];
  class Socket extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
      waiters.shift()?.(this);
    }
  }
  let taken = 0;
  return {
    WebSocket: Socket,
    sockets,
    next() {
      const index = taken++;
      const existing = sockets[index];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
