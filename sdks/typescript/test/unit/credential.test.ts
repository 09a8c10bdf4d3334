import assert from "node:assert/strict";
import { test } from "node:test";

import { ByrdError } from "../../src/errors.js";
import { expiryOf, readClaims, tokenProvider } from "../../src/auth/credential.js";
import { fakeJwt } from "../support/tokens.js";

const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

test("claims and expiry are read from a JWT, and garbage reads as nothing", () => {
  const token = fakeJwt({ type: "guest", exp: 2_000_000_000, chat: { id: "c-1" } });
  assert.deepEqual(readClaims(token)?.chat, { id: "c-1" });
  assert.equal(expiryOf(token), 2_000_000_000_000);
  assert.equal(readClaims("not a token"), null);
  assert.equal(readClaims("a.!!!.b"), null);
});

test("a provider's token is reused while it has time left, and refreshed near expiry", async () => {
  let calls = 0;
  const lifetimes = [3600, 30, 3600];
  const credential = tokenProvider("agent", () => fakeJwt({ n: ++calls, exp: inSeconds(lifetimes[calls - 1] ?? 3600) }));
  const first = await credential.token();
  assert.equal(await credential.token(), first);
  assert.equal(calls, 1);
  const second = await credential.refresh(first);
  assert.equal(calls, 2);
  // Only 30 s left: under the margin, so the next use refreshes first.
  const third = await credential.token();
  assert.equal(calls, 3);
  assert.notEqual(third, second);
});

test("concurrent refreshes of the same stale token share one flight", async () => {
  let calls = 0;
  const credential = tokenProvider("agent", async () => {
    calls++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return fakeJwt({ n: calls, exp: inSeconds(3600) });
  });
  const stale = await credential.token();
  const fresh = await Promise.all(Array.from({ length: 10 }, () => credential.refresh(stale)));
  assert.equal(calls, 2);
  assert.ok(fresh.every((token) => token === fresh[0]));
  // A late caller with the old stale token gets the fresh one, no new flight.
  assert.equal(await credential.refresh(stale), fresh[0]);
  assert.equal(calls, 2);
});

test("an empty token from the provider is a final auth error", async () => {
  const credential = tokenProvider("guest", () => "");
  await assert.rejects(credential.token(), (error: unknown) => error instanceof ByrdError && error.kind === "auth");
});
