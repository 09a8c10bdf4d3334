// Sockets opened with single-use tickets, against the real server
// (spec/v1/README.md, "Handshake"; the `socket_auth` rule of
// spec/v1/client.json): every connect and reconnect spends a fresh ticket
// from `POST /v1/ws/tickets`, so no URL carries the token, and a spent
// ticket is refused if used again; a ticket request refused as
// `token_expired` takes a fresh token and goes on; `socketAuth: "token"`
// still opens the socket with `?token=`.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { Credential } from "../../src/auth/credential.js";
import { RealtimeClient, type RealtimeOptions } from "../../src/realtime/client.js";
import type { WebSocketConstructor } from "../../src/realtime/socket.js";
import { Client } from "../../src/rest/client.js";
import { NodeWebSocket, adminSession, agentSession, server } from "../support/server.js";
import { mintAgentToken } from "../support/tokens.js";
import { until } from "../support/wait.js";

/** A WebSocket class that keeps every socket it makes, and so the URL the SDK built for it. */
function tracked(): { WebSocket: WebSocketConstructor; sockets: InstanceType<typeof NodeWebSocket>[] } {
  const sockets: InstanceType<typeof NodeWebSocket>[] = [];
  class TrackedWebSocket extends NodeWebSocket {
    constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  return { WebSocket: TrackedWebSocket, sockets };
}

/** A client of the test server with `credential`, whose `fetch` counts the ticket requests. */
function counting(credential: Credential): { client: Client; tickets: () => number } {
  let tickets = 0;
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (new URL(String(input)).pathname === "/v1/ws/tickets" && init?.method === "POST") tickets++;
    return globalThis.fetch(input, init);
  };
  return { client: new Client({ baseUrl: server.url, credential, fetch }), tickets: () => tickets };
}

/** Whether the server lets a socket open at `url`; the status of its refusal otherwise. */
function handshake(url: string): Promise<"open" | number> {
  return new Promise((resolve) => {
    const socket = new NodeWebSocket(url);
    socket.on("open", () => (socket.close(), resolve("open")));
    socket.on("unexpected-response", (request, response) => {
      // With this listener, ending the refused request is the caller's job.
      request.destroy();
      resolve(response.statusCode ?? 0);
    });
    socket.on("error", () => {});
  });
}

function connected(client: Client, options: Partial<RealtimeOptions> = {}) {
  const { WebSocket, sockets } = tracked();
  const rt = new RealtimeClient({ client, WebSocket, watchPage: false, backoff: { base: 20, floor: 5, cap: 100 }, ...options });
  rt.connect();
  return { rt, sockets };
}

test("every connect and reconnect spends a fresh ticket; no URL carries the token, and a spent ticket opens nothing", async () => {
  const credential = await agentSession();
  const token = await credential.token();
  const { client, tickets } = counting(credential);
  const { rt, sockets } = connected(client);
  await until(() => rt.state.status === "connected", "connected");
  // Cut the live socket: the client reconnects with a new ticket.
  sockets[0]?.terminate();
  await until(() => sockets.length === 2 && rt.state.status === "connected", "reconnected");
  const urls = sockets.map((socket) => new URL(socket.url));
  for (const url of urls) {
    assert.match(url.searchParams.get("ticket") ?? "", /^byrd_wst_/, url.pathname);
    assert.equal(url.searchParams.get("token"), null);
    assert.ok(!url.href.includes(token), "the token is in no URL");
  }
  assert.notEqual(urls[0]?.searchParams.get("ticket"), urls[1]?.searchParams.get("ticket"));
  assert.equal(tickets(), 2, "one ticket request per socket");
  rt.close();
  // Spent by its handshake: the server refuses it again.
  assert.equal(await handshake(sockets[0]?.url ?? ""), 401);
});

test("a ticket request refused as token_expired refreshes the token and connects, without a backoff", async () => {
  const admin = await adminSession();
  // Expired ten minutes ago, past any clock leeway; the credential hands
  // it out anyway, as a clock-skewed provider would, and a fresh one on refresh.
  const expired = mintAgentToken(server.jwtSecret, admin.agent, -600, 1200);
  let refreshes = 0;
  const credential: Credential = {
    kind: "agent",
    token: () => Promise.resolve(expired),
    refresh: () => (refreshes++, Promise.resolve(mintAgentToken(server.jwtSecret, admin.agent, 900))),
  };
  const { client, tickets } = counting(credential);
  const { rt, sockets } = connected(client);
  const states: string[] = [];
  rt.on("state", ({ state }) => states.push(state.status));
  await until(() => rt.state.status === "connected", "connected");
  assert.equal(refreshes, 1);
  assert.equal(tickets(), 2, "the refused one, then the fresh token's");
  assert.equal(sockets.length, 1);
  assert.ok(new URL(sockets[0]?.url ?? "").searchParams.has("ticket"));
  assert.deepEqual(states, ["connected"], "no reconnect");
  rt.close();
});

test('socketAuth: "token" opens the socket with the token and asks for no ticket', async () => {
  const credential = await agentSession();
  const { client, tickets } = counting(credential);
  const { rt, sockets } = connected(client, { socketAuth: "token" });
  await until(() => rt.state.status === "connected", "connected");
  const url = new URL(sockets[0]?.url ?? "");
  assert.equal(url.searchParams.get("token"), await credential.token());
  assert.equal(url.searchParams.get("ticket"), null);
  assert.equal(tickets(), 0);
  rt.close();
});
