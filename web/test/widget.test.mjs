// The visitor's chat widget in Chromium, installed on a website with its
// one script tag and served by the real release server. The agent's side
// is played over REST here; console.test.mjs plays it in the console.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, openPage, screenshot } from "./support/browser.mjs";
import { agentLogin, api, startWorld } from "./support/server.mjs";

let world;
let browser;
let ada;

before(async () => {
  world = await startWorld();
  browser = await launch();
  ada = await agentLogin(world, "ada@example.com", "Ada");
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

const TAG = "?title=Example%20shop&greeting=Hello!%20Questions%20about%20an%20order%3F&color=%23c2185b";

/** The widget's parts, found through its (open) shadow root. */
function widget(page) {
  return {
    launcher: page.getByRole("button", { name: /chat: Example shop/ }),
    panel: page.getByRole("dialog", { name: "Example shop" }),
    input: page.getByRole("textbox", { name: "Message" }),
    lines: page.locator(".log .line:not(.greeting)"),
    mine: page.locator(".log .line.mine"),
    banner: page.locator(".banner"),
  };
}

/** Texts of the chat's messages, in display order (not the greeting, nor notes such as "Ada joined the chat"). */
async function bodies(page) {
  return page.locator(".log .line:not(.greeting):not(.event) .body").allTextContents();
}

/** The chat id kept in the page's storage, read from its guest token. */
async function storedChatId(page) {
  const token = await page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("byrd-widget:"));
    return key ? JSON.parse(localStorage.getItem(key)).token : null;
  });
  assert.ok(token, "the widget keeps its guest token");
  return { token, chatId: JSON.parse(Buffer.from(token.split(".")[1], "base64url")).chat.id };
}

async function send(page, text) {
  const w = widget(page);
  await w.input.fill(text);
  await w.input.press("Enter");
}

