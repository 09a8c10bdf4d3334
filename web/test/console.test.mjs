// The agents' console in Chromium, served by the real release server at
// /console/, with visitors chatting through the widget on a website: two
// browser contexts (two people's browsers) per conversation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, openPage, screenshot } from "./support/browser.mjs";
import { agentLogin, api, startWorld } from "./support/server.mjs";

let world;
let browser;
let ada;
let grace;

before(async () => {
  world = await startWorld();
  browser = await launch();
  ada = await agentLogin(world, "ada@example.com", "Ada");
  grace = await agentLogin(world, "grace@example.com", "Grace");
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

const TAG = "?title=Example%20shop&color=%23c2185b";

/** An agent's console, logged in through its form. */
async function console_(agent) {
  const opened = await openPage(browser, `${world.url}/console/`);
  const { page } = opened;
  await page.getByLabel("Email").fill(agent.agent.email);
  await page.getByLabel("Password").fill(agent.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator(".connection.connected").waitFor();
  return opened;
}

/** A visitor on the website who opened the widget and wrote `text`; returns the chat id. */
async function visitor(text) {
  const opened = await openPage(browser, `${world.shop}/${TAG}`);
  await opened.page.getByRole("button", { name: /chat: Example shop/ }).click();
  await write(opened.page, text);
  await opened.page.locator(".line.mine.sent", { hasText: text }).waitFor();
  const token = await opened.page.evaluate(() => JSON.parse(localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith("byrd-widget:")))).token);
  return { ...opened, token, chatId: JSON.parse(Buffer.from(token.split(".")[1], "base64url")).chat.id };
}

async function write(page, text) {
  const box = page.getByRole("textbox", { name: /^(Message|Reply)$/ });
  await box.fill(text);
  await box.press("Enter");
}

const widgetBodies = (page) => page.locator(".log .line:not(.greeting):not(.event) .body").allTextContents();
const consoleBodies = (page) => page.locator(".messages .message .body").allTextContents();

test("an agent sees a new chat arrive, takes it, and talks with the visitor: typing and read markers both ways", async () => {
  const agent = await console_(ada);
  const guest = await visitor("Hi, I need help with my order");
  try {
    const { page } = agent;
    const item = page.locator(".chat-item", { hasText: "Hi, I need help with my order" });
    await item.locator(".unread", { hasText: "1" }).waitFor();
    assert.equal(await page.title(), "(1) Byrd console");
    await item.locator(".status", { hasText: "Waiting" }).waitFor();

    // Opening the chat reads it: the count goes, and the visitor sees "Read".
    await item.click();
    await page.locator(".messages .message.guest", { hasText: "Hi, I need help" }).waitFor();
    await page.waitForFunction(() => document.title === "Byrd console");
    await guest.page.locator(".line.mine.read").waitFor();

    // Take it: the visitor sees at once who joined, in the log and in the header; typing shows Ada's name too.
    await page.getByRole("button", { name: "Take" }).click();
    await item.locator(".status", { hasText: "Yours" }).waitFor();
    await guest.page.locator(".log .line.event", { hasText: "Ada joined the chat" }).waitFor();
    await guest.page.locator("header", { hasText: "Ada is here to help" }).waitFor();
    await page.getByRole("textbox", { name: "Reply" }).pressSequentially("Hello");
    await guest.page.getByText("Ada is typing…").waitFor();
    await page.getByRole("textbox", { name: "Reply" }).fill("Hello, I'm Ada. What is your order number?");
    await page.getByRole("textbox", { name: "Reply" }).press("Enter");
    await guest.page.getByText("What is your order number?").waitFor();
    await guest.page.getByText("Ada is here to help").waitFor();
    assert.equal(await guest.page.getByText("Ada is typing…").count(), 0);

    // The visitor types and reads: the console shows both.
    await guest.page.getByRole("textbox", { name: "Message" }).pressSequentially("It is");
    await page.getByText(/is typing…/).waitFor();
    await page.locator(".message.mine .seen", { hasText: "Seen" }).waitFor();
    await write(guest.page, "It is 1234");
    await page.locator(".messages .message.guest", { hasText: "It is 1234" }).waitFor();
    assert.deepEqual(await consoleBodies(page), ["Hi, I need help with my order", "Hello, I'm Ada. What is your order number?", "It is 1234"]);
    assert.deepEqual(await widgetBodies(guest.page), await consoleBodies(page));
    await screenshot(page, "console");

    // The visitor reloads: what Ada read still shows as read, from the server's read positions.
    await guest.page.reload();
    await guest.page.getByRole("button", { name: /chat: Example shop/ }).click();
    await guest.page.locator(".line.mine.read", { hasText: "Hi, I need help" }).waitFor();
    assert.deepEqual([...agent.errors, ...guest.errors], []);
  } finally {
    await agent.context.close();
    await guest.context.close();
  }
});

test("the team's presence shows, a chat is handed over, and closing it ends it for the visitor", async () => {
  const first = await console_(ada);
  const second = await console_(grace);
  const guest = await visitor("Can someone from billing help?");
  try {
    const item = first.page.locator(".chat-item", { hasText: "billing" });
    await item.click();
    await first.page.locator(".team li.online", { hasText: "Grace" }).waitFor();
    await first.page.getByRole("button", { name: "Take" }).click();
    await item.locator(".status", { hasText: "Yours" }).waitFor();
    await first.page.getByLabel("Hand over to").selectOption({ label: "Grace (online)" });
    await first.page.getByRole("button", { name: "Hand over" }).click();
    await item.locator(".status", { hasText: "With Grace" }).waitFor();
    const graceItem = second.page.locator(".chat-item", { hasText: "billing" });
    await graceItem.locator(".status", { hasText: "Yours" }).waitFor();
    await guest.page.locator(".log .line.event", { hasText: "Grace took over the chat" }).waitFor();
    await guest.page.locator("header", { hasText: "Grace is here to help" }).waitFor();

    await graceItem.click();
    await second.page.getByRole("button", { name: "Close chat" }).click();
    await guest.page.getByText("This chat was closed").waitFor();
    const chat = await api(world.url, "GET", `/v1/chats/${guest.chatId}`, { token: ada.access_token });
    assert.equal(chat.status, "closed");
    // Ada is still looking at it: it stays on her screen, closed, with no reply box.
    await item.locator(".status", { hasText: "Closed" }).waitFor();
    assert.equal(await first.page.getByRole("textbox", { name: "Reply" }).isDisabled(), true);
    assert.deepEqual([...first.errors, ...second.errors, ...guest.errors], []);
  } finally {
    await first.context.close();
    await second.context.close();
    await guest.context.close();
  }
});

test("the console pages a long history back on demand", async () => {
  const guest = await visitor("Message 1");
  for (let n = 2; n <= 45; n++) {
    await api(world.url, "POST", `/v1/chats/${guest.chatId}/messages`, { token: guest.token, body: { client_msg_id: `m${n}`, body: `Message ${n}` }, status: 201 });
  }
  // The console opens on a chat that already has a long history.
  const agent = await console_(ada);
  try {
    const { page } = agent;
    await page.locator(".chat-item", { hasText: "Message 45" }).click();
    await page.locator(".messages .message", { hasText: "Message 45" }).waitFor();
    const firstPage = await consoleBodies(page);
    assert.ok(firstPage.length < 45, "not the whole history at once");
    assert.equal(firstPage.at(-1), "Message 45");
    await page.getByRole("button", { name: "Load earlier messages" }).click();
    await page.locator(".messages .message .body", { hasText: /^Message 1$/ }).waitFor();
    assert.deepEqual(await consoleBodies(page), Array.from({ length: 45 }, (_, i) => `Message ${i + 1}`));
    await page.getByRole("button", { name: "Load earlier messages" }).waitFor({ state: "hidden" });
  } finally {
    await agent.context.close();
    await guest.context.close();
  }
});

test("while the visitor is offline both write; afterwards both sides show every message once, in order", async () => {
  const agent = await console_(ada);
  const guest = await visitor("Before the cut");
  try {
    const { page } = agent;
    await page.locator(".chat-item", { hasText: "Before the cut" }).click();
    await page.locator(".messages .message", { hasText: "Before the cut" }).waitFor();

    await guest.context.setOffline(true);
    await guest.page.locator(".banner").waitFor({ state: "visible", timeout: 15_000 });
    await write(guest.page, "Visitor offline 1");
    await write(page, "Agent during the cut 1");
    await write(guest.page, "Visitor offline 2");
    await write(page, "Agent during the cut 2");
    await page.locator(".messages .message.mine:not(.pending)", { hasText: "Agent during the cut 2" }).waitFor();

    await guest.context.setOffline(false);
    await guest.page.locator(".banner").waitFor({ state: "hidden", timeout: 15_000 });
    await guest.page.getByText("Agent during the cut 2").waitFor();
    await guest.page.waitForFunction(() => document.querySelector("[data-byrd-widget]").shadowRoot.querySelectorAll(".line.pending").length === 0);
    await page.locator(".messages .message", { hasText: "Visitor offline 2" }).waitFor();

    const stored = (await api(world.url, "GET", `/v1/chats/${guest.chatId}/messages`, { token: ada.access_token })).messages.map((m) => m.body);
    assert.equal(stored.length, 5);
    assert.deepEqual(new Set(stored), new Set(["Before the cut", "Visitor offline 1", "Visitor offline 2", "Agent during the cut 1", "Agent during the cut 2"]));
    assert.deepEqual(await widgetBodies(guest.page), stored);
    assert.deepEqual(await consoleBodies(page), stored);
    assert.deepEqual([...agent.errors, ...guest.errors], []);
  } finally {
    await agent.context.close();
    await guest.context.close();
  }
});

test("a reload keeps the agent logged in; a revoked session returns to the login screen with the reason", async () => {
  const agent = await console_(ada);
  try {
    const { page } = agent;
    await page.reload();
    await page.locator(".connection.connected").waitFor();
    assert.equal(await page.locator(".me").textContent(), "Ada (agent)");

    // The same session is logged out elsewhere: its refresh token, then the access token it gives, then logout.
    const refresh = await page.evaluate(() => sessionStorage.getItem("byrd-console:refresh-token"));
    const tokens = await api(world.url, "POST", "/v1/auth/refresh", { body: { refresh_token: refresh } });
    await api(world.url, "POST", "/v1/auth/logout", { token: tokens.access_token, status: 204 });

    await page.getByRole("button", { name: "Log in" }).waitFor();
    assert.match(await page.locator(".reason").textContent(), /session was ended/);
    await screenshot(page, "console-revoked");
    // Nothing of the session stays in the tab.
    assert.equal(await page.evaluate(() => sessionStorage.getItem("byrd-console:refresh-token")), null);
    await page.reload();
    await page.getByRole("button", { name: "Log in" }).waitFor();
    assert.deepEqual(agent.errors, []);
  } finally {
    await agent.context.close();
  }
});

test("a wrong password is refused in words, and logging out ends at the login screen", async () => {
  const opened = await openPage(browser, `${world.url}/console/`);
  try {
    const { page } = opened;
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "The email or password is wrong." }).waitFor();
    await page.getByLabel("Password").fill(ada.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator(".connection.connected").waitFor();
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByText("You logged out.").waitFor();
    assert.deepEqual(opened.errors, []);
  } finally {
    await opened.context.close();
  }
});

