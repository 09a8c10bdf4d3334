// The realtime client's state machine against a scripted server: the test
// opens, speaks and closes each socket by hand (test/support/fake_socket.ts)
// and answers the REST calls the client makes (`/v1/me`, message pages).
// The sockets open with the token (`socketAuth: "token"`), so each socket
// shows the token it was opened with.
import assert from "node:assert/strict";
import { test } from "node:test";

import { tokenProvider, type Credential } from "../../src/auth/credential.js";
import { ByrdError } from "../../src/errors.js";
import type { Message } from "../../src/generated/types.js";
import { RealtimeClient, type RealtimeOptions } from "../../src/realtime/client.js";
import type { RealtimeEvent } from "../../src/realtime/events.js";
import type { ConnectionState } from "../../src/realtime/state.js";
import { Client } from "../../src/rest/client.js";
import { fakeSockets } from "../support/fake_socket.js";
import { fakeJwt } from "../support/tokens.js";
import { sleep, until } from "../support/wait.js";

const CHAT = "00000000-0000-4000-8000-000000000001";

function message(seq: number, chatId = CHAT): Message {
  return {
    id: `m-${chatId}-${seq}`,
    chat_id: chatId,
    seq,
    author: { type: "guest", id: "00000000-0000-4000-8000-0000000000aa", name: null },
    body: `message ${seq}`,
    client_msg_id: `c-${seq}`,
    created_at: "2026-01-01T12:00:00Z",
  };
}

interface Harness {
  rt: RealtimeClient;
  sockets: ReturnType<typeof fakeSockets>;
  events: RealtimeEvent[];
  tokens: string[];
  rest: string[];
  me: { status: number; code?: string };
}

function harness(options: Partial<RealtimeOptions> & { kind?: "agent" | "guest"; history?: Message[] } = {}): Harness {
  const sockets = fakeSockets();
  const tokens: string[] = [];
  const rest: string[] = [];
  const kind = options.kind ?? "agent";
  const credential: Credential = tokenProvider(kind, () => {
    const token = fakeJwt({ type: kind, n: tokens.length + 1, exp: Math.floor(Date.now() / 1000) + 3600, chat: kind === "guest" ? { id: CHAT } : undefined });
    tokens.push(token);
    return token;
  });
  const h: Harness = { rt: undefined as unknown as RealtimeClient, sockets, events: [], tokens, rest, me: { status: 200 } };
  const fetch = async (input: string | URL | Request) => {
    const url = new URL(String(input));
    rest.push(url.pathname + url.search);
    if (url.pathname === "/v1/me") {
      if (h.me.status === 200) return Response.json({ type: kind, id: "x", name: "A", role: "agent", token_expires_at: "2030-01-01T00:00:00Z" });
      return Response.json({ error: { code: h.me.code, message: "refused" } }, { status: h.me.status });
    }
    const after = Number(url.searchParams.get("after_seq"));
    const before = Number(url.searchParams.get("before_seq"));
    const limit = Number(url.searchParams.get("limit"));
    const matching = (options.history ?? []).filter((m) => m.seq > after && m.seq < before);
    return Response.json({ messages: matching.slice(0, limit), has_more: matching.length > limit });
  };
  const client = new Client({ baseUrl: "http://byrd.test", credential, fetch: fetch as typeof globalThis.fetch });
  // The token in the URL: these tests follow one token through sockets;
  // tickets have their own (socket_tickets.test.ts).
  h.rt = new RealtimeClient({ client, WebSocket: sockets.WebSocket, backoff: { base: 10, floor: 1, cap: 40 }, socketAuth: "token", ...options });
  h.rt.on("state", (e) => h.events.push(e));
  for (const type of ["message", "resumed", "error"] as const) h.rt.on(type, (e) => h.events.push(e));
  return h;
}

const statuses = (h: Harness) =>
  h.events.flatMap((e) => (e.type === "state" ? [e.state.status === "connecting" ? `connecting ${e.state.attempt}` : e.state.status === "reconnecting" ? `reconnecting ${e.state.attempt}` : e.state.status] : []));
const delivered = (h: Harness) => h.events.flatMap((e) => (e.type === "message" ? [e.message.seq] : []));

test("connects, and names every state on the way", async () => {
  const h = harness();
  assert.equal(h.rt.state.status, "idle");
  h.rt.connect();
  const socket = await h.sockets.next();
  assert.equal(h.rt.state.status, "connecting");
  assert.equal(socket.params.get("token"), h.tokens[0]);
  socket.hello();
  await until(() => h.rt.state.status === "connected", "connected");
  h.rt.close();
  assert.deepEqual(statuses(h), ["connecting 1", "connected", "closed"]);
  const state = h.rt.state as ConnectionState;
  assert.ok(state.status === "closed" && state.error === null);
});

