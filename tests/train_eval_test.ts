/**
 * One train-then-evaluate procedure (lib/study/train_eval.ts): ablate, the study runner
 * and the notebooks' experiments call it instead of the trainer and evaluate() themselves,
 * and its result cache keeps a fresh result, replaces a stale one and writes nothing for
 * an unfinished run. (The procedure's training itself is exercised by tests/study_test.ts
 * and the experiments test in tests/notebook_helpers_test.ts.)
 */
import assert from "node:assert/strict";
import { cachedResult, readCached } from "#lib/study/train_eval.ts";

const ROOT = new URL("..", import.meta.url);

Deno.test("train_eval: ablate, the study runner and experiments train and evaluate through it", async () => {
  for (const f of ["lib/cli/ablate.ts", "lib/study/run.ts", "lib/notebooks/experiments.ts"]) {
    const src = await Deno.readTextFile(new URL(f, ROOT));
    assert.match(src, /\btrainThenEvaluate\(/, `${f} calls trainThenEvaluate`);
    for (const own of [/\btrain\(\{/, /\bevaluate\(/, /\bmakeTrainData\(/]) {
      assert.doesNotMatch(src, own, `${f} trains or evaluates on its own (${own})`);
    }
  }
});

Deno.test("train_eval: cachedResult keeps a fresh result, redoes a stale one, writes no unfinished one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-cache-" });
  try {
    const path = `${dir}/sub/r.json`;
    let made = 0;
    const make = (v: number) => () => Promise.resolve((made++, { v }));
    const fresh = (v: number) => (r: { v: number }) => r.v === v;
    assert.equal(await cachedResult(path, fresh(1), () => Promise.resolve(null)), null);
    assert.equal(await readCached(path, fresh(1)), null, "nothing written");
    assert.deepEqual(await cachedResult(path, fresh(1), make(1)), {
      result: { v: 1 },
      cached: false,
    });
    assert.equal(await Deno.readTextFile(path), '{\n  "v": 1\n}\n');
    assert.deepEqual(await cachedResult(path, fresh(1), make(1)), {
      result: { v: 1 },
      cached: true,
    });
    assert.equal(made, 1);
    // Other settings: made again and replaced.
    assert.deepEqual((await cachedResult(path, fresh(2), make(2)))?.cached, false);
    assert.deepEqual(await readCached(path, fresh(2)), { v: 2 });
    assert.equal(made, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
