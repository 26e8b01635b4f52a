// The synthetic benchmark: split, determinism, and the committed manifest of the quick version.
import assert from "node:assert/strict";
import {
  planBenchmark,
  sampleOptions,
  splitPhotos,
  SYNTH_V1,
  SYNTH_V1_QUICK,
  SYNTH_V2,
  SYNTH_V2_QUICK,
} from "#lib/data/benchmark.ts";
import {
  compareManifests,
  generateBenchmark,
  readManifest,
  verifyBenchmarkDir,
} from "#lib/data/benchmark_io.ts";
import { listGoProPairs } from "#lib/data/gopro.ts";
import { summarizeTargetGap, TARGET_GAP_COLUMNS, targetGap } from "#lib/analysis/targets.ts";

const FIX = new URL("../data/fixtures", import.meta.url).pathname;

Deno.test("split by photo: disjoint, deterministic, stable when photos are added", async () => {
  const ids = Array.from({ length: 43 }, (_, i) => `photo-${i}`);
  const s1 = await splitPhotos(SYNTH_V1, ids);
  const s2 = await splitPhotos(SYNTH_V1, [...ids].reverse());
  assert.deepEqual(s1, s2);
  assert.equal(s1.test.length, 11);
  assert.equal(s1.train.length + s1.test.length, 43);
  assert.equal(s1.train.filter((id) => s1.test.includes(id)).length, 0);
  // one more photo moves no existing photo across the split... unless the test count grows,
  // in which case the only change is that one photo joins test
  const s3 = await splitPhotos(SYNTH_V1, [...ids, "photo-new"]);
  const moved = s1.train.filter((id) => s3.test.includes(id));
  assert.ok(moved.length <= 1, `moved ${moved}`);
  assert.ok(s1.test.every((id) => s3.test.includes(id)));
  const plan = await planBenchmark(SYNTH_V1, ids);
  assert.equal(plan.length, 43 * SYNTH_V1.samplesPerPhoto);
  assert.equal(new Set(plan.map((p) => p.seed)).size, plan.length);
});

Deno.test("synth-v2 has synth-v1's split and samples, with the centroid target", async () => {
  const ids = Array.from({ length: 43 }, (_, i) => `photo-${i}`);
  assert.deepEqual(await planBenchmark(SYNTH_V2, ids), await planBenchmark(SYNTH_V1, ids));
  const [p] = await planBenchmark(SYNTH_V2, ids);
  assert.equal(sampleOptions(SYNTH_V2, p, 640, 480, 0.5, 0.5).target, "centroid");
  assert.equal(sampleOptions(SYNTH_V1, p, 640, 480, 0.5, 0.5).target, "middle");
  // the committed manifest: synth-v1's blurry files, other sharp ones
  const v1 = await readManifest(`${FIX}/benchmarks/${SYNTH_V1.name}.json`);
  const v2 = await readManifest(`${FIX}/benchmarks/${SYNTH_V2.name}.json`);
  assert.deepEqual(v2.spec, SYNTH_V2);
  const keys = Object.keys(v1.files);
  assert.deepEqual(Object.keys(v2.files), keys);
  for (const k of keys) {
    if (k.includes("/sharp/")) assert.notEqual(v2.files[k], v1.files[k], k);
    else assert.equal(v2.files[k], v1.files[k], k);
  }
});

for (const QUICK of [SYNTH_V1_QUICK, SYNTH_V2_QUICK]) {
  Deno.test(`${QUICK.name} regenerates exactly the committed manifest`, async () => {
    const out = await Deno.makeTempDir({ prefix: "bench_test_" });
    try {
      const m = await generateBenchmark(QUICK, {
        out,
        fixturesDir: FIX,
        photosDir: `${out}/none`,
      });
      const committed = await readManifest(`${FIX}/benchmarks/${QUICK.name}.json`);
      const cmp = compareManifests(committed, m);
      assert.ok(
        cmp.same,
        `differs from the committed manifest: ${JSON.stringify(cmp).slice(0, 300)}`,
      );
      assert.equal(m.digest, committed.digest);
      assert.equal(
        await Deno.readTextFile(`${out}/${QUICK.name}/manifest.json`),
        await Deno.readTextFile(`${FIX}/benchmarks/${QUICK.name}.json`),
      );
      // photos are never shared between the splits
      const train = new Set(m.sources.filter((s) => s.split === "train").map((s) => s.id));
      assert.ok(m.sources.filter((s) => s.split === "test").every((s) => !train.has(s.id)));
      assert.equal(m.counts.files, 3 * (m.counts.train + m.counts.test));
      // the GoPro reader reads it
      const test = await listGoProPairs(`${out}/${QUICK.name}`, {
        split: "test",
        blur: "blur_gamma",
      });
      assert.equal(test.length, m.counts.test);
      assert.deepEqual(await verifyBenchmarkDir(`${out}/${QUICK.name}`, m), []);
      await Deno.writeFile(
        `${out}/${QUICK.name}/${test[0].blur.split(`${QUICK.name}/`)[1]}`,
        new Uint8Array([1]),
      );
      assert.equal((await verifyBenchmarkDir(`${out}/${QUICK.name}`, m)).length, 1);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("the full synth-v1 manifest is committed and consistent with its spec", async () => {
  const m = await readManifest(`${FIX}/benchmarks/${SYNTH_V1.name}.json`);
  assert.deepEqual(m.spec, SYNTH_V1);
  assert.equal(m.sources.length, 43);
  assert.equal(m.counts.test, 11 * SYNTH_V1.samplesPerPhoto);
  assert.equal(m.counts.train, 32 * SYNTH_V1.samplesPerPhoto);
  assert.equal(Object.keys(m.files).length, m.counts.files);
  const split = await splitPhotos(SYNTH_V1, m.sources.map((s) => s.id));
  assert.deepEqual(m.sources.filter((s) => s.split === "test").map((s) => s.id).sort(), split.test);
});

Deno.test("the full benchmark refuses to run without the photo set", async () => {
  const out = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => generateBenchmark(SYNTH_V1, { out, photosDir: `${out}/none`, fixturesDir: FIX }),
      /real-photo set, which is not here .*run `deno task data && deno task data benchmark --name synth-v1`/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("targetGap: one row per sample of the split, summaries over them", async () => {
  const rows = await targetGap(SYNTH_V1_QUICK, {
    photosDir: `${FIX}/none`,
    fixturesDir: FIX,
    splits: ["test"],
    limit: 2,
  });
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.equal(r.split, "test");
    // the blurry input and both targets are different images of one scene
    for (const c of TARGET_GAP_COLUMNS) assert.ok(r[c] > 10 && r[c] < 60, `${c} ${r[c]}`);
  }
  const s = summarizeTargetGap([
    { ...rows[0], blurryVsMiddle: 20 },
    { ...rows[0], blurryVsMiddle: 30 },
    { ...rows[0], blurryVsMiddle: Infinity },
  ]);
  assert.deepEqual(s.blurryVsMiddle, { mean: 50, median: 30 });
});
