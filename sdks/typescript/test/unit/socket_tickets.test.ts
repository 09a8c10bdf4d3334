// How the realtime client opens its sockets, against a scripted server
// (fake sockets, a fake `fetch`): the `socket_auth` rule of the spec's
// client behaviour table (spec/v1/client.json). A fresh single-use ticket
// (`POST /v1/ws/tickets`) opens every socket and the token rides in no
// URL; a server without tickets (404) gets the token; a ticket request
// that fails otherwise fails the attempt, and one refused for its token
// takes the token's path; a handshake refused while the token is good is
// made again at once with a fresh ticket, once; `socketAuth: "token"`
// keeps `?token=`.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { tokenProvider } from "../../src/auth/credential.js";
import { FRESH_TICKETS_AT_ONCE } from "../../src/generated/client.js";
import { RealtimeClient, type RealtimeOptions } from "../../src/realtime/client.js";
import type { ConnectionState } from "../../src/realtime/state.js";
import { Client } from "../../src/rest/client.js";
import { fakeSockets } from "../support/fake_socket.js";
import { fakeJwt } from "../support/tokens.js";
import { sleep, until } from "../support/wait.js";

/** How the scripted server answers the next ticket request made with `token`. */
type TicketAnswer = "ticket" | { status: number; code: string } | "network";

interface Harness {
  rt: RealtimeClient;
  sockets: ReturnType<typeof fakeSockets>;
  /** Every token the credential handed out, in order. */
  tokens: string[];
  /** The `Authorization` of every ticket request, in order. */
  ticketRequests: string[];
  states: string[];
}

const clients: RealtimeClient[] = [];
afterEach(() => {
  for (const rt of clients.splice(0)) rt.close();
});

/** A client whose ticket requests are answered by `answers` in turn (then tickets), and `GET /v1/me` with 200. */
function harness(answers: TicketAnswer[] = [], options: Partial<RealtimeOptions> = {}): Harness {
  const sockets = fakeSockets();
  const tokens: string[] = [];
  const ticketRequests: string[] = [];
  const credential = tokenProvider("agent", () => {
    const token = fakeJwt({ type: "agent", n: tokens.length + 1, exp: Math.floor(Date.now() / 1000) + 3600 });
    tokens.push(token);
    return token;
  });
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    if (url.pathname === "/v1/me") return Response.json({ type: "agent", id: "x", name: "A", role: "agent", token_expires_at: "2030-01-01T00:00:00Z" });
    assert.equal(url.pathname, "/v1/ws/tickets");
    assert.equal(init?.method, "POST");
    ticketRequests.push(String((init?.headers as Record<string, string>).authorization));
    const answer = answers.shift() ?? "ticket";
    if (answer === "network") throw new TypeError("fetch failed");
    if (answer === "ticket") return Response.json({ ticket: `byrd_wst_${ticketRequests.length}`, expires_in: 30 }, { status: 201 });
    return Response.json({ error: { code: answer.code, message: "refused" } }, { status: answer.status });
  };
  const client = new Client({ baseUrl: "http://byrd.test", credential, fetch: fetch as typeof globalThis.fetch });
  const rt = new RealtimeClient({ client, WebSocket: sockets.WebSocket, backoff: { base: 10, floor: 1, cap: 40 }, watchPage: false, ...options });
  clients.push(rt);
  const states: string[] = [];
  rt.on("state", ({ state }) => states.push(state.status === "connecting" || state.status === "reconnecting" ? `${state.status} ${state.attempt}` : state.status));
  return { rt, sockets, tokens, ticketRequests, states };
}

test("every connect and reconnect opens with a fresh ticket made with the token, which rides in no URL", async () => {
  const h = harness();
  h.rt.connect();
  const first = await h.sockets.next();
  assert.equal(first.params.get("ticket"), "byrd_wst_1");
  assert.equal(first.params.get("token"), null);
  assert.ok(!first.url.includes(h.tokens[0] ?? "no token"), first.url);
  assert.deepEqual(h.ticketRequests, [`Bearer ${h.tokens[0]}`]);
  first.hello();
  await until(() => h.rt.state.status === "connected", "connected");
  first.serverClose(1006);
  const second = await h.sockets.next();
  assert.equal(second.params.get("ticket"), "byrd_wst_2", "a ticket is never used twice");
  assert.equal(second.params.get("token"), null);
  assert.equal(h.ticketRequests.length, 2);
});

