// The world the browser tests run in: the release server (target/release/byrd,
// never built here) as its own process on a fresh data folder and a free
// port, ready once it prints its readiness line (README, "Knowing when it
// listens"), and a
// "website" on another origin that installs the widget with its script tag.
// The server's origin allow-list names the website only (the console, on
// the server's own origin, needs no listing), so CORS and the WebSocket
// origin check are part of every test; a second website, not on the list,
// shows what the allow-list refuses.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ADMIN_EMAIL = "admin@web-tests.example.com";
export const ADMIN_PASSWORD = "web-tests-admin-password";
const BYRD = process.env.BYRD_BIN ?? fileURLToPath(new URL("../../../target/release/byrd", import.meta.url));

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
function shopPage(server) {
  return (url) => {
    const byrd = server.url;
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

/**
 * The address in the server's readiness line, `{"event":"listening","address":"HOST:PORT"}`,
 * the first line it prints on stdout once it accepts connections.
 */
function listening(child) {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`the server at ${BYRD} printed no readiness line within 30 s`)), 30_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const [line] = seen.split("\n");
      if (line === undefined || line.length === seen.length) return;
      const event = JSON.parse(line);
      if (event.event === "listening") {
        clearTimeout(timer);
        resolve(event.address);
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      reject(new Error(`the server at ${BYRD} did not start`));
    });
  });
}

/** Starts the server (with `args` added to its command line) and the websites; `stop()` ends them all. */
export async function startWorld(args = []) {
  const data = mkdtempSync(join(tmpdir(), "byrd-web-tests-"));
  // The pages ask for the widget at the server's address, known once it listens.
  const server = { url: "" };
  const shop = await website(shopPage(server));
  const foreign = await website(shopPage(server));
  const child = spawn(BYRD, ["serve", "--listen", "127.0.0.1:0", "--data-dir", join(data, "server"), "--chat-starts-per-minute", "100000", "--open-chats-per-address", "0", "--logins-per-minute", "100000", "--ws-heartbeat-secs", "2", ...args], {
    env: {
      ...process.env,
      BYRD_ADMIN_EMAIL: ADMIN_EMAIL,
      BYRD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BYRD_WS_ALLOWED_ORIGINS: shop.origin,
      BYRD_LOG_FORMAT: "json",
      // BYRD_TEST_LOG=byrd=debug shows, say, why each socket closed.
      RUST_LOG: process.env.BYRD_TEST_LOG ?? "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  server.url = `http://${await listening(child)}`;
  const url = server.url;
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
