// The realtime client against the real server, over the `ws` package as a
// Node 20 application uses it: a guest and an agent chat; a resume the
// server cannot replay is paged over REST; a token is refreshed on the
// live socket; a revoked session ends the client for good.
import assert from "node:assert/strict";
import { test } from "node:test";

import { tokenProvider } from "../../src/auth/credential.js";
import { ByrdError } from "../../src/errors.js";
import { sendMessage } from "../../src/generated/operations.js";
import type { Message } from "../../src/generated/types.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import type { ConnectionState } from "../../src/realtime/state.js";
import { NodeWebSocket, adminSession, agentSession, guestSession, publicClient, server } from "../support/server.js";
import { mintAgentToken } from "../support/tokens.js";
import { until } from "../support/wait.js";

function collect(rt: RealtimeClient): { messages: Message[]; states: ConnectionState[] } {
  const seen = { messages: [] as Message[], states: [] as ConnectionState[] };
  rt.on("message", (e) => seen.messages.push(e.message));
  rt.on("state", (e) => seen.states.push(e.state));
  return seen;
}

test("a guest and an agent chat: acks resolve sends, and each side sees every message once", async () => {
  const guest = await guestSession();
  const agent = await agentSession();
  const guestRt = new RealtimeClient({ client: guest.client(), WebSocket: NodeWebSocket });
  const agentRt = new RealtimeClient({ client: agent.client(), WebSocket: NodeWebSocket });
  const g = collect(guestRt);
  const a = collect(agentRt);
  agentRt.subscribe(guest.chatId);
  guestRt.connect();
  agentRt.connect();
  const hello = await guestRt.send(guest.chatId, "Hello, anyone there?");
  assert.equal(hello.seq, 1);
  assert.equal(hello.author.type, "guest");
  await until(() => a.messages.length === 1, "the agent hears the guest");
  const reply = await agentRt.send(guest.chatId, "Hi Sam, how can I help?");
  assert.equal(reply.seq, 2);
  await until(() => g.messages.length === 2, "the guest hears the reply");
  await until(() => a.messages.length === 2, "the agent sees its own reply");
  assert.deepEqual(g.messages.map((m) => m.id), [hello.id, reply.id]);
  assert.deepEqual(a.messages.map((m) => m.id), [hello.id, reply.id]);
  guestRt.close();
  agentRt.close();
});

test("a resume past the server's replay cap is paged over REST, in order, once", async () => {
  const guest = await guestSession();
  const agent = await agentSession();
  // The test server replays at most 20 messages per subscribe.
  for (let i = 1; i <= 45; i++) await sendMessage(guest.client(), guest.chatId, { client_msg_id: `bulk-${i}`, body: `message ${i}` });
  const rt = new RealtimeClient({ client: agent.client(), WebSocket: NodeWebSocket });
  const seen = collect(rt);
  const resumed: unknown[] = [];
  rt.on("resumed", (e) => resumed.push(e));
  rt.subscribe(guest.chatId, 3);
  rt.connect();
  await until(() => resumed.length === 1, "resumed");
  assert.deepEqual(resumed[0], { type: "resumed", chat_id: guest.chatId, recovered: false, fetched: 42 });
  const live = await sendMessage(guest.client(), guest.chatId, { client_msg_id: "live", body: "still there?" });
  await until(() => seen.messages.length === 43, "the live one after the gap");
  assert.deepEqual(
    seen.messages.map((m) => m.seq),
    Array.from({ length: 43 }, (_, i) => i + 4),
  );
  assert.equal(seen.messages.at(-1)?.id, live.id);
  rt.close();
});

test("token_expiring is answered on the live socket, without reconnecting", async () => {
  const admin = await adminSession();
  let minted = 0;
  // 62 s left of tokens issued two minutes ago: the server warns a minute before expiry, so within two seconds.
  const credential = tokenProvider("agent", () => (minted++, mintAgentToken(server.jwtSecret, admin.agent, 62, 120)));
  const rt = new RealtimeClient({ client: publicClient().withCredential(credential), WebSocket: NodeWebSocket });
  const seen = collect(rt);
  rt.connect();
  await until(() => minted === 2, "a second token", 10_000);
  const guest = await guestSession();
  rt.subscribe(guest.chatId);
  // The socket still works, and it is the same one.
  const sent = await rt.send(guest.chatId, "after the refresh");
  assert.equal(sent.seq, 1);
  assert.deepEqual(
    seen.states.map((s) => s.status),
    ["connecting", "connected"],
  );
  rt.close();
});

test("a logout closes the client for good with an auth error, and rejects waiting sends", async () => {
  const agent = await agentSession();
  const guest = await guestSession();
  const rt = new RealtimeClient({ client: agent.client(), WebSocket: NodeWebSocket });
  const seen = collect(rt);
  rt.connect();
  await until(() => rt.state.status === "connected", "connected");
  await agent.logout();
  await until(() => rt.state.status === "closed", "closed by the server");
  const state = rt.state as ConnectionState;
  assert.ok(state.status === "closed");
  assert.equal(state.code, 4002);
  assert.equal(state.error?.kind, "auth");
  await assert.rejects(rt.send(guest.chatId, "too late"), (e: unknown) => e instanceof ByrdError && e.kind === "auth");
  assert.equal(seen.states.filter((s) => s.status === "connecting").length, 1, "no reconnect");
});

test("a token the handshake refuses as invalid ends the client with an auth error", async () => {
  const admin = await adminSession();
  const forged = tokenProvider("agent", () => mintAgentToken("not the server's key, but long enough", admin.agent, 900));
  const rt = new RealtimeClient({ client: publicClient().withCredential(forged), WebSocket: NodeWebSocket });
  rt.connect();
  await until(() => rt.state.status === "closed", "closed");
  const state = rt.state as ConnectionState;
  assert.ok(state.status === "closed" && state.error?.kind === "auth");
});