test("a server without tickets (404) gets the token, and is not asked for tickets again", async () => {
  const h = harness([{ status: 404, code: "not_found" }]);
  h.rt.connect();
  const first = await h.sockets.next();
  assert.equal(first.params.get("token"), h.tokens[0]);
  assert.equal(first.params.get("ticket"), null);
  first.hello();
  await until(() => h.rt.state.status === "connected", "connected");
  first.serverClose(1006);
  const second = await h.sockets.next();
  assert.equal(second.params.get("token"), h.tokens[0]);
  assert.equal(h.ticketRequests.length, 1);
});

for (const failure of ["network", { status: 500, code: "internal_error" }] as const) {
  test(`a ticket request that fails (${typeof failure === "string" ? failure : failure.status}) fails the attempt; the token does not stand in`, async () => {
    const h = harness([failure]);
    h.rt.connect();
    const first = await h.sockets.next();
    assert.deepEqual(h.states, ["connecting 1", "reconnecting 2", "connecting 2"]);
    assert.equal(first.params.get("ticket"), "byrd_wst_2");
    assert.equal(first.params.get("token"), null);
    assert.equal(h.sockets.sockets.length, 1, "no socket opened without a ticket");
  });
}

test("a ticket request refused as token_expired refreshes the token once and goes on, without a backoff", async () => {
  const h = harness([{ status: 401, code: "token_expired" }]);
  h.rt.connect();
  const first = await h.sockets.next();
  assert.equal(h.tokens.length, 2);
  assert.deepEqual(h.ticketRequests, [`Bearer ${h.tokens[0]}`, `Bearer ${h.tokens[1]}`]);
  assert.equal(first.params.get("ticket"), "byrd_wst_2");
  assert.deepEqual(h.states, ["connecting 1"]);
});

test("a ticket request refused for good (token_revoked) ends the client with an auth error", async () => {
  const h = harness([{ status: 401, code: "token_revoked" }]);
  h.rt.connect();
  await until(() => h.rt.state.status === "closed", "closed");
  const state = h.rt.state as ConnectionState;
  assert.ok(state.status === "closed" && state.error?.kind === "auth");
  assert.equal(h.sockets.sockets.length, 0);
});

test("a handshake refused while the token is good gets a fresh ticket at once, once; then the backoff", async () => {
  assert.equal(FRESH_TICKETS_AT_ONCE, 1);
  const h = harness();
  h.rt.connect();
  // Closed before it opened: a refused handshake, as a browser sees one.
  (await h.sockets.next()).serverClose(1006);
  const second = await h.sockets.next();
  assert.equal(second.params.get("ticket"), "byrd_wst_2");
  assert.deepEqual(h.states, ["connecting 1"], "no backoff before the fresh ticket");
  second.serverClose(1006);
  const third = await h.sockets.next();
  assert.equal(third.params.get("ticket"), "byrd_wst_3");
  assert.deepEqual(h.states, ["connecting 1", "reconnecting 2", "connecting 2"]);
});

test('socketAuth: "token" opens every socket with the token in the URL and asks for no ticket', async () => {
  const h = harness([], { socketAuth: "token" });
  h.rt.connect();
  const first = await h.sockets.next();
  assert.equal(first.params.get("token"), h.tokens[0]);
  assert.equal(first.params.get("ticket"), null);
  first.hello();
  await until(() => h.rt.state.status === "connected", "connected");
  await sleep(20);
  assert.deepEqual(h.ticketRequests, []);
});

test("socketAuth is checked when the client is made", () => {
  const client = new Client({ baseUrl: "http://byrd.test", credential: tokenProvider("agent", () => "t") });
  const { WebSocket } = fakeSockets();
  assert.throws(() => new RealtimeClient({ client, WebSocket, socketAuth: "cookie" as "token" }), RangeError);
});
