// Runs the stock generators on the committed documents, as an integrator
// would, and writes what they emit to generated/ for tsc to check against
// usage.ts.
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { compileFromFile } from "json-schema-to-typescript";
import openapiTS, { astToString } from "openapi-typescript";

const spec = new URL("../v1/", import.meta.url);
const out = new URL("./generated/", import.meta.url);
await mkdir(out, { recursive: true });

const options = { bannerComment: "", cwd: fileURLToPath(spec), strictIndexSignatures: true };
for (const [file, target] of [
  ["ws.schema.json", "ws.ts"],
  ["claims.schema.json", "claims.ts"],
]) {
  const ts = await compileFromFile(fileURLToPath(new URL(file, spec)), options);
  await writeFile(new URL(target, out), ts);
}

// openapi-typescript follows openapi.json's $refs into ws.schema.json.
const ast = await openapiTS(new URL("openapi.json", spec));
await writeFile(new URL("openapi.ts", out), astToString(ast));
