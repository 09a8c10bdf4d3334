// Checks what `npm pack` would publish: the ESM entry with its types, the
// README, no tests and no sources maps, and no runtime dependencies.
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
if (problems.length) {
  console.error(`npm pack: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`npm pack: ${pack.filename}, ${pack.files.length} files, ${(pack.size / 1024).toFixed(1)} KiB packed`);
