// The generated protocol types under `exactOptionalPropertyTypes`: an
// optional field may be given as `undefined`, which the wire takes as
// absent, since JSON leaves `undefined` out and so does the query string.
// The type checks are compiled by `npm run build:test`, whose errors fail
// the run; the tests check what goes on the wire.
import assert from "node:assert/strict";
import { test } from "node:test";

import { staticToken } from "../../src/auth/credential.js";
import { listMessages, startChat, type ListMessagesQuery } from "../../src/generated/operations.js";
import type { ClientSend, ClientSubscribe, CreateChatRequest } from "../../src/generated/types.js";
import { Client } from "../../src/rest/client.js";

// Compile-time: every optional field of a request body, a query and a
// client frame accepts an explicit `undefined`.
const chatRequest: Required<CreateChatRequest> = {
  visitor: { name: undefined, email: undefined },
  subject: undefined,
  visitor_token: undefined,
  context: { page_url: undefined, page_title: undefined, referrer: undefined, locale: undefined, time_zone: undefined },
  identity: undefined,
};
const messagesQuery: Required<ListMessagesQuery> = { after_seq: undefined, before_seq: undefined, limit: undefined };
const subscribeFrame: Required<ClientSubscribe> = { type: "subscribe", chat_id: "c", after_seq: undefined, ref: undefined };
const sendFrame: Required<ClientSend> = { type: "send", chat_id: "c", client_msg_id: "m", body: "hi", ref: undefined };

/** A client whose `fetch` records each request and answers `answer`. */
function recording(answer: unknown): { client: Client; requests: { url: string; body: string | undefined }[] } {
  const requests: { url: string; body: string | undefined }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    requests.push({ url: String(input), body: typeof init?.body === "string" ? init.body : undefined });
    return new Response(JSON.stringify(answer), { status: 200, headers: { "content-type": "application/json" } });
  };
  const client = new Client({ baseUrl: "http://byrd.test", credential: staticToken("agent", "t"), fetch });
  return { client, requests };
}

test("a body field given as undefined is left out of the JSON", async () => {
  const { client, requests } = recording({ chat: {}, guest_token: "g", expires_in: 60 });
  await startChat(client, { visitor: { name: undefined, email: "sam@example.com" }, subject: undefined });
  assert.equal(requests.length, 1);
  assert.deepEqual(JSON.parse(requests[0]?.body ?? "null"), { visitor: { email: "sam@example.com" } });
});

test("a query parameter given as undefined is left out of the URL", async () => {
  const { client, requests } = recording({ messages: [], has_more: false });
  await listMessages(client, "c", { after_seq: undefined, before_seq: undefined, limit: 5 });
  assert.equal(requests[0]?.url, "http://byrd.test/v1/chats/c/messages?limit=5");
});
