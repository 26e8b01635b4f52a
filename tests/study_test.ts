/**
 * Studies: the verdict rule and the claims array, sharding, and the runner (a run stopped
 * part-way resumes, a finished run is cached, shards joined equal one whole run).
 */
import assert from "node:assert/strict";
import { initBackend } from "#lib/backends/select.ts";
import {
  checkStudy,
  parseShard,
  shardRuns,
  type Study,
  studyClaims,
  studyRuns,
  verdictOf,
} from "#lib/study/study.ts";
import { collectRuns, joinStudy, runResultPath, runStudyRun, settingsTag } from "#lib/study/run.ts";
import { provenance } from "#lib/records/provenance.ts";
import { parseTrainingLog, type RunResult, trainedSeconds } from "#lib/records/formats.ts";

const tiny: Study = {
  name: "tiny",
  title: "tiny",
  question: "does the runner work",
  benchmark: {
    families: ["box"],
    angle: "horizontal",
    layouts: ["uniform"],
    crop: 32,
    trainPerPhoto: 1,
    testPerPhoto: 1,
  },
  cells: [{ name: "L5", benchmark: { length: 5 } }],
  variants: [
    { name: "a", model: "svrnn-small", overrides: { numBlocks: 1 } },
    { name: "b", model: "svrnn-small", overrides: { numBlocks: 1, gate: "fixed" } },
  ],
  budget: { steps: 3, batchSize: 1, patchSize: 16, learningRate: 1e-3, lrPower: 0 },
  seeds: [0, 1],
  claims: [{ claim: "a beats b", prediction: "whatever", cell: "L5", a: "a", b: "b" }],
};

Deno.test("study: verdicts are resolved only when every seed's interval excludes 0 on one side", () => {
  assert.equal(verdictOf([{ lo: 0.1, hi: 0.5 }, { lo: 0.01, hi: 0.2 }]), "resolved: A better");
  assert.equal(verdictOf([{ lo: -0.5, hi: -0.1 }, { lo: -0.3, hi: -0.01 }]), "resolved: B better");
  assert.equal(verdictOf([{ lo: 0.1, hi: 0.5 }, { lo: -0.01, hi: 0.2 }]), "not resolved");
  assert.equal(verdictOf([{ lo: 0.1, hi: 0.5 }, { lo: -0.5, hi: -0.1 }]), "not resolved");
});

function fakeRun(variant: string, seed: number, psnrs: number[]): RunResult {
  return {
    key: `L5--${variant}--s${seed}`,
    cell: "L5",
    variant,
    model: "svrnn-small",
    overrides: {},
    seed,
    params: 1,
    benchmark: {} as RunResult["benchmark"],
    budget: tiny.budget,
    trainSec: 1,
    machine: "m",
    backend: "cpu",
    finalLoss: 0,
    perImage: psnrs.map((p, i) => ({ name: `i${i}`, psnr: p, inputPsnr: 20, ssim: 0.5 })),
    meanPsnr: psnrs.reduce((s, x) => s + x, 0) / psnrs.length,
    meanInputPsnr: 20,
  };
}

Deno.test("study: claims compare A minus B image by image, per seed and pooled", () => {
  const base = Array.from({ length: 20 }, (_, i) => 20 + (i % 7));
  const runs = [
    fakeRun("a", 0, base.map((x, i) => x + 1 + 0.1 * (i % 3))),
    fakeRun("a", 1, base.map((x, i) => x + 0.8 + 0.1 * (i % 2))),
    fakeRun("b", 0, base),
    fakeRun("b", 1, base),
  ];
  const [c] = studyClaims(tiny, runs);
  assert.equal(c.comparison, "a minus b");
  assert.equal(c.verdict, "resolved: A better");
  assert.equal(c.perSeed.length, 2);
  assert.ok(Math.abs(c.perSeed[0].meanDb - 1.1) < 0.01, `seed 0 mean ${c.perSeed[0].meanDb}`);
  assert.ok(Math.abs(c.meanDb - (c.perSeed[0].meanDb + c.perSeed[1].meanDb) / 2) < 0.002);
  assert.ok(c.ci95[0] <= c.meanDb && c.meanDb <= c.ci95[1]);
  // one seed level: not resolved
  const mixed = [
    runs[0],
    fakeRun("a", 1, base.map((x, i) => x + (i % 2 ? 0.5 : -0.5))),
    runs[2],
    runs[3],
  ];
  assert.equal(studyClaims(tiny, mixed)[0].verdict, "not resolved");
});

Deno.test("study: shards split the runs without overlap; bad files and shards are named", () => {
  const runs = studyRuns(tiny);
  assert.equal(runs.length, 4);
  const shards = [1, 2, 3].map((i) => shardRuns(runs, { index: i, count: 3 }).map((r) => r.key));
  assert.deepEqual(shards.flat().sort(), runs.map((r) => r.key).sort());
  assert.throws(() => parseShard("3/2"), /--shard/);
  assert.throws(() => checkStudy({ ...tiny, seeds: [0] }, "x.json"), /x\.json.*2 seeds/);
  assert.throws(
    () => checkStudy({ ...tiny, claims: [{ ...tiny.claims[0], a: "zzz" }] }, "x.json"),
    /unknown variant zzz/,
  );
});

