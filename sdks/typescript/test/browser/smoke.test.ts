// The browser bundle (dist-browser/byrd.min.js) in headless Chromium,
// against the real server: a page starts a guest chat and talks over the
// browser's own WebSocket and fetch to an agent running in Node. The page
// comes from another origin than the API, as a website's widget does, so
// the server's CORS answers are part of the test.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";

import { RealtimeClient } from "../../src/realtime/client.js";
import { NodeWebSocket, agentSession, server } from "../support/server.js";
import { until } from "../support/wait.js";

const CHROMIUM = process.env.BYRD_CHROMIUM ?? "/usr/bin/chromium";
const bundle = readFileSync(new URL("../../../dist-browser/byrd.min.js", import.meta.url));

const page = `<!doctype html>
<meta charset="utf-8">
<title>Byrd browser smoke test</title>
<script type="module">
  import { Client, GuestSession, RealtimeClient } from "/byrd.min.js";
  window.received = [];
  window.states = [];
  window.smoke = (async () => {
    const client = new Client({ baseUrl: new URLSearchParams(location.search).get("api") });
    const { session } = await GuestSession.start(client, { visitor: { name: "Browser" } });
    const rt = new RealtimeClient({ client: session.client() });
    window.rt = rt;
    rt.on("message", (e) => window.received.push(e.message.body));
    rt.on("state", (e) => window.states.push(e.state.status));
    rt.connect();
    const sent = await rt.send(session.chatId, "hello from the browser");
    return { chatId: session.chatId, seq: sent.seq, author: sent.author.type };
  })();
</script>`;

/** Serves the page and the bundle: the website that embeds the widget. */
async function website(): Promise<http.Server> {
  const site = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://site").pathname;
    if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end(page);
    if (path === "/byrd.min.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  return site;
}

test("the browser bundle chats with an agent over the browser's WebSocket", async () => {
  const site = await website();
  const origin = `http://127.0.0.1:${(site.address() as net.AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), "byrd-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  let agentRt: RealtimeClient | undefined;
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(String(error)));
    await tab.goto(`${origin}/?api=${encodeURIComponent(server.url)}`);
    const started = (await tab.evaluate("window.smoke")) as { chatId: string; seq: number; author: string };
    assert.deepEqual({ seq: started.seq, author: started.author }, { seq: 1, author: "guest" });

    const agent = await agentSession();
    agentRt = new RealtimeClient({ client: agent.client(), WebSocket: NodeWebSocket });
    const heard: string[] = [];
    agentRt.on("message", (e) => heard.push(e.message.body));
    agentRt.subscribe(started.chatId);
    agentRt.connect();
    await until(() => heard.length === 1, "the agent hears the browser");
    assert.deepEqual(heard, ["hello from the browser"]);
    await agentRt.send(started.chatId, "hello from the agent");
    await tab.waitForFunction("window.received.length === 2", undefined, { timeout: 10_000 });
    assert.deepEqual(await tab.evaluate("window.received"), ["hello from the browser", "hello from the agent"]);
    assert.deepEqual(await tab.evaluate("window.states"), ["connecting", "connected"]);
    await tab.evaluate("window.rt.close()");
    assert.deepEqual(errors, []);
  } finally {
    agentRt?.close();
    await browser.close();
    site.closeAllConnections();
    await new Promise<void>((resolve) => site.close(() => resolve()));
    rmSync(profile, { recursive: true, force: true });
  }
});