test("a visitor opens the widget with the keyboard, chats with an agent, and sees the agent's name", async () => {
  const { context, page, errors } = await openPage(browser, `${world.shop}/${TAG}`);
  try {
    const w = widget(page);
    await w.launcher.focus();
    await page.keyboard.press("Enter");
    await w.panel.waitFor();
    // Opening moves focus to the message box; the greeting is the first line.
    assert.equal(await page.evaluate(() => document.querySelector("[data-byrd-widget]").shadowRoot.activeElement?.tagName), "TEXTAREA");
    assert.match(await page.locator(".greeting").textContent(), /Questions about an order/);
    assert.equal(await page.locator(".log").getAttribute("aria-live"), "polite");

    await send(page, "Hello, where is my parcel?");
    await page.locator(".line.mine.sent").waitFor();
    const { chatId } = await storedChatId(page);

    // Ada takes the chat: the widget names her at once, in the log and in the header, then she answers.
    await api(world.url, "POST", `/v1/chats/${chatId}/assign`, { token: ada.access_token, body: {} });
    await page.locator(".log .line.event", { hasText: "Ada joined the chat" }).waitFor();
    await page.getByText("Ada is here to help").waitFor();
    await api(world.url, "POST", `/v1/chats/${chatId}/messages`, {
      token: ada.access_token,
      body: { client_msg_id: "ada-1", body: "Hi, I'm Ada. Let me check that for you." },
      status: 201,
    });
    await page.getByText("Ada is here to help").waitFor();
    assert.deepEqual(await bodies(page), ["Hello, where is my parcel?", "Hi, I'm Ada. Let me check that for you."]);
    assert.deepEqual(await page.locator(".log .line:not(.greeting) .body").allTextContents(), [
      "Hello, where is my parcel?",
      "Ada joined the chat",
      "Hi, I'm Ada. Let me check that for you.",
    ]);
    assert.equal(await page.locator(".line.theirs:not(.greeting) .who").textContent(), "Ada: ");

    // Escape closes the panel and gives focus back to the launcher.
    await page.keyboard.press("Escape");
    assert.equal(await w.panel.isVisible(), false);
    assert.equal(await w.launcher.getAttribute("aria-expanded"), "false");
    await w.launcher.click();
    await screenshot(page, "widget");

    // The host page's loud styles did not reach the widget.
    const style = await page.locator(".log .line.mine .body").evaluate((el) => [getComputedStyle(el).fontFamily, getComputedStyle(el).color]);
    assert.notEqual(style[0], "serif");
    assert.notEqual(style[1], "rgb(0, 170, 0)");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a reload and a second tab resume the same chat with its history", async () => {
  const { context, page, errors } = await openPage(browser, `${world.shop}/${TAG}`);
  try {
    const w = widget(page);
    await w.launcher.click();
    await send(page, "First question");
    await page.locator(".line.mine.sent").waitFor();
    const { chatId } = await storedChatId(page);
    await api(world.url, "POST", `/v1/chats/${chatId}/messages`, {
      token: ada.access_token,
      body: { client_msg_id: "ada-reload", body: "First answer" },
      status: 201,
    });
    await page.getByText("First answer").waitFor();

    await page.reload();
    await w.launcher.click();
    await page.getByText("First answer").waitFor();
    assert.deepEqual(await bodies(page), ["First question", "First answer"]);
    assert.equal((await storedChatId(page)).chatId, chatId);

    // A second tab of the same browser joins the same chat, and sees what the first one writes.
    const second = await context.newPage();
    await second.goto(`${world.shop}/${TAG}`);
    await widget(second).launcher.click();
    await second.getByText("First answer").waitFor();
    await send(page, "Written in the first tab");
    await second.getByText("Written in the first tab").waitFor();
    assert.deepEqual(await bodies(second), ["First question", "First answer", "Written in the first tab"]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a second visitor never sees the first one's chat", async () => {
  const first = await openPage(browser, `${world.shop}/${TAG}`);
  const second = await openPage(browser, `${world.shop}/${TAG}`);
  try {
    await widget(first.page).launcher.click();
    await send(first.page, "Private: my order number is 1234");
    await first.page.locator(".line.mine.sent").waitFor();
    const one = await storedChatId(first.page);

    await widget(second.page).launcher.click();
    assert.deepEqual(await bodies(second.page), []);
    await send(second.page, "Another visitor here");
    await second.page.locator(".line.mine.sent").waitFor();
    const two = await storedChatId(second.page);
    assert.notEqual(two.chatId, one.chatId);
    // The first visitor writes again; the second never hears of it.
    await send(first.page, "Private: and my address");
    await first.page.locator(".line.mine.sent >> nth=1").waitFor();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(await bodies(second.page), ["Another visitor here"]);
    // Nor can its token read the first chat.
    await api(world.url, "GET", `/v1/chats/${one.chatId}/messages`, { token: two.token, status: 403 });
    assert.deepEqual([...first.errors, ...second.errors], []);
  } finally {
    await first.context.close();
    await second.context.close();
  }
});

test("while the visitor is offline both sides write; afterwards each message shows once, in order", async () => {
  const { context, page, errors } = await openPage(browser, `${world.shop}/${TAG}`);
  try {
    const w = widget(page);
    await w.launcher.click();
    await send(page, "before the cut");
    await page.locator(".line.mine.sent").waitFor();
    const { chatId } = await storedChatId(page);

    await context.setOffline(true);
    await w.banner.waitFor({ state: "visible", timeout: 15_000 });
    await send(page, "visitor while offline 1");
    await api(world.url, "POST", `/v1/chats/${chatId}/messages`, { token: ada.access_token, body: { client_msg_id: "off-1", body: "agent while visitor offline 1" }, status: 201 });
    await send(page, "visitor while offline 2");
    await api(world.url, "POST", `/v1/chats/${chatId}/messages`, { token: ada.access_token, body: { client_msg_id: "off-2", body: "agent while visitor offline 2" }, status: 201 });
    assert.equal(await page.locator(".line.mine.pending").count(), 2);
    await screenshot(page, "widget-offline");

    await context.setOffline(false);
    await w.banner.waitFor({ state: "hidden", timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector("[data-byrd-widget]").shadowRoot.querySelectorAll(".line.mine.pending").length === 0);
    await page.getByText("agent while visitor offline 2").waitFor();
    const shown = await bodies(page);
    const stored = (await api(world.url, "GET", `/v1/chats/${chatId}/messages`, { token: ada.access_token })).messages.map((m) => m.body);
    // The widget shows exactly what the server stored, in seq order; the visitor's two arrive after the agent's first.
    assert.deepEqual(shown, stored);
    assert.equal(stored.length, 5);
    assert.equal(new Set(stored).size, 5);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a site the allow-list does not name cannot start a chat: the message fails and says so", async () => {
  // The foreign site is not on BYRD_WS_ALLOWED_ORIGINS: the browser refuses the chat start (CORS).
  const { context, page } = await openPage(browser, `${world.foreign}/${TAG}`);
  try {
    await widget(page).launcher.click();
    await send(page, "Hello from a site Byrd does not serve");
    await page.locator(".line.mine.failed").waitFor({ timeout: 20_000 });
    assert.match(await page.locator(".line.mine .status").textContent(), /Not sent/);
    assert.equal(await page.getByRole("button", { name: "Retry" }).isVisible(), true);
    assert.match(await page.getByRole("alert").textContent(), /Message not sent/);
    const key = await page.evaluate(() => Object.keys(localStorage).find((k) => k.startsWith("byrd-widget:")) ?? null);
    assert.equal(key, null, "no chat was started");
  } finally {
    await context.close();
  }
});

test("a chat closed by the agent ends in the widget; the next message starts a new chat", async () => {
  const { context, page, errors } = await openPage(browser, `${world.shop}/${TAG}`);
  try {
    await widget(page).launcher.click();
    await send(page, "Thanks, that was all");
    await page.locator(".line.mine.sent").waitFor();
    const { chatId } = await storedChatId(page);
    await api(world.url, "POST", `/v1/chats/${chatId}/close`, { token: ada.access_token });
    await page.getByText("This chat was closed").waitFor();

    await send(page, "One more thing");
    await page.locator(".line.mine.sent", { hasText: "One more thing" }).waitFor();
    const next = await storedChatId(page);
    assert.notEqual(next.chatId, chatId);
    assert.deepEqual(await bodies(page), ["One more thing"]);
    // A reload resumes the new chat, not the closed one.
    await page.reload();
    await widget(page).launcher.click();
    await page.getByText("One more thing").waitFor();
    assert.equal((await storedChatId(page)).chatId, next.chatId);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a message that failed offline is sent by Retry once the network is back, stored once", async () => {
  const { context, page, errors } = await openPage(browser, `${world.shop}/${TAG}`);
  try {
    await widget(page).launcher.click();
    await context.setOffline(true);
    await send(page, "Written with no network");
    await page.locator(".line.mine.failed").waitFor({ timeout: 20_000 });
    await context.setOffline(false);
    await page.getByRole("button", { name: "Retry" }).click();
    await page.locator(".line.mine.sent").waitFor();
    const { chatId } = await storedChatId(page);
    const stored = await api(world.url, "GET", `/v1/chats/${chatId}/messages`, { token: ada.access_token });
    assert.deepEqual(stored.messages.map((m) => m.body), ["Written with no network"]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a stored chat that expired or was closed while the visitor was away is not resumed, and the widget says so", async () => {
  const { context, page, errors } = await openPage(browser, `${world.shop}/${TAG}`);
  try {
    const w = widget(page);
    await w.launcher.click();
    await send(page, "Before leaving");
    await page.locator(".line.mine.sent").waitFor();
    const { chatId } = await storedChatId(page);

    // Closed while the page was away: a reload finds out and starts afresh.
    await page.goto("about:blank");
    await api(world.url, "POST", `/v1/chats/${chatId}/close`, { token: ada.access_token });
    await page.goto(`${world.shop}/${TAG}`);
    await w.launcher.click();
    await page.getByText("This chat was closed. Write below to start a new one.").waitFor();
    // The chat is forgotten; the visitor (its token) is kept for the next chat.
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).map((k) => k.split(":")[0])), ["byrd-visitor"]);

    // A guest token past its expiry is not even tried: the widget says so and forgets it.
    const claims = Buffer.from(JSON.stringify({ type: "guest", sub: "v", chat: { id: chatId, created_at: "2026-01-01T00:00:00Z" }, exp: 1 })).toString("base64url");
    await page.evaluate(
      ([key, token]) => localStorage.setItem(key, JSON.stringify({ token, pending: [], readSeq: 0 })),
      [`byrd-widget:${world.url}`, `eyJhbGciOiJIUzI1NiJ9.${claims}.c2ln`],
    );
    await page.reload();
    await w.launcher.click();
    await page.getByText("Your previous chat has expired").waitFor();
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("byrd-widget:")).length), 0);
    assert.deepEqual(await bodies(page), []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
