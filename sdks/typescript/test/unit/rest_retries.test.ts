// REST retries against a scripted HTTP server on loopback: which answers
// are tried again, after how long, and which are not.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";

import { ByrdApiError } from "../../src/errors.js";
import { assignChat, getChat, listMessages, refreshSession, sendMessage, startChat } from "../../src/generated/operations.js";
import { Client } from "../../src/rest/client.js";
import { staticToken } from "../../src/auth/credential.js";
import { until } from "../support/wait.js";

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | "hang up";

async function scripted(answers: Answer[]): Promise<{ client: Client; hits: number[]; bodies: string[]; close(): Promise<void> }> {
  const hits: number[] = [];
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(Date.now());
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => bodies.push(body));
    const answer = answers.shift() ?? { status: 500 };
    if (answer === "hang up") return void req.socket.destroy();
    res.writeHead(answer.status, { "content-type": "application/json", "x-request-id": "req-1", ...answer.headers });
    res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new Client({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credential: staticToken("agent", "t"),
  });
  return {
    client,
    hits,
    bodies,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const rateLimited = { status: 429, body: { error: { code: "rate_limited", message: "slow" } }, headers: { "retry-after": "1" } };
const page = { status: 200, body: { messages: [], has_more: false } };

test("429 waits for Retry-After, even for a POST", async () => {
  const s = await scripted([rateLimited, { status: 201, body: { id: "m" } }]);
  const message = await sendMessage(s.client, "c", { client_msg_id: "x", body: "hi" });
  assert.equal(message.id, "m");
  assert.equal(s.hits.length, 2);
  assert.ok((s.hits[1] as number) - (s.hits[0] as number) >= 950, "waited about a second");
  await s.close();
});

test("a dropped connection is retried for a GET and a keyed POST, not for another POST", async () => {
  const get = await scripted(["hang up", page]);
  assert.deepEqual(await listMessages(get.client, "c"), { messages: [], has_more: false });
  assert.equal(get.hits.length, 2);
  await get.close();
  // sendMessage carries its idempotency key (client_msg_id): a repeat is stored once.
  const keyed = await scripted(["hang up", { status: 201, body: { id: "m" } }]);
  assert.equal((await sendMessage(keyed.client, "c", { client_msg_id: "x", body: "hi" })).id, "m");
  assert.equal(keyed.hits.length, 2);
  await keyed.close();
  const post = await scripted(["hang up", { status: 201, body: {} }]);
  await assert.rejects(startChat(post.client, { subject: "hi" }), { kind: "transport" });
  assert.equal(post.hits.length, 1);
  await post.close();
});

test("retries stop at the limit, and the last error is thrown with its request id", async () => {
  const s = await scripted([rateLimited, rateLimited, rateLimited, page]);
  const error = await listMessages(s.client, "c", {}, { maxRetries: 2 }).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof ByrdApiError);
  assert.equal(error.code, "rate_limited");
  assert.equal(error.retryAfter, 1);
  assert.equal(error.requestId, "req-1");
  assert.equal(s.hits.length, 3);
  await s.close();
});

test("an error body the server did not write becomes http_<status>", async () => {
  const s = await scripted([{ status: 502, headers: { "content-type": "text/html" } }]);
  await assert.rejects(getChat(s.client, "c"), (e: unknown) => e instanceof ByrdApiError && e.code === "http_502" && e.status === 502);
  await s.close();
});

// spec/v1/client.json, rest.replayable: the server answers a replay of a
// refresh token within its refresh grace, so a lost answer is asked for
// again instead of waiting for a 4001 that would count as reuse.
test("a refresh whose answer was lost is asked for again within the grace", async () => {
  const tokens = { access_token: "a", refresh_token: "r2", token_type: "Bearer", expires_in: 900, agent: { id: "x", email: "a@b.c", name: "A", role: "agent", created_at: "2026-01-01T00:00:00Z" } };
  const s = await scripted(["hang up", { status: 200, body: tokens }]);
  const answer = await refreshSession(s.client, { refresh_token: "r1" });
  assert.equal(answer.refresh_token, "r2");
  assert.equal(s.hits.length, 2);
  await s.close();
});

// spec/v1/client.json, rest.rules: rate_limited says nothing was done, so
// every operation is retried; another 429 only a safe one.
test("rate_limited is retried for any operation, another 429 only for a safe one", async () => {
  const limited = { ...rateLimited, headers: { "retry-after": "0" } };
  const post = await scripted([limited, { status: 201, body: { chat: { id: "c" }, guest_token: "g", expires_in: 60 } }]);
  assert.equal((await startChat(post.client, { subject: "hi" })).guest_token, "g");
  assert.equal(post.hits.length, 2);
  await post.close();
  const full = { status: 429, body: { error: { code: "limit_exceeded", message: "full" } }, headers: { "retry-after": "0" } };
  const other = await scripted([full, { status: 201, body: {} }]);
  await assert.rejects(startChat(other.client, { subject: "hi" }), { code: "limit_exceeded" });
  assert.equal(other.hits.length, 1);
  await other.close();
});

test("an optional body left out, or null, is not sent", async () => {
  const s = await scripted([
    { status: 201, body: { chat: { id: "c" }, guest_token: "g", expires_in: 60 } },
    { status: 201, body: { chat: { id: "c" }, guest_token: "g", expires_in: 60 } },
    { status: 200, body: { id: "c" } },
  ]);
  await startChat(s.client);
  await startChat(s.client, null);
  await assignChat(s.client, "c", null);
  await until(() => s.bodies.length === 3, "three bodies read");
  assert.deepEqual(s.bodies, ["", "", ""]);
  await s.close();
});
