// Builds the browser bundle (dist-browser/byrd.min.js, every export, for a
// <script type="module">) and measures what a browser downloads: the whole
// package, and what a bundler keeps for typical imports (tree-shaking).
// Sizes are minified and gzipped, as served; they are printed, not asserted.
import { mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const options = { bundle: true, minify: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "error" };
const entry = new URL("../dist/index.js", import.meta.url).pathname;

async function measure(name, contents) {
  const result = await build({ ...options, stdin: { contents, resolveDir: process.cwd(), loader: "js" } });
  const code = result.outputFiles[0].contents;
  return { name, minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, code };
}

const cases = [
  await measure("whole package", `export * from ${JSON.stringify(entry)};`),
  await measure(
    "guest widget: REST + realtime (Client, GuestSession, RealtimeClient)",
    `export { Client, GuestSession, RealtimeClient } from ${JSON.stringify(entry)};`,
  ),
  await measure(
    "agent console: REST + realtime (+ AgentSession, listChatsAll, assignChat, closeChat)",
    `export { Client, AgentSession, RealtimeClient, listChatsAll, assignChat, closeChat } from ${JSON.stringify(entry)};`,
  ),
  await measure("REST only (Client, startChat, sendMessage, listMessages)", `export { Client, startChat, sendMessage, listMessages } from ${JSON.stringify(entry)};`),
];

mkdirSync(new URL("../dist-browser/", import.meta.url), { recursive: true });
writeFileSync(new URL("../dist-browser/byrd.min.js", import.meta.url), cases[0].code);
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const c of cases) console.log(`bundle size: ${c.name}: ${kb(c.minified)} minified, ${kb(c.gzipped)} gzipped`);
writeFileSync(
  new URL("../dist-browser/sizes.json", import.meta.url),
  JSON.stringify(cases.map(({ name, minified, gzipped }) => ({ name, minified, gzipped })), null, 2) + "\n",
);
