// The console with a queue of 1,000 open chats, as a spammer rotating
// addresses could leave it: the chats are started through a trusted
// `X-Forwarded-For` hop, each from its own address; the console in
// Chromium then loads them all (a few summary pages and one queue
// subscription, spec/v1/README.md "Following the queue"), stays on one
// connection with no reconnect loop, and shows a new message in the
// oldest chat within a second.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, openPage } from "./support/browser.mjs";
import { agentLogin, api, startWorld } from "./support/server.mjs";

const CHATS = 1000;
/** Chat starts in flight at once: enough to start 1,000 in a few seconds. */
const CONCURRENCY = 50;

let world;
let browser;
let ada;

before(async () => {
  world = await startWorld(["--trust-x-forwarded-for"]);
  browser = await launch();
  ada = await agentLogin(world, "ada@example.com", "Ada");
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

/** Starts chat `n` from address 10.x.y.z of its own; its `{chat, guest_token}`. */
async function startChat(n) {
  const answer = await fetch(`${world.url}/v1/chats`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
    body: JSON.stringify({ visitor: { name: `Visitor ${n}` }, subject: "Spam?" }),
  });
  assert.equal(answer.status, 201, await answer.clone().text());
  return answer.json();
}

/** Starts `CHATS` chats, `CONCURRENCY` at a time, in order of start. */
async function startChats() {
  const started = new Array(CHATS);
  let next = 0;
  const worker = async () => {
    while (next < CHATS) {
      const n = next++;
      started[n] = await startChat(n);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return started;
}

test("a queue of 1,000 chats loads in a few requests, stays on one connection, and stays live", async () => {
  const started = await startChats();
  const oldest = started.reduce((a, b) => (a.chat.id < b.chat.id ? a : b));
  await api(world.url, "POST", `/v1/chats/${oldest.chat.id}/messages`, {
    token: oldest.guest_token,
    body: { client_msg_id: "first", body: "The oldest chat's first words" },
    status: 201,
  });

  const { page, errors } = await openPage(browser, `${world.url}/console/`);
  const sockets = [];
  const requests = [];
  page.on("websocket", (socket) => sockets.push(socket));
  page.on("request", (request) => requests.push(new URL(request.url()).pathname));
  await page.getByLabel("Email").fill(ada.agent.email);
  await page.getByLabel("Password").fill(ada.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator(".connection.connected").waitFor();
  await page.waitForFunction((count) => document.querySelectorAll(".chat-item").length === count, CHATS, { timeout: 20_000 });
  const item = page.locator(".chat-item", { hasText: "The oldest chat's first words" });
  await item.waitFor();

  // A few heartbeats (2 s on the test server) on the same connection: no reconnect loop.
  await page.waitForTimeout(5000);
  assert.equal(await page.locator(".connection.connected").count(), 1, "still live");
  assert.equal(sockets.length, 1, `one WebSocket, got ${sockets.length}`);
  const api_ = requests.filter((path) => path.startsWith("/v1/"));
  const summaries = api_.filter((path) => path === "/v1/chat-summaries").length;
  assert.ok(summaries <= 6, `the queue loads in a few pages, got ${summaries}`);
  assert.equal(api_.filter((path) => path.endsWith("/reads")).length, 0, "no read positions per chat");

  const sent = Date.now();
  await api(world.url, "POST", `/v1/chats/${oldest.chat.id}/messages`, {
    token: oldest.guest_token,
    body: { client_msg_id: "again", body: "Anyone there?" },
    status: 201,
  });
  await page.locator(".chat-item", { hasText: "Anyone there?" }).waitFor({ timeout: 1000 });
  assert.ok(Date.now() - sent <= 1000, `shown ${Date.now() - sent} ms after it was sent`);
  assert.deepEqual(errors, []);
});
