// The REST half of the SDK against the real server: typed answers and
// errors, the token each operation needs, cursor paging, idempotent sends,
// and a token refresh on `401 token_expired`.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { Credential } from "../../src/auth/credential.js";
import { ByrdApiError, ByrdError } from "../../src/errors.js";
import { GuestSession } from "../../src/auth/guest_session.js";
import {
  getChat,
  getMe,
  listChats,
  listChatsAll,
  listMessages,
  login,
  sendMessage,
  startChat,
} from "../../src/generated/operations.js";
import { adminSession, agentSession, guestSession, publicClient, server } from "../support/server.js";
import { mintAgentToken } from "../support/tokens.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test("a refused login is a ByrdApiError with code, status and request id", async () => {
  const error = await login(publicClient(), { email: server.adminEmail, password: "wrong password!" }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ByrdApiError);
  assert.equal(error.kind, "api");
  assert.equal(error.code, "invalid_credentials");
  assert.equal(error.status, 401);
  assert.match(error.requestId ?? "", UUID);
});

test("each operation takes the token kind it accepts", async () => {
  const guest = await guestSession();
  const agent = await agentSession();
  const both = publicClient().withCredential([guest, agent]);
  // listChats is agent-only: the guest credential is skipped.
  const page = await listChats(both, { limit: 1 });
  assert.equal(page.chats.length, 1);
  const me = await getMe(guest.client());
  assert.equal(me.type, "guest");
  assert.ok(me.type === "guest" && me.chat_id === guest.chatId);
  await assert.rejects(listChats(guest.client()), (e: unknown) => e instanceof ByrdError && e.kind === "auth");
  // A guest outside its chat is refused by the server.
  const other = await guestSession();
  await assert.rejects(getChat(guest.client(), other.chatId), (e: unknown) => e instanceof ByrdApiError && e.code === "forbidden" && e.status === 403);
});

test("listChatsAll walks every page with the cursor", async () => {
  const agent = await agentSession();
  const started = new Set<string>();
  for (let i = 0; i < 5; i++) started.add((await startChat(publicClient(), { subject: `paging ${i}` })).chat.id);
  const seen: string[] = [];
  for await (const chat of listChatsAll(agent.client(), { status: "open", limit: 2 })) {
    seen.push(chat.id);
    if ([...started].every((id) => seen.includes(id))) break;
  }
  assert.ok([...started].every((id) => seen.includes(id)));
  assert.equal(new Set(seen).size, seen.length, "no chat twice");
});

test("a send repeated with the same client_msg_id is stored once", async () => {
  const guest = await guestSession();
  const first = await sendMessage(guest.client(), guest.chatId, { client_msg_id: "same-1", body: "Hello" });
  const again = await sendMessage(guest.client(), guest.chatId, { client_msg_id: "same-1", body: "Hello" });
  assert.equal(again.id, first.id);
  const page = await listMessages(guest.client(), guest.chatId);
  assert.deepEqual(page.messages.map((m) => m.seq), [1]);
});

test("a guest token is renewed, and a resumed guest session reads its chat", async () => {
  const guest = await guestSession();
  const old = guest.guestToken as string;
  const fresh = await guest.refresh(old);
  assert.notEqual(fresh, old);
  const resumed = GuestSession.resume(publicClient(), fresh);
  assert.equal(resumed.chatId, guest.chatId);
  assert.equal((await getChat(resumed.client(), guest.chatId)).id, guest.chatId);
});

test("an agent session refreshes once for many callers, and the refresh token rotates", async () => {
  const agent = await agentSession();
  const oldRefresh = agent.refreshToken;
  const stale = await agent.token();
  const tokens = await Promise.all(Array.from({ length: 8 }, () => agent.refresh(stale)));
  assert.ok(tokens.every((t) => t === tokens[0]));
  assert.notEqual(agent.refreshToken, oldRefresh);
  // Had two refreshes run with the same refresh token, the server would
  // have revoked the session: this call proves it is alive.
  assert.equal((await getMe(agent.client())).type, "agent");
});

test("401 token_expired gets one fresh token and the call succeeds", async () => {
  const admin = await adminSession();
  const me = admin.agent;
  const refreshed: string[] = [];
  // A credential that believes its token good, though it expired two
  // minutes ago (past the 30 s leeway): the server has the last word.
  const credential: Credential = {
    kind: "agent",
    token: async () => mintAgentToken(server.jwtSecret, me, -120),
    refresh: async (stale) => {
      refreshed.push(stale);
      return mintAgentToken(server.jwtSecret, me, 900);
    },
  };
  const answer = await getMe(publicClient().withCredential(credential));
  assert.equal(answer.type, "agent");
  assert.equal(refreshed.length, 1);
  await assert.rejects(
    getMe(publicClient().withCredential(credential), { refreshOnExpiry: false }),
    (e: unknown) => e instanceof ByrdApiError && e.code === "token_expired",
  );
});
