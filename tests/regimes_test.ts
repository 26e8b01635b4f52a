/** Notebook 06's controlled regimes: the test crops with their factors, scored and summarised. */
import assert from "node:assert/strict";
import { CONTROLLED_MIX } from "#lib/data/controlled.ts";
import { createModel } from "#lib/models/registry.ts";
import { initBackend } from "#lib/backends/select.ts";
import {
  regimeGainFigure,
  regimeRow,
  regimeTestPairs,
  scoreRegime,
} from "#lib/notebooks/regimes.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("regimes: every test crop scored with the factors its blur was drawn with", async () => {
  await initBackend("cpu");
  const dir = await Deno.makeTempDir({ prefix: "svrnn-regimes-" });
  try {
    const spec = { ...CONTROLLED_MIX, name: "tiny", crop: 32, trainPerPhoto: 1, testPerPhoto: 2 };
    const o = { root: dir, fixturesDir: `${ROOT}data/fixtures`, preferFixtures: true };
    const pairs = await regimeTestPairs(spec, o);
    assert.equal(pairs.source, "fixtures");
    assert.ok(pairs.refs.length >= 2 && pairs.refs.length % 2 === 0, "two crops per test photo");
    assert.equal((await regimeTestPairs(spec, { ...o, limit: 1 })).refs.length, 1);
    const model = createModel("svrnn-small", { numBlocks: 1 });
    const scores = await scoreRegime(model, pairs.refs, pairs.factors);
    model.dispose();
    for (const s of scores) {
      const f = pairs.factors.get(s.name)!;
      assert.deepEqual([s.family, s.length, s.layout], [f.family, f.length, f.layout]);
      assert.ok(s.length >= 3 && s.length <= 33, "the mix's lengths");
      assert.ok(Number.isFinite(s.psnr) && Number.isFinite(s.inputPsnr));
    }
    const row = regimeRow("m", "tiny", scores);
    const gains = scores.map((s) => s.psnr - s.inputPsnr);
    const mean = gains.reduce((a, b) => a + b, 0) / gains.length;
    assert.ok(Math.abs((row["gain (dB)"] as number) - mean) < 1e-9);
    assert.equal(row.improved, `${gains.filter((g) => g > 0).length} of ${gains.length}`);
    const fig = regimeGainFigure(scores, "t");
    const traces = fig.data as { name: string; x: number[] }[];
    assert.deepEqual(
      traces.map((t) => t.name).sort(),
      [...new Set(scores.map((s) => s.family))].sort(),
    );
    assert.equal(traces.reduce((n, t) => n + t.x.length, 0), scores.length, "one marker per crop");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
