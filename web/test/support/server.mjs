// The world the browser tests run in: the release server (target/release/byrd,
// never built here) as its own process on a fresh data folder, and a
// "website" on another origin that installs the widget with its script tag.
// The server's origin allow-list names the website only (the console, on
// the server's own origin, needs no listing), so CORS and the WebSocket
// origin check are part of every test; a second website, not on the list,
// shows what the allow-list refuses.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ADMIN_EMAIL = "admin@web-tests.example.com";
export const ADMIN_PASSWORD = "web-tests-admin-password";
const BYRD = process.env.BYRD_BIN ?? fileURLToPath(new URL("../../../target/release/byrd", import.meta.url));

/** A port nothing listens on right now. */
async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A website whose page installs the widget from `byrd`, with `attributes` on the tag. */
async function website(page) {
  const site = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://site");
    if (url.pathname !== "/") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(url));
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  return { site, origin: `http://127.0.0.1:${site.address().port}` };
}

/**
 * A page of a shop that styles everything loudly (the widget must not
 * care) and installs the widget: the tag's attributes come from the
 * query string, so each test picks its own.
 */
function shopPage(byrd) {
  return (url) => {
    const attributes = [...url.searchParams].map(([k, v]) => ` data-${k}="${v.replace(/[&"<>]/g, "")}"`).join("");
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<style>* { font-family: serif !important; color: #0a0 !important; } li, p { font-size: 30px; } button { background: #f0f; }</style>
</head><body>
<h1>Example shop</h1><p>Our best products, and a chat if you need us.</p>
<script src="${byrd}/widget.js"${attributes} async></script>
</body></html>`;
  };
}

/** Starts the server (with `args` added to its command line) and the websites; `stop()` ends them all. */
export async function startWorld(args = []) {
  const data = mkdtempSync(join(tmpdir(), "byrd-web-tests-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const shop = await website(shopPage(url));
  const foreign = await website(shopPage(url));
  const child = spawn(BYRD, ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", join(data, "server"), "--chat-starts-per-minute", "100000", "--logins-per-minute", "100000", "--ws-heartbeat-secs", "2", ...args], {
    env: {
      ...process.env,
      BYRD_ADMIN_EMAIL: ADMIN_EMAIL,
      BYRD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BYRD_WS_ALLOWED_ORIGINS: shop.origin,
      BYRD_LOG_FORMAT: "json",
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  for (let i = 0; ; i++) {
    try {
      const answer = await fetch(`${url}/healthz`);
      if (answer.ok) break;
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null || i > 100) throw new Error(`the server at ${BYRD} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    shop: shop.origin,
    foreign: foreign.origin,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      for (const { site } of [shop, foreign]) {
        site.closeAllConnections();
        await new Promise((resolve) => site.close(resolve));
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A REST call as a test's own client: JSON in, JSON out, the status checked. */
export async function api(url, method, path, { token, body, status = 200 } = {}) {
  const answer = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await answer.text();
  if (answer.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${answer.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Creates an agent and logs it in: `{ agent, access_token, refresh_token }`. */
export async function agentLogin(world, email, name) {
  const admin = await api(world.url, "POST", "/v1/auth/login", { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  const password = `${name}-password-of-12+`;
  await api(world.url, "POST", "/v1/agents", { token: admin.access_token, body: { email, name, role: "agent", password }, status: 201 });
  return { ...(await api(world.url, "POST", "/v1/auth/login", { body: { email, password } })), password };
}
