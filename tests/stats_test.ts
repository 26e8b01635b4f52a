/** lib/eval/stats.ts and lib/analysis/paired.ts: quantiles and paired model comparisons (median: metrics_test). */
import assert from "node:assert/strict";
import { quantileSorted } from "../lib/eval/stats.ts";
import { pairedByName, pairedDifference, resolvedSign } from "../lib/analysis/paired.ts";
import { Rng } from "../lib/data/prng.ts";

Deno.test("quantileSorted follows numpy's linear convention", () => {
  const s = [1, 2, 3, 4, 10];
  assert.equal(quantileSorted(s, 0), 1);
  assert.equal(quantileSorted(s, 1), 10);
  assert.equal(quantileSorted(s, 0.5), 3);
  // numpy.quantile([1,2,3,4,10], 0.9) = 7.6
  assert.ok(Math.abs(quantileSorted(s, 0.9) - 7.6) < 1e-12);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

Deno.test("pairedDifference: a constant shift gives a zero-width interval at the shift", () => {
  const b = [20, 25, 31.5, 40, 22];
  const a = b.map((v) => v + 0.3);
  const d = pairedDifference(a, b, { resamples: 500 });
  assert.ok(Math.abs(d.mean - 0.3) < 1e-12);
  assert.ok(Math.abs(d.lo - 0.3) < 1e-12 && Math.abs(d.hi - 0.3) < 1e-12, `${d.lo} ${d.hi}`);
  assert.deepEqual([d.wins, d.losses, d.ties, d.n], [5, 0, 0, 5]);
});

Deno.test("pairedDifference: the interval covers a noisy shift, excludes 0 when the shift is clear", () => {
  const rng = new Rng(7);
  const b = Array.from({ length: 200 }, () => rng.range(18, 40));
  const shifted = b.map((v) => v + 0.5 + rng.normal(0, 0.5));
  const d = pairedDifference(shifted, b);
  assert.ok(d.lo < d.mean && d.mean < d.hi);
  assert.ok(d.lo > 0.3 && d.hi < 0.7, `[${d.lo}, ${d.hi}]`);
  // Same data, same seed: the same interval; another seed moves it a little.
  assert.deepEqual(pairedDifference(shifted, b), d);
  const other = pairedDifference(shifted, b, { seed: 1 });
  assert.notEqual(other.lo, d.lo);
  assert.ok(Math.abs(other.lo - d.lo) < 0.05);
  // Pure noise around 0: the interval straddles 0, and a 50% interval is narrower.
  const noise = b.map((v) => v + rng.normal(0, 0.5));
  const n95 = pairedDifference(noise, b);
  const n50 = pairedDifference(noise, b, { level: 0.5 });
  assert.ok(n95.lo < 0 && n95.hi > 0, `[${n95.lo}, ${n95.hi}]`);
  assert.ok(n50.hi - n50.lo < n95.hi - n95.lo);
  assert.equal(resolvedSign(d), 1);
  assert.equal(resolvedSign(n95), 0);
  assert.equal(resolvedSign(pairedDifference(b, shifted)), -1);
});

Deno.test("pairedDifference: ties, and bad input is an Error naming the problem", () => {
  const d = pairedDifference([1, 2, 3], [1, 1, 4], { resamples: 10 });
  assert.deepEqual([d.wins, d.losses, d.ties], [1, 1, 1]);
  assert.throws(() => pairedDifference([1, 2], [1]), /2 values against 1/);
  assert.throws(() => pairedDifference([], []), /no values/);
  assert.throws(() => pairedDifference([1], [NaN]), /value 0 is not finite/);
  assert.throws(() => pairedDifference([1], [1], { level: 1 }), /level 1/);
  assert.throws(() => pairedDifference([1], [1], { resamples: 0 }), /resamples 0/);
});

Deno.test("pairedByName: pairs by name in any order, over the shared images only", () => {
  const a = [{ name: "x", v: 3 }, { name: "y", v: 5 }, { name: "only-a", v: 100 }];
  const b = [{ name: "y", v: 4 }, { name: "x", v: 1 }];
  const d = pairedByName(a, b, (r) => r.v, { resamples: 100 })!;
  assert.equal(d.n, 2);
  assert.equal(d.mean, 1.5); // (3 - 1 + 5 - 4) / 2
  assert.equal(pairedByName(a, [{ name: "z", v: 0 }], (r) => r.v), null);
});
