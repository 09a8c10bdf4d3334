// Returning and verified visitors in Chromium (README, "Returning and
// verified visitors"; spec/v1/openapi.json, `POST /v1/chats`): the widget
// keeps the visitor token and sends it, with the page's context, at every
// chat start; the console shows the visitor, their context as text and
// their earlier chats. The server trusts a test issuer whose Ed25519 key
// this file makes, and identity tokens are signed here as a site's backend
// would sign them; a forged one leaves the visitor anonymous.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { launch, openPage } from "./support/browser.mjs";
import { agentLogin, api, startWorld } from "./support/server.mjs";

const ISSUER = "https://shop.example";
const AUDIENCE = "byrd-visitors";
// Markup, and a right-to-left override the server would refuse (422): the
// widget takes the override out, and the console shows the markup as text.
const HOSTILE_TITLE = `<img src=x onerror="window.__owned=1">\u202e Cart`;
const SHOWN_TITLE = `<img src=x onerror="window.__owned=1"> Cart`;

let world;
let browser;
let ada;
let keys;
const shop = generateKeyPairSync("ed25519");

before(async () => {
  keys = mkdtempSync(join(tmpdir(), "byrd-web-issuer-"));
  writeFileSync(join(keys, "shop.pem"), shop.publicKey.export({ type: "spki", format: "pem" }));
  writeFileSync(
    join(keys, "issuers.toml"),
    `[[issuer]]\niss = "${ISSUER}"\naudience = "${AUDIENCE}"\nalgorithms = ["EdDSA"]\npurposes = ["visitor_identity"]\nkeys_file = "shop.pem"\n`,
  );
  world = await startWorld(["--trusted-issuers-file", join(keys, "issuers.toml")]);
  browser = await launch();
  ada = await agentLogin(world, "ada@example.com", "Ada");
});

after(async () => {
  await browser?.close();
  await world?.stop();
  if (keys) rmSync(keys, { recursive: true, force: true });
});

/** A visitor identity token for `sub`, signed as the shop's backend signs one (EdDSA JWT, five minutes). */
function identityToken(sub, key = shop.privateKey) {
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const claims = { iss: ISSUER, aud: AUDIENCE, sub, name: "Grace Shopper", email: "grace@shop.example", attributes: { plan: "pro" }, iat: now - 5, exp: now + 300 };
  const input = `${part({ alg: "EdDSA", typ: "JWT" })}.${part(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString("base64url")}`;
}

const TAG = "?title=Example%20shop";

async function write(page, text) {
  const box = page.getByRole("textbox", { name: /^(Message|Reply)$/ });
  await box.fill(text);
  await box.press("Enter");
}

/** The widget's stored chat (from its guest token) and visitor token. */
async function stored(page) {
  const { token, visitorToken } = await page.evaluate(() => {
    const value = (prefix) => localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith(prefix)) ?? "");
    return { token: JSON.parse(value("byrd-widget:") ?? "null")?.token ?? null, visitorToken: value("byrd-visitor:") };
  });
  const chatId = token ? JSON.parse(Buffer.from(token.split(".")[1], "base64url")).chat.id : null;
  return { chatId, visitorToken };
}

/** A visitor on the website (`query` adds tag attributes) who opened the widget and wrote `text`. */
async function visitor(text, query = "", options = {}) {
  const opened = await openPage(browser, `${world.shop}/${TAG}${query}`, options);
  await opened.page.getByRole("button", { name: /chat: Example shop/ }).click();
  await write(opened.page, text);
  await opened.page.locator(".line.mine.sent", { hasText: text }).waitFor();
  return opened;
}

async function consoleOf(agent) {
  const opened = await openPage(browser, `${world.url}/console/`);
  await opened.page.getByLabel("Email").fill(agent.agent.email);
  await opened.page.getByLabel("Password").fill(agent.password);
  await opened.page.getByRole("button", { name: "Log in" }).click();
  await opened.page.locator(".connection.connected").waitFor();
  return opened;
}