test("a drop reconnects with backoff and resumes every followed chat from its last seq", async () => {
  const h = harness();
  h.rt.subscribe(CHAT);
  h.rt.connect();
  const first = await h.sockets.next();
  first.hello();
  await until(() => first.sentOfType("subscribe").length === 1, "subscribe");
  assert.deepEqual(first.sentOfType("subscribe")[0], { type: "subscribe", chat_id: CHAT, after_seq: 0, ref: `subscribe:${CHAT}` });
  first.receive({ type: "message", message: message(1) });
  first.receive({ type: "message", message: message(2) });
  first.receive({ type: "subscribed", chat_id: CHAT, recovered: true, last_seq: 2 });
  await until(() => delivered(h).length === 2, "two messages");
  first.serverClose(1006);
  const second = await h.sockets.next();
  second.hello();
  await until(() => second.sentOfType("subscribe").length === 1, "resubscribe");
  assert.deepEqual(second.sentOfType("subscribe")[0], { type: "subscribe", chat_id: CHAT, after_seq: 2, ref: `subscribe:${CHAT}` });
  // The server replays from 3; a repeat of 2 is dropped.
  second.receive({ type: "message", message: message(2) });
  second.receive({ type: "message", message: message(3) });
  await until(() => delivered(h).length === 3, "message 3");
  assert.deepEqual(delivered(h), [1, 2, 3]);
  assert.deepEqual(statuses(h), ["connecting 1", "connected", "reconnecting 2", "connecting 2", "connected"]);
  h.rt.close();
});

test("a guest resumes with after_seq in the URL", async () => {
  const h = harness({ kind: "guest", resumeFrom: { [CHAT]: 7 } });
  h.rt.connect();
  const first = await h.sockets.next();
  assert.equal(first.params.get("after_seq"), "7");
  first.hello();
  first.receive({ type: "message", message: message(8) });
  await until(() => delivered(h).length === 1, "message 8");
  first.serverClose(4008, "slow_consumer");
  const second = await h.sockets.next();
  assert.equal(second.params.get("after_seq"), "8");
  assert.equal(second.sentOfType("subscribe").length, 0);
  h.rt.close();
});

test("close codes act as the spec's table says", async (t) => {
  const cases: [number, "reconnect" | "stop" | "auth" | "refresh"][] = [
    [1000, "stop"],
    [1001, "reconnect"],
    [1008, "stop"],
    [1009, "reconnect"],
    [4001, "refresh"],
    [4002, "auth"],
    [4008, "reconnect"],
    [4009, "reconnect"],
    [4999, "reconnect"],
    [1006, "reconnect"],
  ];
  for (const [code, expected] of cases) {
    await t.test(`close ${code} means ${expected}`, async () => {
      const h = harness();
      h.rt.connect();
      const socket = await h.sockets.next();
      socket.hello();
      await until(() => h.rt.state.status === "connected", "connected");
      const pending = h.rt.send(CHAT, "hi");
      pending.catch(() => {});
      socket.serverClose(code, "why");
      if (expected === "stop" || expected === "auth") {
        await until(() => h.rt.state.status === "closed", "closed");
        const state = h.rt.state;
        assert.ok(state.status === "closed");
        assert.equal(state.code, code);
        assert.equal(state.error?.kind, expected === "auth" ? "auth" : "closed");
        assert.equal(state.error?.closeCode, code);
        await assert.rejects(pending, (error: unknown) => error === state.error);
        await sleep(60);
        assert.equal(h.sockets.sockets.length, 1, "no reconnect after a stop");
      } else {
        const next = await h.sockets.next();
        assert.equal(h.tokens.length, expected === "refresh" ? 2 : 1);
        assert.equal(next.params.get("token"), h.tokens.at(-1));
        next.hello();
        await until(() => next.sentOfType("send").length === 1, "resend");
        h.rt.close();
        await assert.rejects(pending, (error: unknown) => error instanceof ByrdError && error.kind === "closed");
      }
    });
  }
});

