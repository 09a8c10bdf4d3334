// The README's quick starts, as an integrator meets them: each TypeScript
// block under a "Quick start" heading is written to a project of its own
// that installs the package `npm pack` makes, compiled by `tsc --strict
// --exactOptionalPropertyTypes --noUncheckedIndexedAccess` (library
// declarations checked too), and run against the real server. The guest's
// runs as a browser page would run it (test/support/page.ts); the agent's
// as the Node 20 program it is, answering a guest whose first message is
// too long to echo: its refused send must not end the process.
//
// Run by `scripts/test` after the other suites, alone, since the agent's
// quick start takes the newest open chat.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { ByrdApiError } from "../../src/errors.js";
import { createAgent } from "../../src/generated/operations.js";
import type { Message } from "../../src/generated/types.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import { NodeWebSocket, adminSession, guestSession, server } from "../support/server.js";
import { until } from "../support/wait.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const project = join(root, ".test-build", "quickstart");
const pageShim = join(root, ".test-build", "test", "support", "page.js");
const STRICTEST = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  target: "ES2022",
  module: "NodeNext",
  moduleResolution: "NodeNext",
};
/** What a page defines for the guest's quick start. */
const PAGE_DECLARATIONS = `import type { Author, ConnectionState, Message } from "@byrd/sdk";
declare global {
  function render(message: Message): void;
  function showTyping(author: Author, active: boolean): void;
  function showConnection(status: ConnectionState["status"]): void;
}
`;

/** The first `ts` block after each "## Quick start: <title>" heading, by title. */
function quickStarts(readme: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const section of readme.split(/^## /m).slice(1)) {
    const title = /^Quick start: (.+)$/m.exec(section)?.[1];
    const code = /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1];
    if (title !== undefined && code !== undefined) blocks.set(title, code);
  }
  return blocks;
}

const children: ChildProcess[] = [];
const outputs = new Map<ChildProcess, { stdout: string; stderr: string }>();

function run(file: string, env: Record<string, string>, shim: boolean): ChildProcess {
  const args = shim ? ["--import", pageShim, file] : [file];
  const child = spawn(process.execPath, args, { cwd: project, env: { ...process.env, ...env } });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  children.push(child);
  outputs.set(child, output);
  return child;
}

const output = (child: ChildProcess) => outputs.get(child) ?? { stdout: "", stderr: "" };
const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

before(() => {
  const blocks = quickStarts(readFileSync(join(root, "README.md"), "utf8"));
  const guest = blocks.get("a visitor in a browser page");
  const agent = blocks.get("an agent in Node.js");
  assert.ok(guest && agent, `the README's quick starts are missing; found: ${[...blocks.keys()].join(", ")}`);

  rmSync(project, { recursive: true, force: true });
  const sdk = join(project, "node_modules", "@byrd", "sdk");
  mkdirSync(sdk, { recursive: true });
  writeFileSync(join(project, "package.json"), JSON.stringify({ private: true, type: "module" }));
  // What `npm install ./byrd-sdk-<version>.tgz` does for a package without dependencies.
  const [pack] = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", project], { cwd: root, encoding: "utf8" }),
  ) as { filename: string }[];
  execFileSync("tar", ["xzf", join(project, pack?.filename ?? ""), "-C", sdk, "--strip-components=1"]);

  // A browser page (the DOM's types, no Node's), and a Node program (Node's, no DOM's).
  const programs = [
    { name: "guest", code: guest, options: { lib: ["ES2022", "DOM"], types: [] }, extra: { "page.d.ts": PAGE_DECLARATIONS } },
    { name: "agent", code: agent, options: { lib: ["ES2022"], types: ["node"] }, extra: {} },
  ];
  for (const { name, code, options, extra } of programs) {
    const dir = join(project, name);
    mkdirSync(dir);
    writeFileSync(join(dir, `${name}.ts`), code);
    for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
    const compilerOptions = { ...STRICTEST, ...options, outDir: "build" };
    const files = [`${name}.ts`, ...Object.keys(extra)];
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files }));
    try {
      execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
    } catch (error) {
      assert.fail(`the ${name} quick start does not compile:\n${(error as { stdout?: string }).stdout ?? String(error)}`);
    }
  }
});

after(() => {
  for (const child of children) if (!exited(child)) child.kill();
});

test("the guest quick start fails before it starts a chat where there is no WebSocket", async () => {
  const child = run("guest/build/guest.js", { BYRD_PAGE_WEBSOCKET: "none" }, true);
  await until(() => exited(child), "the guest quick start to exit", 10_000);
  assert.notEqual(child.exitCode, 0);
  assert.match(output(child).stderr, /no WebSocket implementation/);
  assert.doesNotMatch(output(child).stdout, /POST \/v1\/chats/);
});

test("the guest quick start, in a page, starts a chat, sends and sees its message", async () => {
  const child = run("guest/build/guest.js", {}, true);
  await until(() => /stored as #1\n/.test(output(child).stdout) || exited(child), "the guest's message stored", 15_000);
  const { stdout, stderr } = output(child);
  assert.ok(!exited(child), `the guest quick start ended: ${stderr}`);
  assert.match(stdout, /page: \{"render":\{[^\n]*"body":"Hello!"/);
  assert.match(stdout, /page: \{"connection":"connected"\}/);
  child.kill();
});

test("the agent quick start answers the newest open chat, and lives through a refused send", async (t) => {
  const admin = await adminSession();
  const password = "quick start password";
  try {
    await createAgent(admin.client(), { email: "ada@example.com", name: "Ada", role: "agent", password });
  } catch (error) {
    if (!(error instanceof ByrdApiError && error.code === "email_taken")) throw error;
  }
  const guest = await guestSession();
  const rt = new RealtimeClient({ client: guest.client(), WebSocket: NodeWebSocket });
  t.after(() => rt.close());
  const seen: Message[] = [];
  rt.on("message", ({ message }) => seen.push(message));
  rt.connect();
  // Echoed with "You said: " in front, this is past the server's 4,000 characters.
  await rt.send(guest.chatId, "x".repeat(3_995));
  await rt.send(guest.chatId, "ping");

  const child = run("agent/build/agent.js", { BYRD_URL: server.url, BYRD_PASSWORD: password }, false);
  const answered = () => seen.some((m) => m.body === "You said: ping") && /not sent:/.test(output(child).stderr);
  await until(() => answered() || exited(child), "the agent's answer and its report of the refused one", 15_000);
  const { stderr } = output(child);
  assert.ok(!exited(child), `the agent quick start ended: ${stderr}`);
  assert.equal(seen.find((m) => m.body === "You said: ping")?.author.type, "agent");
  assert.ok(!seen.some((m) => m.body.startsWith("You said: xxx")), "the too long echo was stored");
  child.kill();
});
