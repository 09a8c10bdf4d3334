import assert from "node:assert/strict";
import { test } from "node:test";

import { ByrdApiError, ByrdError, apiErrorOf, randomUuid } from "../../src/index.js";

// Applications that keep a send across a page reload need its
// `client_msg_id` before the send, so the package exports its generator.
test("randomUuid gives distinct version 4 UUIDs that the server accepts as client_msg_id", () => {
  const ids = Array.from({ length: 1000 }, () => randomUuid());
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
});

// A refused renewal becomes an `auth` error wrapping the server's answer;
// user interfaces read the code from either.
test("apiErrorOf finds the server's error code directly or behind an auth error", () => {
  const refused = new ByrdApiError("chat_closed", "The chat is closed.", { status: 409 });
  assert.equal(apiErrorOf(refused)?.code, "chat_closed");
  assert.equal(apiErrorOf(new ByrdError("auth", "the session ended", { cause: refused }))?.code, "chat_closed");
  assert.equal(apiErrorOf(new ByrdError("transport", "offline")), null);
  assert.equal(apiErrorOf(new Error("other")), null);
});
