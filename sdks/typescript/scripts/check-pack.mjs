// Checks what `npm pack` would publish: the ESM entry with its types, the
// README, no tests and no sources maps, and no runtime dependencies; and
// that the README's install steps make the file `npm pack` writes.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" }));
const files = new Set(pack.files.map((f) => f.path));
const problems = [];
for (const needed of ["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/realtime/client.js", "dist/realtime/client.d.ts"]) {
  if (!files.has(needed)) problems.push(`missing ${needed}`);
}
for (const file of files) {
  if (!/^(package\.json|README\.md|LICENSE|dist\/.*\.(js|d\.ts))$/.test(file)) problems.push(`should not ship ${file}`);
}
const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
if (manifest.dependencies && Object.keys(manifest.dependencies).length) problems.push("runtime dependencies in package.json");
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
if (!readme.includes("npm ci && npm run build && npm pack")) problems.push("the README does not say how to build and pack");
const named = readme.match(/byrd-sdk-<version>\.tgz/g) ?? [];
if (named.length < 2 || `byrd-sdk-${manifest.version}.tgz` !== pack.filename) {
  problems.push(`the README's install steps do not name the packed file (${pack.filename}) as byrd-sdk-<version>.tgz`);
}
if (problems.length) {
  console.error(`npm pack: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`npm pack: ${pack.filename}, ${pack.files.length} files, ${(pack.size / 1024).toFixed(1)} KiB packed`);
