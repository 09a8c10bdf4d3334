// What the client runs with after `hello` (spec/v1/README.md, "Frames":
// `hello.limits`; "Heartbeats"), whatever values a server announces: each
// is held to a range a timer and a token bucket can work with, and the
// frames waiting for the pace are bounded, a full queue being a refusal
// the caller sees. Against a fake socket (test/support/fake_socket.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { staticToken } from "../../src/auth/credential.js";
import { ByrdError } from "../../src/errors.js";
import type { ServerHello } from "../../src/generated/types.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import { MAX_TIMER_MS, limitsOf, settingsOf } from "../../src/realtime/options.js";
import { PACED_FRAMES, Pacer } from "../../src/realtime/pacer.js";
import { Client } from "../../src/rest/client.js";
import { fakeSockets } from "../support/fake_socket.js";
import { fakeJwt } from "../support/tokens.js";
import { sleep, until } from "../support/wait.js";

const CHAT = "00000000-0000-4000-8000-000000000001";

function client(): Client {
  const token = fakeJwt({ type: "agent", exp: Math.floor(Date.now() / 1000) + 3600 });
  const fetch = async () => Response.json({ messages: [], has_more: false });
  return new Client({ baseUrl: "http://byrd.test", credential: staticToken("agent", token), fetch: fetch as typeof globalThis.fetch });
}

/** A client connected to a fake socket that said `hello` with `heartbeatMs` and `limits`. */
async function connected(heartbeatMs: number, limits: Record<string, number>) {
  const sockets = fakeSockets();
  const rt = new RealtimeClient({ client: client(), WebSocket: sockets.WebSocket, watchPage: false, socketAuth: "token" });
  rt.connect();
  const socket = await sockets.next();
  socket.hello(heartbeatMs, limits);
  await until(() => rt.state.status === "connected", "connected");
  return { rt, socket };
}

/** A `hello` whose values are whatever a server put there. */
function hello(heartbeat: unknown, limits: Record<string, unknown>): ServerHello {
  return { heartbeat_interval_ms: heartbeat, limits } as unknown as ServerHello;
}

test("every hello value is held to its range; one that is no number takes the default", () => {
  const settings = settingsOf({ client: client(), WebSocket: fakeSockets().WebSocket });
  const wild = limitsOf(settings, hello(2 ** 40, { frames_per_second: 0, frame_burst: -3, max_frame_bytes: -1 }), 65_536);
  assert.deepEqual(wild, { heartbeatMs: MAX_TIMER_MS, perSecond: 0.9, burst: 1, maxFrameBytes: 128 });
  const infinite = limitsOf(settings, hello(0, { frames_per_second: Infinity, frame_burst: Infinity, max_frame_bytes: Infinity }), 65_536);
  assert.equal(infinite.heartbeatMs, 100);
  assert.ok(Number.isFinite(infinite.perSecond) && Number.isFinite(infinite.burst) && Number.isFinite(infinite.maxFrameBytes));
  const junk = limitsOf(settings, hello("soon", { frames_per_second: "fast", frame_burst: null, max_frame_bytes: Number.NaN }), 1_000);
  assert.deepEqual(junk, { heartbeatMs: 25_000, perSecond: 18, burst: 36, maxFrameBytes: 1_000 });
  const usual = limitsOf(settings, hello(25_000, { frames_per_second: 20, frame_burst: 40, max_frame_bytes: 65_536 }), 1_000);
  assert.deepEqual(usual, { heartbeatMs: 25_000, perSecond: 18, burst: 36, maxFrameBytes: 65_536 });
});

test("a heartbeat past the longest timer does not ping every few milliseconds", async () => {
  const { rt, socket } = await connected(2 ** 32 + 1_000, {});
  await sleep(100);
  assert.equal(socket.sentOfType("ping").length, 0);
  rt.close();
});

test("a pace of zero frames a second still lets frames out, one a second", async () => {
  const { rt, socket } = await connected(25_000, { frames_per_second: 0, frame_burst: 1 });
  assert.ok(rt.typing(CHAT, true));
  assert.ok(rt.typing(CHAT, false));
  assert.equal(socket.sentOfType("typing").length, 1, "the burst of one at once");
  await until(() => socket.sentOfType("typing").length === 2, "the next frame about a second later", 2_000);
  rt.close();
});

test("a negative frame limit does not refuse every send", async () => {
  const { rt, socket } = await connected(25_000, { max_frame_bytes: -1 });
  const pending = rt.send(CHAT, "hi", { clientMsgId: "c-1" });
  await until(() => socket.sentOfType("send").length === 1, "the send written");
  rt.close();
  await assert.rejects(pending, (error: unknown) => error instanceof ByrdError && error.kind === "closed");
});

test("the pacer holds at most its capacity and refuses the frame after", () => {
  const written: string[] = [];
  const pacer = new Pacer((text) => written.push(text) > 0, 1, 1, 2);
  assert.deepEqual(["a", "b", "c", "d"].map((text) => pacer.send(text)), ["queued", "queued", "queued", "full"]);
  assert.deepEqual(written, ["a"]);
  assert.equal(pacer.backlog, 2);
  pacer.stop();
});

test("past the frames that may wait for the pace, typing is refused and a send fails with queue_full", async () => {
  const { rt, socket } = await connected(25_000, { frames_per_second: 1, frame_burst: 1 });
  const accepted = Array.from({ length: PACED_FRAMES + 5 }, (_, i) => rt.typing(CHAT, i % 2 === 0));
  assert.equal(accepted.filter(Boolean).length, PACED_FRAMES + 1, "one written, the rest waiting");
  assert.equal(accepted.at(-1), false);
  assert.equal(rt.markRead(CHAT, 1), false);
  await assert.rejects(rt.send(CHAT, "one too many"), (error: unknown) => error instanceof ByrdError && error.kind === "queue_full");
  assert.equal(socket.sentOfType("typing").length, 1);
  rt.close();
});
