// Following the queue and loading it, against the real server: an agent
// that called `subscribeQueue()` hears the messages of chats it never
// subscribed to, once each, also across a reconnect, and a chat it also
// follows with `subscribe` still comes once; after `unsubscribeQueue()`
// only the chats it subscribed to come, also after a reconnect;
// `listChatSummaries` gives
// each chat its newest message and both read positions.
import assert from "node:assert/strict";
import { test } from "node:test";

import { listChatSummariesAll, sendMessage } from "../../src/generated/operations.js";
import type { ChatSummary, Message } from "../../src/generated/types.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import { NodeWebSocket, agentSession, guestSession } from "../support/server.js";
import { sleep, until } from "../support/wait.js";

test("an agent following the queue hears every chat's messages once, without subscribing, across a reconnect", async () => {
  const agent = await agentSession();
  // Sockets kept so the test can cut the live one.
  const sockets: InstanceType<typeof NodeWebSocket>[] = [];
  class TrackedWebSocket extends NodeWebSocket {
    constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  const rt = new RealtimeClient({ client: agent.client(), WebSocket: TrackedWebSocket });
  const messages: Message[] = [];
  rt.on("message", (e) => messages.push(e.message));
  rt.subscribeQueue();
  rt.connect();
  await until(() => rt.state.status === "connected", "connected");
  const [first, second] = await Promise.all([guestSession(), guestSession()]);
  // The chat on screen is followed too: its messages still come once.
  rt.subscribe(second.chatId, 0);
  await sleep(200);
  await sendMessage(first.client(), first.chatId, { client_msg_id: "q-1", body: "one" });
  await sendMessage(second.client(), second.chatId, { client_msg_id: "q-2", body: "two" });
  const ours = () => messages.filter((m) => m.chat_id === first.chatId || m.chat_id === second.chatId);
  await until(() => ours().length === 2, "both chats' messages");

  let reconnecting = false;
  rt.on("state", (e) => (reconnecting ||= e.state.status === "reconnecting"));
  sockets.at(-1)?.terminate();
  await until(() => reconnecting && rt.state.status === "connected", "connected again");
  await sleep(200);
  await sendMessage(first.client(), first.chatId, { client_msg_id: "q-3", body: "three" });
  await until(() => ours().length === 3, "the queue followed again after the reconnect");
  await sleep(200);
  assert.deepEqual(
    ours().map((m) => [m.chat_id === first.chatId ? "first" : "second", m.seq]),
    [
      ["first", 1],
      ["second", 1],
      ["first", 2],
    ],
  );
  rt.close();
});

test("after unsubscribeQueue() only the chats subscribed to come, also after a reconnect", async () => {
  const agent = await agentSession();
  const sockets: InstanceType<typeof NodeWebSocket>[] = [];
  class TrackedWebSocket extends NodeWebSocket {
    constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  const rt = new RealtimeClient({ client: agent.client(), WebSocket: TrackedWebSocket });
  const messages: Message[] = [];
  const resumed: string[] = [];
  rt.on("message", (e) => messages.push(e.message));
  rt.on("resumed", (e) => resumed.push(e.chat_id));
  rt.subscribeQueue();
  rt.connect();
  await until(() => rt.state.status === "connected", "connected");
  const [queued, kept] = await Promise.all([guestSession(), guestSession()]);
  const ours = () => messages.filter((m) => m.chat_id === queued.chatId || m.chat_id === kept.chatId);
  await sendMessage(queued.client(), queued.chatId, { client_msg_id: "u-1", body: "through the queue" });
  await until(() => ours().length === 1, "the queue's message");

  rt.unsubscribeQueue();
  // Answered after the server handled the `unsubscribe_queue` before it.
  rt.subscribe(kept.chatId, 0);
  await until(() => resumed.includes(kept.chatId), "the kept chat subscribed");
  // Sent first, the queued chat's message would come first.
  const onlyKeptComes = async (n: number) => {
    await sendMessage(queued.client(), queued.chatId, { client_msg_id: `u-${n + 1}`, body: "unheard" });
    await sendMessage(kept.client(), kept.chatId, { client_msg_id: `k-${n}`, body: "heard" });
    await until(() => ours().some((m) => m.chat_id === kept.chatId && m.seq === n), `kept message ${n}`);
    await sleep(200);
  };
  await onlyKeptComes(1);

  resumed.length = 0;
  sockets.at(-1)?.terminate();
  await until(() => resumed.includes(kept.chatId), "the kept chat resumed after the reconnect");
  await onlyKeptComes(2);
  assert.deepEqual(
    ours().map((m) => [m.chat_id === kept.chatId ? "kept" : "queued", m.seq]),
    [
      ["queued", 1],
      ["kept", 1],
      ["kept", 2],
    ],
  );
  rt.close();
});

test("listChatSummaries gives each chat its newest message and the caller's and the visitor's read positions", async () => {
  const agent = await agentSession();
  const guest = await guestSession();
  await sendMessage(guest.client(), guest.chatId, { client_msg_id: "s-1", body: "first" });
  const newest = await sendMessage(guest.client(), guest.chatId, { client_msg_id: "s-2", body: "second" });
  const rt = new RealtimeClient({ client: agent.client(), WebSocket: NodeWebSocket });
  rt.connect();
  await until(() => rt.state.status === "connected", "connected");
  assert.ok(rt.markRead(guest.chatId, 1));
  // The `read` frame is not answered: read until its position is stored.
  let summary: ChatSummary | undefined;
  for (let i = 0; i < 50 && summary?.read_seq !== 1; i++) {
    await sleep(50);
    for await (const s of listChatSummariesAll(agent.client(), { status: "open", limit: 250 })) {
      if (s.chat.id === guest.chatId) {
        summary = s;
        break;
      }
    }
  }
  assert.ok(summary);
  assert.deepEqual(summary.last_message, newest);
  assert.equal(summary.read_seq, 1);
  assert.equal(summary.visitor_read_seq, null);
  rt.close();
});
