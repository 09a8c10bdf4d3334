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
  // Each token was issued an hour before it expires: 30 s left is near the end.
  const credential = tokenProvider("agent", () => {
    const exp = inSeconds(lifetimes[calls++] ?? 3600);
    return fakeJwt({ n: calls, iat: exp - 3600, exp });
  });
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

test("a short-lived token is used for half its life before it counts as near expiry", async () => {
  // A 40-second token with 40 s left is fresh (the margin shrinks to half
  // its life); one issued an hour before with 40 s left is not.
  let calls = 0;
  const lives = [40, 3600];
  const credential = tokenProvider("agent", () => {
    const life = lives[calls++] ?? 3600;
    return fakeJwt({ n: calls, iat: inSeconds(40 - life), exp: inSeconds(40) });
  });
  const short = await credential.token();
  assert.equal(await credential.token(), short);
  assert.equal(calls, 1);
  await credential.refresh(short);
  assert.equal(calls, 2);
  await credential.token();
  assert.equal(calls, 3, "40 s left of an hour is within the margin");
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
