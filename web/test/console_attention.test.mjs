// The console over a long shift, in Chromium against the release server:
// agent access tokens that live 30 seconds (the shortest the server
// allows) are refreshed again and again without the agent noticing, and a
// new chat or message while the tab is hidden puts a count in the title
// and plays the chime.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, openPage } from "./support/browser.mjs";
import { agentLogin, startWorld } from "./support/server.mjs";

let world;
let browser;
let ada;

before(async () => {
  world = await startWorld(["--agent-token-ttl-secs", "30"]);
  browser = await launch();
  ada = await agentLogin(world, "ada@example.com", "Ada");
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

const TAG = "?title=Example%20shop";

/**
 * Before any page script: a switch for the page's visibility
 * (`window.__hidden`), and a count of the chime's tones (each chime
 * starts two oscillators).
 */
function spies() {
  window.__hidden = false;
  window.__tones = 0;
  Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => (window.__hidden ? "hidden" : "visible") });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => window.__hidden });
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones++;
    return start.apply(this, args);
  };
}

async function console_() {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  await context.addInitScript(spies);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  const refreshes = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/v1/auth/refresh")) refreshes.push(Date.now());
  });
  await page.goto(`${world.url}/console/`);
  await page.getByLabel("Email").fill(ada.agent.email);
  await page.getByLabel("Password").fill(ada.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator(".connection.connected").waitFor();
  return { context, page, errors, refreshes };
}

async function visitor(text) {
  const opened = await openPage(browser, `${world.shop}/${TAG}`);
  await opened.page.getByRole("button", { name: /chat: Example shop/ }).click();
  await write(opened.page, text);
  await opened.page.locator(".line.mine.sent", { hasText: text }).waitFor();
  return opened;
}

async function write(page, text) {
  const box = page.getByRole("textbox", { name: /^(Message|Reply)$/ });
  await box.fill(text);
  await box.press("Enter");
}

async function setHidden(page, hidden) {
  await page.evaluate((hidden) => {
    window.__hidden = hidden;
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

test("short-lived agent tokens are refreshed unseen: the console keeps receiving and sending", async () => {
  const agent = await console_();
  const guest = await visitor("Hello, anyone there?");
  try {
    const { page } = agent;
    await page.locator(".chat-item", { hasText: "Hello, anyone there?" }).click();
    await page.getByRole("button", { name: "Take" }).click();
    const started = Date.now();
    // Three rounds, each longer than half a token's life: every round needs a fresh token.
    for (let round = 1; round <= 3; round++) {
      await page.waitForTimeout(16_000);
      await write(guest.page, `Visitor, round ${round}`);
      await page.locator(".messages .message.guest", { hasText: `Visitor, round ${round}` }).waitFor();
      await write(page, `Agent, round ${round}`);
      await guest.page.getByText(`Agent, round ${round}`).waitFor();
      assert.equal(await page.getByRole("button", { name: "Log in" }).count(), 0, "never back at the login screen");
    }
    // About one refresh per half-life (15 s): enough to carry on, and no storm of them.
    const refreshed = `the access token was refreshed ${agent.refreshes.length} times in ${Date.now() - started} ms`;
    assert.ok(agent.refreshes.length >= 3, refreshed);
    assert.ok(agent.refreshes.length <= 10, refreshed);
    assert.equal(await page.locator(".connection.connected").count(), 1);
    assert.deepEqual([...agent.errors, ...guest.errors], []);
  } finally {
    await agent.context.close();
    await guest.context.close();
  }
});

test("a new chat or message while the console is hidden counts in the title and chimes", async () => {
  const agent = await console_();
  let first;
  let second;
  try {
    const { page } = agent;
    await setHidden(page, true);
    const tonesBefore = await page.evaluate(() => window.__tones);

    first = await visitor("A new chat while nobody looks");
    await page.waitForFunction(() => document.title === "(1) Byrd console");
    await page.waitForFunction((before) => window.__tones > before, tonesBefore);

    // Back to the tab, the chat open: then hidden again, and the visitor writes.
    await setHidden(page, false);
    await page.locator(".chat-item", { hasText: "A new chat while nobody looks" }).click();
    await page.waitForFunction(() => document.title === "Byrd console");
    await setHidden(page, true);
    const tonesHidden = await page.evaluate(() => window.__tones);
    await write(first.page, "Still there?");
    await page.waitForFunction(() => document.title === "(1) Byrd console");
    await page.waitForFunction((before) => window.__tones > before, tonesHidden);

    // A second chat adds to the count.
    second = await visitor("Another one");
    await page.waitForFunction(() => document.title === "(2) Byrd console");

    // Coming back to the tab reads the open conversation.
    await setHidden(page, false);
    await page.waitForFunction(() => document.title === "(1) Byrd console");
    assert.deepEqual(agent.errors, []);
  } finally {
    await agent.context.close();
    await first?.context.close();
    await second?.context.close();
  }
});
