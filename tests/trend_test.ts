/** lib/analysis/trend.ts: the per-doubling slope of a metric against the step. */
import assert from "node:assert/strict";
import { logTrend, trendAt } from "../lib/analysis/trend.ts";

Deno.test("logTrend: recovers an exact log-linear curve", () => {
  const x = [500, 1000, 2000, 4000, 8000];
  const y = x.map((s) => 20 + 0.25 * Math.log2(s));
  const t = logTrend(x, y);
  assert.ok(Math.abs(t.perDoubling - 0.25) < 1e-12, `slope ${t.perDoubling}`);
  assert.ok(Math.abs(t.intercept - 20) < 1e-9, `intercept ${t.intercept}`);
  assert.ok(Math.abs(t.r2 - 1) < 1e-12);
  assert.equal(t.n, 5);
  assert.ok(Math.abs(trendAt(t, 16000) - (20 + 0.25 * Math.log2(16000))) < 1e-9);
});

Deno.test("logTrend: minX drops the early points; a noisy curve has r2 below 1", () => {
  // A fast early phase, then 0.1 dB per doubling with alternating noise.
  const x = [100, 200, 1000, 2000, 4000, 8000, 16000];
  const y = [
    10,
    15,
    ...[1000, 2000, 4000, 8000, 16000].map((s, i) =>
      22 + 0.1 * Math.log2(s / 1000) + (i % 2 ? 0.02 : -0.02)
    ),
  ];
  const all = logTrend(x, y);
  const late = logTrend(x, y, 1000);
  assert.equal(late.n, 5);
  assert.ok(Math.abs(late.perDoubling - 0.1) < 0.02, `late slope ${late.perDoubling}`);
  assert.ok(all.perDoubling > 1, `the early jump dominates the full fit: ${all.perDoubling}`);
  assert.ok(late.r2 < 1 && late.r2 > 0.9, `r2 ${late.r2}`);
});

Deno.test("logTrend: refuses too few points and mismatched lengths", () => {
  assert.throws(() => logTrend([1000], [22]), /1 usable point/);
  assert.throws(() => logTrend([1000, 2000], [22]), /2 x values but 1 y values/);
  assert.throws(() => logTrend([0, -5, 1000], [1, 2, 3]), /1 usable point/);
  assert.throws(() => logTrend([1000, 1000], [1, 2]), /same x/);
});
