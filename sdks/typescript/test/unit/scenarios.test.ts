// The shared realtime scenarios of `sdks/scenarios/` (see the README there),
// each run against a fake WebSocket and a fake `fetch`. The Rust SDK runs
// the same files against a scripted server.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

import { tokenProvider } from "../../src/auth/credential.js";
import { getMe } from "../../src/generated/operations.js";
import type { Message } from "../../src/generated/types.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import { Client } from "../../src/rest/client.js";
import { type FakeSocket, fakeSockets } from "../support/fake_socket.js";
import { fakeJwt } from "../support/tokens.js";
import { sleep, until } from "../support/wait.js";

// .test-build/test/unit/ -> sdks/scenarios/
const DIR = new URL("../../../../scenarios/", import.meta.url);

type Json = Record<string, unknown>;
interface Scenario {
  name: string;
  principal: "agent" | "guest";
  backoff?: { base: number; factor: number; floor: number; cap: number; reset_after: number };
  steps: Json[];
}

/** Every field of `partial` is in `frame`, recursively. */
function holds(frame: unknown, partial: unknown): boolean {
  if (partial === null || typeof partial !== "object") return frame === partial;
  if (frame === null || typeof frame !== "object") return false;
  return Object.entries(partial).every(([key, value]) => holds((frame as Json)[key], value));
}

class Run {
  readonly sockets = fakeSockets();
  readonly rt: RealtimeClient;
  readonly client: Client;
  readonly delivered: number[] = [];
  readonly settled = new Map<string, boolean>();
  /** The socket being played, and how many of its frames were read. */
  socket: FakeSocket | null = null;
  read = 0;
  /** The next `GET /v1/me` is refused as `token_expired`. */
  expireNextMe = false;

  constructor(scenario: Scenario) {
    const kind = scenario.principal;
    let n = 0;
    const credential = tokenProvider(kind, () =>
      fakeJwt({ type: kind, n: ++n, exp: Math.floor(Date.now() / 1000) + 3600, chat: kind === "guest" ? { id: "00000000-0000-4000-8000-000000000001" } : undefined }),
    );
    const fetch = async (input: string | URL | Request) => {
      const url = new URL(String(input));
      if (url.pathname === "/v1/me" && this.expireNextMe) {
        this.expireNextMe = false;
        return Response.json({ error: { code: "token_expired", message: "expired" } }, { status: 401 });
      }
      if (url.pathname === "/v1/me") return Response.json({ type: kind, id: "x", name: "A", role: "agent", token_expires_at: "2030-01-01T00:00:00Z" });
      return Response.json({ messages: [], has_more: false });
    };
    const client = new Client({ baseUrl: "http://byrd.test", credential, fetch: fetch as typeof globalThis.fetch });
    this.client = client;
    const b = scenario.backoff;
    const backoff = b ? { base: b.base, factor: b.factor, floor: b.floor, cap: b.cap, resetAfter: b.reset_after } : { base: 10, floor: 1, cap: 40 };
    // The scenarios play sockets, not ticket requests: the token opens them.
    this.rt = new RealtimeClient({ client, WebSocket: this.sockets.WebSocket, backoff, watchPage: false, socketAuth: "token" });
    this.rt.on("message", (e) => this.delivered.push((e.message as Message).seq));
  }

  /** The client's frames on the current socket not read yet, pings aside. */
  unread(): Json[] {
    const frames = this.socket?.sent ?? [];
    return frames.slice(this.read).filter((f) => f.type !== "ping");
  }

  nextFrame(): Json | undefined {
    const frames = this.socket?.sent ?? [];
    while (this.read < frames.length) {
      const frame = frames[this.read++] as Json;
      if (frame.type !== "ping") return frame;
    }
    return undefined;
  }

  async step(step: Json): Promise<void> {
    if ("wait_ms" in step) return sleep(step.wait_ms as number);
    if ("app" in step) return this.app(step.app);
    if ("server" in step) return this.server(step.server);
    if ("expect" in step) return this.expect(step.expect as Json);
    throw new Error(`unknown step ${JSON.stringify(step)}`);
  }

  async app(action: unknown): Promise<void> {
    if (action === "connect") return this.rt.connect();
    if (action === "close") return this.rt.close();
    if (action === "refresh_via_rest") {
      this.expireNextMe = true;
      await getMe(this.client);
      return;
    }
    const { subscribe, send } = action as { subscribe?: Json; send?: Json };
    if (subscribe) return this.rt.subscribe(subscribe.chat_id as string, subscribe.after_seq as number);
    if (send) {
      const id = send.client_msg_id as string;
      this.rt.send(send.chat_id as string, send.body as string, { clientMsgId: id }).then(
        () => this.settled.set(id, true),
        () => this.settled.set(id, false),
      );
      return;
    }
    throw new Error(`unknown action ${JSON.stringify(action)}`);
  }

  async server(action: unknown): Promise<void> {
    if (action === "drop") return this.socket?.serverClose(1006);
    const { accept, send, close } = action as { accept?: { within_ms?: number }; send?: Json; close?: number };
    if (accept) {
      const next = this.sockets.next();
      const within = accept.within_ms ?? 5000;
      const socket = await Promise.race([next, sleep(within).then(() => null)]);
      if (!socket) throw new Error(`no socket opened within ${within} ms`);
      this.socket = socket;
      this.read = 0;
      socket.hello();
      return;
    }
    if (send) return this.socket?.receive(send);
    if (close !== undefined) return this.socket?.serverClose(close);
    throw new Error(`unknown server action ${JSON.stringify(action)}`);
  }

  async expect(what: Json): Promise<void> {
    if ("frame" in what) {
      const within = (what.within_ms as number | undefined) ?? 3000;
      await until(() => this.unread().length > 0, `a frame like ${JSON.stringify(what.frame)}`, within);
      const frame = this.nextFrame();
      assert.ok(holds(frame, what.frame), `expected a frame like ${JSON.stringify(what.frame)}, got ${JSON.stringify(frame)}`);
      return;
    }
    if ("no_frame_ms" in what) {
      await sleep(what.no_frame_ms as number);
      assert.deepEqual(this.unread(), [], "no frame expected");
      return;
    }
    if ("delivered" in what) {
      const expected = what.delivered as number[];
      await until(() => this.delivered.length >= expected.length, `${expected.length} messages`, 3000).catch(() => {});
      assert.deepEqual(this.delivered, expected);
      return;
    }
    if ("settled" in what) {
      const { client_msg_id: id, ok } = what.settled as { client_msg_id: string; ok: boolean };
      await until(() => this.settled.has(id), `send ${id} to settle`, 3000);
      assert.equal(this.settled.get(id), ok, `send ${id}`);
      return;
    }
    if ("state" in what) {
      await until(() => this.rt.state.status === what.state, `state ${String(what.state)}`, 3000);
      return;
    }
    throw new Error(`unknown expectation ${JSON.stringify(what)}`);
  }
}

for (const file of readdirSync(DIR).filter((name) => name.endsWith(".json")).sort()) {
  const scenario = JSON.parse(readFileSync(new URL(file, DIR), "utf8")) as Scenario;
  test(`${file}: ${scenario.name}`, async () => {
    const run = new Run(scenario);
    try {
      for (const [index, step] of scenario.steps.entries()) {
        try {
          await run.step(step);
        } catch (error) {
          throw new Error(`step ${index + 1} ${JSON.stringify(step)}: ${String(error)}`, { cause: error });
        }
      }
    } finally {
      run.rt.close();
    }
  });
}