Deno.test("trainedSeconds: each session of a resumed log adds its last elapsed time", () => {
  const t = (step: number, elapsedSec: number) => ({ step, kind: "train" as const, elapsedSec });
  assert.equal(trainedSeconds([t(10, 5), t(20, 11), t(30, 4), t(40, 9)]), 20);
  assert.equal(trainedSeconds([t(10, 5), { step: 10, kind: "val" as const }, t(20, 7)]), 7);
  assert.equal(trainedSeconds([]), 0);
});

Deno.test("study runner: resume after a stop, cache, and shards joined equal one run", async () => {
  await initBackend("cpu");
  const tmp = await Deno.makeTempDir();
  const prov = await provenance("test");
  const common = {
    dataRoot: `${tmp}/data`,
    preferFixtures: true,
    provenance: prov,
    backend: "cpu",
  };
  try {
    const runs = studyRuns(tiny);
    // stopped after 2 of 3 steps: no result yet, then resumed to the end
    const A = { ...common, resultsRoot: `${tmp}/A`, runsRoot: `${tmp}/A-runs` };
    assert.equal(await runStudyRun(tiny, runs[0], { ...A, stopAt: 2 }), null);
    const folder = `${tmp}/A-runs/tiny/${runs[0].key}--${settingsTag(runs[0], tiny)}`;
    const log = await Deno.readTextFile(`${folder}/log.jsonl`);
    assert.ok(log.includes('"step":2'));
    const longer = { ...tiny, budget: { ...tiny.budget, steps: 4 } };
    assert.notEqual(
      settingsTag(runs[0], longer),
      settingsTag(runs[0], tiny),
      "a new budget, a new folder",
    );
    const first = await runStudyRun(tiny, runs[0], A);
    assert.ok(first);
    // resumed: its time is both sessions' from the log, not this session's alone
    const records = parseTrainingLog(await Deno.readTextFile(`${folder}/log.jsonl`), "log");
    assert.equal(first.trainSec, trainedSeconds(records));
    assert.ok(first.trainSec > 0 && Number.isFinite(first.trainSec));
    // a finished folder without its result (a lost results file) keeps that time too
    await Deno.rename(runResultPath("tiny", runs[0].key, A.resultsRoot), `${tmp}/kept.json`);
    assert.equal((await runStudyRun(tiny, runs[0], A))!.trainSec, first.trainSec);
    await Deno.rename(`${tmp}/kept.json`, runResultPath("tiny", runs[0].key, A.resultsRoot));
    // cached: the same result, file untouched
    const path = runResultPath("tiny", runs[0].key, A.resultsRoot);
    const before = (await Deno.stat(path)).mtime?.getTime();
    assert.deepEqual(await runStudyRun(tiny, runs[0], A), first);
    assert.equal((await Deno.stat(path)).mtime?.getTime(), before);
    for (const r of shardRuns(runs, { index: 2, count: 2 })) await runStudyRun(tiny, r, A);
    assert.equal((await collectRuns(tiny, A.resultsRoot)).missing.length, 1);
    await assert.rejects(
      () => joinStudy(tiny, "tiny.json", prov, A.resultsRoot),
      /1 of 4 runs not finished/,
    );
    for (const r of shardRuns(runs, { index: 1, count: 2 })) await runStudyRun(tiny, r, A);
    const joinedA = await joinStudy(tiny, "tiny.json", prov, A.resultsRoot);
    // the same study in one uninterrupted pass
    const B = { ...common, resultsRoot: `${tmp}/B`, runsRoot: `${tmp}/B-runs` };
    for (const r of runs) await runStudyRun(tiny, r, B);
    const joinedB = await joinStudy(tiny, "tiny.json", prov, B.resultsRoot);
    assert.deepEqual(joinedA.claims, joinedB.claims);
    const md = await Deno.readTextFile(`${tmp}/B/tiny.md`);
    assert.match(
      md,
      new RegExp(
        `\\| a beats b \\| L5 \\| a minus b .*${
          (joinedB.claims as { verdict: string }[])[0].verdict
        }`,
      ),
    );
    // the resumed run re-reads its Adam state from the checkpoint: equal to float32 rounding
    type Joined = { key: string; perImage: { name: string; psnr: number }[] }[];
    const ra = joinedA.runs as Joined, rb = joinedB.runs as Joined;
    assert.deepEqual(ra.map((r) => r.key), rb.map((r) => r.key));
    for (const [i, r] of ra.entries()) {
      for (const [j, p] of r.perImage.entries()) {
        assert.ok(Math.abs(p.psnr - rb[i].perImage[j].psnr) < 1e-3, `${r.key} ${p.name}`);
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