test("a refused handshake is read through GET /v1/me", async (t) => {
  await t.test("token_revoked ends the client with an auth error", async () => {
    const h = harness();
    h.me = { status: 401, code: "token_revoked" };
    h.rt.connect();
    (await h.sockets.next()).serverClose(1006);
    await until(() => h.rt.state.status === "closed", "closed");
    assert.ok(h.rt.state.status === "closed" && h.rt.state.error?.kind === "auth");
    assert.deepEqual(h.rest, ["/v1/me"]);
  });
  await t.test("token_expired gets a fresh token and one more try at once", async () => {
    const h = harness();
    h.me = { status: 401, code: "token_expired" };
    h.rt.connect();
    (await h.sockets.next()).serverClose(1006);
    const second = await h.sockets.next();
    assert.equal(second.params.get("token"), h.tokens[1]);
    assert.deepEqual(statuses(h), ["connecting 1"], "the same attempt, no backoff");
    second.hello();
    await until(() => h.rt.state.status === "connected", "connected");
    h.rt.close();
  });
  await t.test("a valid token means the network: back off and retry", async () => {
    const h = harness();
    h.rt.connect();
    (await h.sockets.next()).serverClose(1006);
    await h.sockets.next();
    assert.deepEqual(statuses(h), ["connecting 1", "reconnecting 2", "connecting 2"]);
    h.rt.close();
  });
});

test("sends resolve from acks, wait while offline, and go again with the same client_msg_id", async () => {
  const h = harness({ maxQueuedSends: 3 });
  const offline = [h.rt.send(CHAT, "one"), h.rt.send(CHAT, "two", { clientMsgId: "fixed-2" })];
  h.rt.connect();
  const first = await h.sockets.next();
  first.hello();
  await until(() => first.sentOfType("send").length === 2, "queued sends written");
  const ids = first.sentOfType("send").map((f) => f.client_msg_id);
  assert.equal(ids[1], "fixed-2");
  assert.deepEqual(first.sentOfType("send").map((f) => f.body), ["one", "two"]);
  first.receive({ type: "ack", client_msg_id: ids[0], message: { ...message(1), client_msg_id: ids[0] } });
  assert.equal((await offline[0]!).seq, 1);
  first.serverClose(1006);
  const third = h.rt.send(CHAT, "three");
  third.catch(() => {});
  const second = await h.sockets.next();
  second.hello();
  await until(() => second.sentOfType("send").length === 2, "unacked resent");
  assert.deepEqual(second.sentOfType("send").map((f) => f.client_msg_id).slice(0, 1), ["fixed-2"]);
  second.receive({ type: "ack", client_msg_id: "fixed-2", message: message(2) });
  second.receive({ type: "ack", client_msg_id: "fixed-2", message: message(2) });
  assert.equal((await offline[1]!).seq, 2);
  const thirdId = second.sentOfType("send")[1]?.client_msg_id as string;
  second.receive({ type: "error", code: "chat_closed", message: "closed", ref: thirdId });
  await assert.rejects(third, (error: unknown) => error instanceof ByrdError && error.kind === "api" && (error as { code?: string }).code === "chat_closed");
  h.rt.close();
});

test("a full send queue fails at once with queue_full", async () => {
  const h = harness({ maxQueuedSends: 2 });
  void h.rt.send(CHAT, "a").catch(() => {});
  void h.rt.send(CHAT, "b").catch(() => {});
  await assert.rejects(h.rt.send(CHAT, "c"), (error: unknown) => error instanceof ByrdError && error.kind === "queue_full");
  h.rt.close();
});

test("a send refused as rate_limited goes again later, not rejected", async () => {
  const h = harness();
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello();
  const pending = h.rt.send(CHAT, "hi", { clientMsgId: "r-1" });
  await until(() => socket.sentOfType("send").length === 1, "send");
  socket.receive({ type: "error", code: "rate_limited", message: "slow down", ref: "r-1" });
  await until(() => socket.sentOfType("send").length === 2, "resend after the limit", 3000);
  socket.receive({ type: "ack", client_msg_id: "r-1", message: message(1) });
  assert.equal((await pending).seq, 1);
  h.rt.close();
});

test("a gap is paged over REST before anything newer is delivered", async () => {
  const history = [1, 2, 3, 4, 5, 6].map((seq) => message(seq));
  const h = harness({ history });
  h.rt.subscribe(CHAT, 1);
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello();
  // Not recovered: the server replayed nothing; 2..4 come over REST.
  socket.receive({ type: "subscribed", chat_id: CHAT, recovered: false, last_seq: 4 });
  socket.receive({ type: "message", message: message(5) });
  // A live message with a hole before it: 6 is fetched before 7.
  socket.receive({ type: "message", message: message(7) });
  await until(() => delivered(h).length === 6, "2..7");
  assert.deepEqual(delivered(h), [2, 3, 4, 5, 6, 7]);
  const resumed = h.events.find((e) => e.type === "resumed");
  assert.deepEqual(resumed, { type: "resumed", chat_id: CHAT, recovered: false, fetched: 3 });
  assert.deepEqual(h.rest, [
    `/v1/chats/${CHAT}/messages?after_seq=1&before_seq=5&limit=200`,
    `/v1/chats/${CHAT}/messages?after_seq=5&before_seq=7&limit=200`,
  ]);
  h.rt.close();
});

