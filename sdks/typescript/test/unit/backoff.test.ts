import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_BACKOFF, fullJitter } from "../../src/realtime/backoff.js";

test("the ceiling doubles from the base up to the cap, and the floor holds", () => {
  const almostOne = () => 0.999_999;
  const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((retry) => fullJitter(retry, DEFAULT_BACKOFF, almostOne));
  assert.deepEqual(ceilings, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999]);
  assert.equal(fullJitter(1, DEFAULT_BACKOFF, () => 0), DEFAULT_BACKOFF.floor);
  assert.equal(fullJitter(10_000, DEFAULT_BACKOFF, almostOne), 29999);
});

test("draws spread over the whole range between floor and ceiling", () => {
  const draws = Array.from({ length: 2000 }, () => fullJitter(5, DEFAULT_BACKOFF));
  assert.ok(draws.every((d) => d >= DEFAULT_BACKOFF.floor && d <= 8000));
  // Full jitter, not "ceiling minus a little": both halves of the range are used.
  assert.ok(draws.some((d) => d < 2000));
  assert.ok(draws.some((d) => d > 6000));
});
