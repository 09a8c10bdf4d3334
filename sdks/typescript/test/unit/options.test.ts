// What an application passes the SDK, under the settings it may compile
// with: the `ws` package's class and the browser's `WebSocket` are a
// `WebSocketConstructor` without a cast; an option given as `undefined`
// (as `exactOptionalPropertyTypes` requires to be allowed explicitly) means
// its default; and a missing WebSocket is a typed error at once. The type
// checks are compiled by `npm run build:test`, whose errors fail the run.
import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";

import { tokenProvider } from "../../src/auth/credential.js";
import { ByrdError } from "../../src/errors.js";
import { CONNECT_TIMEOUT_MS } from "../../src/generated/client.js";
import { RealtimeClient, type RealtimeOptions } from "../../src/realtime/client.js";
import { settingsOf } from "../../src/realtime/options.js";
import { resolveWebSocket, type WebSocketConstructor } from "../../src/realtime/socket.js";
import { Client, type ClientOptions, type RequestOptions } from "../../src/rest/client.js";
import { fakeSockets } from "../support/fake_socket.js";
import { fakeJwt } from "../support/tokens.js";
import { until } from "../support/wait.js";

// Compile-time: both classes are accepted as they are.
const wsClass: WebSocketConstructor = WebSocket;
type Accepts<T> = T extends WebSocketConstructor ? true : false;
const browserClass: Accepts<typeof globalThis.WebSocket> = true;

// Compile-time: every option may be given as `undefined`.
const clientOptions: Required<ClientOptions> = {
  baseUrl: "http://byrd.test",
  credential: undefined,
  fetch: undefined,
  maxRetries: undefined,
  maxRetryAfterSeconds: undefined,
};
const requestOptions: Required<RequestOptions> = { signal: undefined, maxRetries: undefined, refreshOnExpiry: undefined };
const realtimeOptions: Omit<Required<RealtimeOptions>, "client" | "WebSocket"> = {
  credential: undefined,
  backoff: { base: undefined, floor: undefined, cap: undefined },
  maxQueuedSends: undefined,
  connectTimeoutMs: undefined,
  maxFrameBytes: undefined,
  framesPerSecond: undefined,
  frameBurst: undefined,
  watchPage: undefined,
  resumeFrom: undefined,
  socketAuth: undefined,
};

const credential = tokenProvider("agent", () => fakeJwt({ type: "agent", exp: Math.floor(Date.now() / 1000) + 3600 }));

/** Runs `body` with no global `WebSocket`, as in Node 20. */
function withoutGlobalWebSocket(body: () => void): void {
  const global = globalThis as { WebSocket?: unknown };
  const saved = global.WebSocket;
  delete global.WebSocket;
  try {
    body();
  } finally {
    if (saved !== undefined) global.WebSocket = saved;
  }
}

test("the ws package's class is taken as the WebSocket, without a cast", () => {
  assert.equal(browserClass, true);
  const rt = new RealtimeClient({ client: new Client({ baseUrl: "http://byrd.test", credential }), WebSocket: wsClass });
  assert.equal(rt.state.status, "idle");
  assert.equal(resolveWebSocket(wsClass), WebSocket);
});

test("without a WebSocket implementation, an unsupported error comes at once", () => {
  withoutGlobalWebSocket(() => {
    assert.throws(() => resolveWebSocket(), (error: unknown) => error instanceof ByrdError && error.kind === "unsupported");
    assert.throws(
      () => new RealtimeClient({ client: new Client({ baseUrl: "http://byrd.test", credential }) }),
      (error: unknown) => error instanceof ByrdError && error.kind === "unsupported" && /ws/.test(error.message),
    );
  });
});

test("a client option given as undefined takes its default", () => {
  const client = new Client(clientOptions);
  assert.equal(client.maxRetries, 2);
  assert.equal(client.maxRetryAfterSeconds, 60);
  assert.deepEqual(client.credentials, []);
  assert.deepEqual(Object.keys(requestOptions).sort(), ["maxRetries", "refreshOnExpiry", "signal"]);
});

test("realtime options and a send's clientMsgId given as undefined take their defaults", async () => {
  const sockets = fakeSockets();
  // The one REST call: a ticket for each socket.
  const fetch = async () => Response.json({ ticket: "byrd_wst_test", expires_in: 30 }, { status: 201 });
  const client = new Client({ baseUrl: "http://byrd.test", credential, fetch: fetch as typeof globalThis.fetch });
  const rt = new RealtimeClient({ ...realtimeOptions, client, WebSocket: sockets.WebSocket });
  const delays: number[] = [];
  rt.on("state", ({ state }) => {
    if (state.status === "reconnecting") delays.push(state.delay);
  });
  rt.connect();
  const first = await sockets.next();
  // Sockets open with a ticket by default.
  assert.equal(first.params.get("ticket"), "byrd_wst_test");
  assert.equal(first.params.get("token"), null);
  first.hello();
  await until(() => rt.state.status === "connected", "connected");
  const sent = rt.send("00000000-0000-4000-8000-000000000001", "hi", { clientMsgId: undefined });
  const [frame] = first.sentOfType("send");
  assert.match(String(frame?.client_msg_id), /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
  // The default backoff: the first retry waits between the floor (100) and the base (500).
  first.serverClose(1006);
  await until(() => delays.length === 1, "a reconnect");
  const [delay] = delays;
  assert.ok(delay !== undefined && delay >= 100 && delay <= 500, `the first retry waited ${String(delay)} ms`);
  rt.close();
  await assert.rejects(sent, (error: unknown) => error instanceof ByrdError && error.kind === "closed");
});

test("the wait for hello is the client table's, as in the Rust SDK", () => {
  const client = new Client({ baseUrl: "http://byrd.test", credential });
  const settings = settingsOf({ client, WebSocket: wsClass });
  assert.equal(settings.connectTimeout, CONNECT_TIMEOUT_MS);
  assert.equal(CONNECT_TIMEOUT_MS, 10_000);
  assert.equal(settingsOf({ client, WebSocket: wsClass, connectTimeoutMs: 250 }).connectTimeout, 250);
});

test("an application's own pace or frame limit out of the protocol's range is refused at once", () => {
  // A pace of 0 frames a second never writes and spins; the range is the
  // client table's, the one a server's `hello` is held to.
  const client = new Client({ baseUrl: "http://byrd.test", credential });
  for (const own of [{ framesPerSecond: 0 }, { framesPerSecond: Number.NaN }, { frameBurst: 0 }, { maxFrameBytes: 64 }, { framesPerSecond: Infinity }]) {
    assert.throws(() => settingsOf({ client, WebSocket: wsClass, ...own }), RangeError, JSON.stringify(own));
  }
  const settings = settingsOf({ client, WebSocket: wsClass, framesPerSecond: 0.5 + 4.5, frameBurst: 1, maxFrameBytes: 128 });
  assert.deepEqual([settings.framesPerSecond, settings.frameBurst, settings.maxFrameBytes], [5, 1, 128]);
});
