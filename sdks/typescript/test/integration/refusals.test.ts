// A refused frame is never a reason to reconnect (client.json, frames):
// against a real server whose read allowance is tiny (30 a minute, so one
// comes back every 2 seconds), a guest whose connect-time replay is
// refused (an `error` without `ref`) and an agent whose `subscribe` is
// refused (`ref` names it) both subscribe again on the same connection
// once the allowance returns, and get their messages; neither reconnects.
import assert from "node:assert/strict";
import { test } from "node:test";

import { listMessages, sendMessage } from "../../src/generated/operations.js";
import type { Message } from "../../src/generated/types.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import type { ConnectionState } from "../../src/realtime/state.js";
import type { Client } from "../../src/rest/client.js";
import { NodeWebSocket, agentSession, guestSession } from "../support/server.js";
import { until } from "../support/wait.js";

function limitedUrl(): string {
  const url = process.env.BYRD_TEST_LIMITED_URL;
  if (!url) throw new Error("BYRD_TEST_LIMITED_URL is not set: run the tests through sdks/typescript/scripts/test");
  return url;
}

/** The server's read allowance per minute, all of it a burst (scripts/test). */
const READS_PER_MINUTE = 30;

/** Spends the principal's whole read allowance, so its next read is refused. */
async function spendReads(client: Client, chatId: string): Promise<void> {
  for (let i = 0; i < READS_PER_MINUTE; i++) {
    try {
      await listMessages(client, chatId, {}, { maxRetries: 0 });
    } catch {
      return;
    }
  }
}

function watch(rt: RealtimeClient): { messages: Message[]; states: ConnectionState[]; refusals: string[] } {
  const seen = { messages: [] as Message[], states: [] as ConnectionState[], refusals: [] as string[] };
  rt.on("message", (e) => seen.messages.push(e.message));
  rt.on("state", (e) => seen.states.push(e.state));
  rt.on("error", (e) => seen.refusals.push(String(e.error)));
  return seen;
}

const connects = (states: ConnectionState[]) => states.filter((s) => s.status === "connecting").length;

test("a guest whose replay is refused for its read allowance subscribes again on the same connection", async () => {
  const guest = await guestSession(limitedUrl());
  const hello = await sendMessage(guest.client(), guest.chatId, { client_msg_id: "before", body: "Hello?" });
  await spendReads(guest.client(), guest.chatId);
  const rt = new RealtimeClient({ client: guest.client(), WebSocket: NodeWebSocket });
  const seen = watch(rt);
  rt.connect();
  await until(() => seen.messages.length === 1, "the replay, once the allowance returns", 30_000);
  assert.equal(seen.messages[0]?.id, hello.id);
  assert.equal(connects(seen.states), 1, "one connection, never a reconnect");
  assert.equal(rt.state.status, "connected");
  rt.close();
});

test("an agent's subscribe refused for its read allowance goes again and succeeds, on the same connection", async () => {
  const guest = await guestSession(limitedUrl());
  const agent = await agentSession(limitedUrl());
  const hello = await sendMessage(guest.client(), guest.chatId, { client_msg_id: "before", body: "Hello?" });
  await spendReads(agent.client(), guest.chatId);
  const rt = new RealtimeClient({ client: agent.client(), WebSocket: NodeWebSocket });
  const seen = watch(rt);
  rt.connect();
  await until(() => rt.state.status === "connected", "connected");
  rt.subscribe(guest.chatId);
  await until(() => seen.messages.length === 1, "the replay, once the allowance returns", 30_000);
  assert.equal(seen.messages[0]?.id, hello.id);
  assert.equal(connects(seen.states), 1, "one connection, never a reconnect");
  assert.deepEqual(seen.refusals, [], "a refusal the client retries is not an error");
  rt.close();
});