test("token_expiring is answered with refresh_token on the same socket", async () => {
  const h = harness();
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello();
  socket.receive({ type: "token_expiring", expires_at: "2030-01-01T00:00:00Z" });
  await until(() => socket.sentOfType("refresh_token").length === 1, "refresh_token");
  assert.equal(socket.sentOfType("refresh_token")[0]?.token, h.tokens[1]);
  socket.receive({ type: "token_refreshed", token_expires_at: "2030-01-01T01:00:00Z" });
  assert.equal(h.sockets.sockets.length, 1);
  assert.equal(h.rt.state.status, "connected");
  h.rt.close();
});

test("a socket silent for two heartbeats is dropped and replaced", async () => {
  const h = harness();
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello(60);
  await until(() => socket.sentOfType("ping").length >= 1, "a ping");
  const second = await h.sockets.next();
  assert.ok(socket.closedByClient);
  assert.ok(statuses(h).some((s) => s.startsWith("reconnecting")));
  second.hello();
  h.rt.close();
});

test("a page that could not run for two heartbeats pings before it judges the silence", async () => {
  const h = harness();
  try {
    h.rt.connect();
    const socket = await h.sockets.next();
    socket.hello(100);
    await until(() => h.rt.state.status === "connected", "connected");
    // The page is busy past two heartbeats: the next tick comes late, with
    // nothing read since hello.
    const busyUntil = Date.now() + 350;
    while (Date.now() < busyUntil) {
      // A long task.
    }
    await until(() => socket.sentOfType("ping").length >= 1, "a ping after the late tick");
    assert.equal(socket.closedByClient, false, "a late tick does not drop the socket");
    // The answer comes; the next tick, on time, hears it (a server that
    // stops answering is dropped two heartbeats later, as before).
    socket.receive({ type: "pong", nonce: null });
    await sleep(150);
    assert.equal(socket.closedByClient, false, "the answered ping keeps it");
    assert.equal(h.rt.state.status, "connected");
  } finally {
    h.rt.close();
  }
});

test("reconnectNow cuts a backoff short", async () => {
  const h = harness({ backoff: { base: 60_000, floor: 60_000, cap: 60_000 } });
  h.rt.connect();
  (await h.sockets.next()).serverClose(1006);
  await until(() => h.rt.state.status === "reconnecting", "reconnecting");
  h.rt.reconnectNow();
  await h.sockets.next();
  h.rt.close();
});

test("the event iterator yields every event and ends after the final state", async () => {
  const h = harness();
  const seen: string[] = [];
  const done = (async () => {
    for await (const event of h.rt.events()) seen.push(event.type === "state" ? event.state.status : event.type);
  })();
  h.rt.subscribe(CHAT);
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello();
  socket.receive({ type: "message", message: message(1) });
  socket.receive({ type: "typing", chat_id: CHAT, author: message(1).author, active: true });
  socket.receive({ type: "no_such_frame_yet", x: 1 });
  await until(() => delivered(h).length === 1, "message");
  socket.serverClose(4002, "token_revoked");
  await done;
  assert.deepEqual(seen, ["connecting", "connected", "message", "typing", "closed"]);
});

test("on() returns a working unsubscribe function", async () => {
  const h = harness();
  let count = 0;
  const off = h.rt.on("state", () => count++);
  h.rt.connect();
  await h.sockets.next();
  off();
  h.rt.close();
  assert.equal(count, 1);
});

test("frames are paced to the server's allowance: a burst, then the rate", async () => {
  const h = harness({ maxQueuedSends: 100, framesPerSecond: 50, frameBurst: 10 });
  for (let i = 0; i < 30; i++) h.rt.send(CHAT, `m${i}`).catch(() => {});
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello();
  assert.equal(socket.sentOfType("send").length, 10, "the burst at once");
  await until(() => socket.sentOfType("send").length === 30, "the rest at the rate", 2000);
  assert.deepEqual(
    socket.sentOfType("send").map((f) => f.body),
    Array.from({ length: 30 }, (_, i) => `m${i}`),
    "in order",
  );
  h.rt.close();
});