test("chats started while the console was cut off are in its queue once it is back", async () => {
  const agent = await console_(ada);
  try {
    const { page, context } = agent;
    await context.setOffline(true);
    await page.locator(".connection.reconnecting").waitFor({ timeout: 15_000 });
    // No chat_updated reaches a console that is offline, and none is replayed.
    await api(world.url, "POST", "/v1/chats", { body: { subject: "Started during the cut" }, status: 201 });
    await context.setOffline(false);
    await page.locator(".connection.connected").waitFor({ timeout: 15_000 });
    await page.locator(".chat-item", { hasText: "Started during the cut" }).waitFor();
    assert.deepEqual(agent.errors, []);
  } finally {
    await agent.context.close();
  }
});

test("unread counts come from the server: a fresh browser counts only what the agent has not read", async () => {
  const guest = await visitor("A question about returns");
  const first = await console_(grace);
  try {
    const item = first.page.locator(".chat-item", { hasText: "A question about returns" });
    await item.locator(".unread", { hasText: "1" }).waitFor();
    await item.click();
    await first.page.locator(".messages .message.guest", { hasText: "A question about returns" }).waitFor();
    await guest.page.locator(".line.mine.read", { hasText: "A question about returns" }).waitFor();
  } finally {
    await first.context.close();
  }
  await write(guest.page, "And one more");
  await guest.page.locator(".line.mine.sent", { hasText: "And one more" }).waitFor();

  // Another browser, nothing stored in it: one unread, not two.
  const second = await console_(grace);
  try {
    const item = second.page.locator(".chat-item", { hasText: "And one more" });
    await item.locator(".unread", { hasText: "1" }).waitFor();
    assert.equal(await second.page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes("read")).length), 0);
    assert.deepEqual([...second.errors, ...guest.errors], []);
  } finally {
    await second.context.close();
    await guest.context.close();
  }
});
