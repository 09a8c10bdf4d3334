// Returning visitors through GuestSession against the real server (README,
// "Returning and verified visitors"; spec/v1/openapi.json, `POST /v1/chats`):
// the start answers a `visitorToken` that makes the next chat the same
// visitor's, `context` comes back on the chat, an identity the server does
// not trust is `401 identity_invalid`, and an anonymous visitor's session
// may not list "its own" chats. The verified visitor's own chats are driven
// in the browser tests (web/test/visitor.test.mjs), whose server trusts a
// test issuer.
import assert from "node:assert/strict";
import { test } from "node:test";

import { GuestSession } from "../../src/auth/guest_session.js";
import { ByrdApiError } from "../../src/errors.js";
import { listVisitorChats } from "../../src/generated/operations.js";
import { agentSession, publicClient } from "../support/server.js";

test("a start's visitorToken, sent back at the next start, makes the next chat the same visitor's", async () => {
  const first = await GuestSession.start(publicClient(), { subject: "First" });
  assert.match(first.visitorToken ?? "", /^byrd_vt_/);
  const second = await GuestSession.start(publicClient(), { subject: "Second", visitor_token: first.visitorToken });
  assert.equal(second.chat.visitor.id, first.chat.visitor.id);
  assert.notEqual(second.session.chatId, first.session.chatId);
  // Renewed, not replaced.
  assert.equal(second.visitorToken, first.visitorToken);

  const stranger = await GuestSession.start(publicClient(), {});
  assert.notEqual(stranger.chat.visitor.id, first.chat.visitor.id);

  const agent = await agentSession();
  const page = await listVisitorChats(agent.client(), first.chat.visitor.id);
  assert.deepEqual(
    page.chats.map((c) => c.id),
    [second.session.chatId, first.session.chatId],
  );
});

test("the context a start carries comes back on the chat, as given", async () => {
  const context = {
    page_url: "https://shop.example/cart?item=7",
    page_title: "<img src=x onerror=alert(1)> Cart",
    referrer: "https://search.example/?q=shoes",
    locale: "en-GB",
    time_zone: "Europe/London",
  };
  const { chat } = await GuestSession.start(publicClient(), { context });
  assert.equal(chat.context.page_url, context.page_url);
  assert.equal(chat.context.page_title, context.page_title);
  assert.equal(chat.context.referrer, context.referrer);
  assert.equal(chat.context.locale, context.locale);
  assert.equal(chat.context.time_zone, context.time_zone);
});

test("an identity no trusted issuer signed is identity_invalid, and an anonymous visitor lists no own chats", async () => {
  const forged = `${Buffer.from('{"alg":"EdDSA"}').toString("base64url")}.${Buffer.from('{"sub":"u"}').toString("base64url")}.c2ln`;
  const refused = await GuestSession.start(publicClient(), { identity: forged }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(refused instanceof ByrdApiError);
  assert.equal(refused.code, "identity_invalid");
  assert.equal(refused.status, 401);

  const { session, chat } = await GuestSession.start(publicClient(), {});
  assert.equal(chat.visitor.verified, false);
  const own = await session.ownChats().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(own instanceof ByrdApiError);
  assert.equal(own.code, "forbidden");
});