test("without options, the pace follows hello (a tenth below) and so does the frame limit", async () => {
  const h = harness({ maxQueuedSends: 100 });
  for (let i = 0; i < 12; i++) h.rt.send(CHAT, `m${i}`).catch(() => {});
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello(25_000, { frames_per_second: 1, frame_burst: 10, max_frame_bytes: 200 });
  assert.equal(socket.sentOfType("send").length, 9, "nine tenths of the announced burst at once");
  await sleep(300);
  assert.equal(socket.sentOfType("send").length, 9, "then about one a second, not the default 20");
  await assert.rejects(h.rt.send(CHAT, "x".repeat(300)), RangeError, "larger than the announced frame");
  h.rt.close();
});

test("a frame refused unread (rate_limited without ref) resends on the same connection, never reconnecting", async () => {
  const h = harness();
  h.rt.connect();
  const first = await h.sockets.next();
  first.hello();
  h.rt.subscribe(CHAT);
  const pending = h.rt.send(CHAT, "hi", { clientMsgId: "lost-1" });
  await until(() => first.sentOfType("send").length === 1, "send");
  first.receive({ type: "error", code: "rate_limited", message: "slow down", ref: null });
  await until(() => first.sentOfType("send").length === 2, "the unacked send again", 3000);
  assert.equal(first.sentOfType("send")[1]?.client_msg_id, "lost-1");
  assert.equal(first.sentOfType("subscribe").length, 2, "the unanswered subscribe again");
  assert.equal(first.closedByClient, false);
  assert.equal(h.sockets.sockets.length, 1, "no new connection");
  first.receive({ type: "ack", client_msg_id: "lost-1", message: message(1) });
  assert.equal((await pending).seq, 1);
  h.rt.close();
});

test("a guest whose replay is refused (no ref) subscribes to its chat again on the same connection", async () => {
  const h = harness({ kind: "guest" });
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello();
  socket.receive({ type: "error", code: "rate_limited", message: "too many reads", ref: null });
  await until(() => socket.sentOfType("subscribe").length === 1, "the guest's own chat again", 3000);
  assert.deepEqual(socket.sentOfType("subscribe")[0], { type: "subscribe", chat_id: CHAT, after_seq: 0, ref: `subscribe:${CHAT}` });
  assert.equal(h.sockets.sockets.length, 1, "no new connection");
  h.rt.close();
});

test("every frame the server may refuse carries a ref naming it", async () => {
  const h = harness();
  h.rt.connect();
  const socket = await h.sockets.next();
  socket.hello();
  h.rt.subscribe(CHAT);
  h.rt.typing(CHAT, true);
  h.rt.markRead(CHAT, 1);
  h.rt.unsubscribe(CHAT);
  h.rt.reconnectNow();
  await until(() => socket.sentOfType("ping").length === 1, "ping");
  assert.equal(socket.sentOfType("subscribe")[0]?.ref, `subscribe:${CHAT}`);
  assert.equal(socket.sentOfType("typing")[0]?.ref, `typing:${CHAT}`);
  assert.equal(socket.sentOfType("read")[0]?.ref, `read:${CHAT}`);
  assert.equal(socket.sentOfType("unsubscribe")[0]?.ref, `unsubscribe:${CHAT}`);
  assert.equal(socket.sentOfType("ping")[0]?.ref, "ping");
  // A refused typing frame is reported, not retried, and the connection stays.
  const errors: RealtimeEvent[] = [];
  h.rt.on("error", (event) => errors.push(event));
  socket.receive({ type: "error", code: "rate_limited", message: "slow down", ref: `typing:${CHAT}` });
  await sleep(20);
  assert.equal(errors.length, 1);
  assert.equal(h.sockets.sockets.length, 1);
  h.rt.close();
});

test("close() while the token is on its way opens no socket", async () => {
  const sockets = fakeSockets();
  let release!: (token: string) => void;
  const slow = tokenProvider("agent", () => new Promise<string>((resolve) => (release = resolve)));
  const rt = new RealtimeClient({ client: new Client({ baseUrl: "http://byrd.test", credential: slow }), WebSocket: sockets.WebSocket });
  rt.connect();
  await until(() => release !== undefined, "the provider is asked");
  rt.close();
  release(fakeJwt({ type: "agent", exp: Math.floor(Date.now() / 1000) + 3600 }));
  await sleep(20);
  assert.equal(sockets.sockets.length, 0);
  assert.equal(rt.state.status, "closed");
});