/** The console's visitor panel as term: description pairs. */
async function facts(page) {
  return page.locator(".visitor .facts").evaluate((dl) => {
    const out = {};
    for (const dt of dl.querySelectorAll("dt")) out[dt.textContent] = dt.nextElementSibling.textContent;
    return out;
  });
}

test("a returning visitor is the same visitor; the console shows their context as text and opens their earlier chat", async () => {
  const opened = await openPage(browser, "about:blank");
  const { page, context } = opened;
  const agent = await consoleOf(ada);
  try {
    await page.goto(`${world.shop}/${TAG}`, { referer: "https://search.example/?q=parcel" });
    await page.evaluate((title) => (document.title = title), HOSTILE_TITLE);
    await page.getByRole("button", { name: /chat: Example shop/ }).click();
    await write(page, "First visit");
    await page.locator(".line.mine.sent").waitFor();
    const first = await stored(page);
    assert.match(first.visitorToken ?? "", /^byrd_vt_/);

    // The chat closes; the next message starts a new chat, for the same visitor.
    await api(world.url, "POST", `/v1/chats/${first.chatId}/close`, { token: ada.access_token });
    await page.getByText("This chat was closed.").waitFor();
    await write(page, "Back again");
    await page.locator(".line.mine.sent", { hasText: "Back again" }).waitFor();
    const second = await stored(page);
    assert.notEqual(second.chatId, first.chatId);
    assert.equal(second.visitorToken, first.visitorToken);
    const [a, b] = await Promise.all(
      [first.chatId, second.chatId].map((id) => api(world.url, "GET", `/v1/chats/${id}`, { token: ada.access_token })),
    );
    assert.equal(b.visitor.id, a.visitor.id);

    // The console: the page, referrer, browser, language and time zone, as text; the earlier chat opens.
    const desk = agent.page;
    await desk.locator(".chat-item", { hasText: "Back again" }).click();
    await desk.locator(".visitor .earlier-chat").waitFor();
    const shown = await facts(desk);
    assert.equal(shown.Page, SHOWN_TITLE);
    assert.equal(shown["Page URL"], `${world.shop}/${TAG}`);
    assert.equal(shown.Referrer, "https://search.example/?q=parcel");
    assert.match(shown.Browser, /Chrom/);
    assert.equal(shown.Language, await page.evaluate(() => navigator.language));
    assert.equal(shown["Time zone"], await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
    assert.equal(await desk.locator(".visitor .verified").isVisible(), false);
    assert.equal(await desk.locator(".visitor img").count(), 0);
    assert.equal(await desk.evaluate(() => window.__owned), undefined);

    const earlier = desk.locator(".visitor .earlier-chat");
    assert.equal(await earlier.count(), 1);
    assert.equal(await earlier.getAttribute("data-chat-id"), first.chatId);
    await earlier.click();
    await desk.locator(".messages .message", { hasText: "First visit" }).waitFor();
    await desk.locator(".details", { hasText: "Closed" }).waitFor();
    assert.deepEqual([...opened.errors, ...agent.errors], []);
  } finally {
    await context.close();
    await agent.context.close();
  }
});

test("a verified visitor (script attribute) shows verified in the console, and another device lists and continues their chat", async () => {
  const laptop = await visitor("Asked on the laptop", `&identity-token=${identityToken("user-42")}`);
  const agent = await consoleOf(ada);
  let phone;
  try {
    const { chatId } = await stored(laptop.page);
    const chat = await api(world.url, "GET", `/v1/chats/${chatId}`, { token: ada.access_token });
    assert.equal(chat.visitor.verified, true);
    assert.equal(chat.visitor.external_id, "user-42");

    const desk = agent.page;
    await desk.locator(".chat-item", { hasText: "Asked on the laptop" }).click();
    await desk.locator(".visitor .verified").waitFor();
    assert.equal(await desk.locator(".visitor h2").textContent(), "Grace Shopper");
    const shown = await facts(desk);
    assert.equal(shown.Email, "grace@shop.example");
    assert.equal(shown["User id"], "user-42");
    assert.equal(shown.plan, "pro");

    // The phone: another browser, the same user logged in. It lists the laptop's chat and continues it.
    phone = await visitor("Now on the phone", `&identity-token=${identityToken("user-42")}`);
    const item = phone.page.locator(`.earlier li[data-chat-id="${chatId}"]`);
    await phone.page.locator(".earlier summary", { hasText: "Your earlier chats (1)" }).click();
    await item.getByRole("button", { name: /Continue/ }).click();
    await phone.page.locator(".log .line.mine", { hasText: "Asked on the laptop" }).waitFor();
    assert.equal((await stored(phone.page)).chatId, chatId);
    // A verified start answers no visitor token, so none was stored.
    assert.equal((await stored(phone.page)).visitorToken, null);
    assert.deepEqual([...laptop.errors, ...agent.errors, ...phone.errors], []);
  } finally {
    await laptop.context.close();
    await agent.context.close();
    await phone?.context.close();
  }
});

test("a forged identity falls back to anonymous, with one console warning that does not show the token", async () => {
  const forger = generateKeyPairSync("ed25519");
  const forged = identityToken("user-42", forger.privateKey);
  const opened = await openPage(browser, "about:blank");
  const { page, context } = opened;
  const messages = [];
  page.on("console", (message) => messages.push({ type: message.type(), text: message.text() }));
  try {
    await page.goto(`${world.shop}/${TAG}&identity-token=${forged}`);
    await page.getByRole("button", { name: /chat: Example shop/ }).click();
    await write(page, "Am I known?");
    await page.locator(".line.mine.sent").waitFor();
    const anonymous = await api(world.url, "GET", `/v1/chats/${(await stored(page)).chatId}`, { token: ada.access_token });
    assert.equal(anonymous.visitor.verified, false);
    const warnings = messages.filter((m) => m.type === "warning");
    assert.equal(warnings.length, 1, JSON.stringify(messages));
    assert.match(warnings[0].text, /identity_invalid/);
    assert.ok(messages.every((m) => !m.text.includes(forged.split(".")[2])), "no message shows the token");
    assert.deepEqual(opened.errors, []);
  } finally {
    await context.close();
  }
});

test("Byrd.identify queued before widget.js loads verifies the next chat; Byrd.logout forgets it", async () => {
  const token = identityToken("user-7");
  const opened = await openPage(browser, "about:blank");
  const { page, context } = opened;
  try {
    await context.addInitScript((t) => {
      window.Byrd = window.Byrd || { q: [] };
      window.Byrd.q.push(["identify", t]);
    }, token);
    await page.goto(`${world.shop}/${TAG}`);
    await page.getByRole("button", { name: /chat: Example shop/ }).click();
    await write(page, "Now logged in");
    await page.locator(".line.mine.sent", { hasText: "Now logged in" }).waitFor();
    const verified = await api(world.url, "GET", `/v1/chats/${(await stored(page)).chatId}`, { token: ada.access_token });
    assert.equal(verified.visitor.external_id, "user-7");

    // The tag included twice still makes one widget, and the global stays the first one's.
    await page.evaluate(
      (src) => new Promise((resolve) => document.body.append(Object.assign(document.createElement("script"), { src, onload: resolve }))),
      `${world.url}/widget.js?again`,
    );
    assert.equal(await page.locator("[data-byrd-widget]").count(), 1);

    // Logging out leaves nothing of that chat on the shared browser.
    await page.evaluate(() => window.Byrd.logout());
    await page.getByText("You are logged out").waitFor();
    assert.equal((await stored(page)).chatId, null);
    assert.deepEqual(opened.errors, []);
  } finally {
    await context.close();
  }
});
