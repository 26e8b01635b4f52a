/**
 * The helpers notebooks 02-06 import: lib/notebooks/resources.ts (shipped checkpoints with a
 * clear fallback, training logs, paths), lib/notebooks/experiments.ts (side-by-side
 * comparisons, crops, moving average, a tiny train-and-evaluate run),
 * lib/notebooks/ablation_views.ts and lib/eval/speed.ts.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backends/select.ts";
import { createModel } from "../lib/models/registry.ts";
import { saveCheckpoint } from "../lib/models/checkpoint.ts";
import type { DeblurModel } from "../lib/models/model.ts";
import type { RgbImage } from "../lib/data/image.ts";
import {
  loadShipped,
  readAblations,
  readTrainingLog,
  resolvePath,
  shippedOrFallback,
  trainingInfo,
  trainingWallSec,
} from "../lib/notebooks/resources.ts";
import {
  busiestWindow,
  cropCompared,
  deblurAll,
  enlarge,
  experimentAsVariant,
  experimentLabel,
  movingAverage,
  trainAndEvaluate,
  trainingProgress,
} from "../lib/notebooks/experiments.ts";
import {
  ABLATION_FACTORS,
  ablationRows,
  acrossSeedsRows,
  factorFigure,
  gainByInputRows,
  joinStudies,
  leversFigure,
  lossFigure,
  overviewFigure,
  perImageByImageFigure,
  perImageByVariantFigure,
  recipeSweep,
  shortName,
  sweepLabel,
  vsReference,
  vsReferenceFigure,
  vsReferenceRows,
} from "../lib/notebooks/ablation_views.ts";
import { timeInference } from "../lib/eval/speed.ts";
import { repoRoot } from "../lib/notebooks/env.ts";

/** A stand-in model: output = input * 0.5 + 0.25 (no weights). */
const halfModel = {
  name: "half",
  multiple: 1,
  predict: (x: tf.Tensor4D) => tf.tidy(() => tf.add(tf.mul(x, 0.5), 0.25)) as tf.Tensor4D,
  paramCount: () => 0,
} as unknown as DeblurModel;

function ramp(w: number, h: number): RgbImage {
  const data = new Float32Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.fill((i % w) / w, 3 * i, 3 * i + 3);
  return { width: w, height: h, data };
}

Deno.test("resources: training metadata, wall time over resumed sessions, paths", () => {
  const info = trainingInfo({
    training: JSON.stringify({
      step: 120,
      bestValPsnr: 22.5,
      config: { steps: 200, batchSize: 8, patchSize: 64, learningRate: 1e-3 },
    }),
    data: "benchmark synth-v1",
    backend: "wasm",
    provenance: JSON.stringify({ commit: "abc" }),
  });
  assert.deepEqual(info, {
    step: 120,
    steps: 200,
    batchSize: 8,
    patchSize: 64,
    learningRate: 1e-3,
    bestValPsnr: 22.5,
    data: "benchmark synth-v1",
    backend: "wasm",
    commit: "abc",
    init: null,
  });
  assert.equal(trainingInfo({}).step, null);
  // A fine-tuned run names the run it started from, and the step its weights came from.
  const tuned = trainingInfo({
    init: JSON.stringify({
      path: "results/checkpoints/x.safetensors",
      training: { step: 95, config: { steps: 120 } },
    }),
  });
  assert.deepEqual(tuned.init, { steps: 120, step: 95, path: "results/checkpoints/x.safetensors" });
  assert.equal(
    trainingWallSec([
      { step: 10, kind: "train", elapsedSec: 5 },
      { step: 20, kind: "train", elapsedSec: 10 },
      { step: 20, kind: "val", valPsnr: 20 },
      { step: 30, kind: "train", elapsedSec: 4 }, // resumed: a new session
      { step: 40, kind: "train", elapsedSec: 8 },
    ]),
    18,
  );
  assert.equal(trainingWallSec([{ step: 1, kind: "val" }]), null);
  assert.equal(resolvePath("/abs/x.png"), "/abs/x.png");
  assert.equal(resolvePath("data/x.png"), `${repoRoot()}/data/x.png`);
  assert.equal(resolvePath("./data/x.png"), `${repoRoot()}/data/x.png`);
});

Deno.test("resources: shipped checkpoint, or a clear message and the fallback", async () => {
  await initBackend("cpu");
  const dir = await Deno.makeTempDir({ prefix: "svrnn-ckpt-" });
  const before = Deno.env.get("SVRNN_CHECKPOINTS");
  Deno.env.set("SVRNN_CHECKPOINTS", dir);
  try {
    const missing = await loadShipped("svrnn-small-1block");
    assert.equal(missing.ok, false);
    assert.match(
      (missing as { reason: string }).reason,
      /no shipped checkpoint at .*svrnn-small-1block\.safetensors.*deno task train/,
    );
    const none = await shippedOrFallback("svrnn-small-1block", { fallback: false });
    assert.equal(none.model, null);
    assert.equal(none.status, "missing");
    assert.match(none.message, /is missing/);
    const fresh = await shippedOrFallback("svrnn-small-1block", { fallback: true });
    assert.equal(fresh.status, "fresh");
    assert.match(fresh.message, /random initial weights/);
    fresh.model!.dispose();

    const m = createModel("svrnn-small-1block", { seed: 5 });
    await saveCheckpoint(m, `${dir}/svrnn-small-1block.safetensors`, {
      training: JSON.stringify({ step: 7, bestValPsnr: null, config: { batchSize: 2 } }),
    });
    const shipped = await shippedOrFallback("svrnn-small-1block");
    assert.equal(shipped.status, "shipped");
    assert.equal(shipped.training?.step, 7);
    assert.ok(shipped.bytes! > m.paramCount() * 4);
    assert.match(shipped.message, /shipped weights .* 7 training steps/);
    // Weights fine-tuned from another run (`train --init`) count that run's steps too.
    await saveCheckpoint(m, `${dir}/svrnn-mid.safetensors`, {
      training: JSON.stringify({ step: 7, bestValPsnr: null, config: { batchSize: 2 } }),
      init: JSON.stringify({ path: "runs/a/last.safetensors", training: { step: 5 } }),
    });
    const tuned = await shippedOrFallback("svrnn-mid");
    assert.match(tuned.message, /5 \+ 7 training steps/);
    tuned.model?.dispose();
    const a = await shipped.model!.weights[0].variable.data();
    const b = await m.weights[0].variable.data();
    assert.deepEqual(Array.from(a.slice(0, 10)), Array.from(b.slice(0, 10)));
    shipped.model!.dispose();
    m.dispose();
    await Deno.writeTextFile(`${dir}/nah-small.safetensors`, "not a checkpoint");
    const bad = await loadShipped("nah-small");
    assert.equal(bad.ok, false);
    assert.match((bad as { reason: string }).reason, /cannot load/);
  } finally {
    if (before === undefined) Deno.env.delete("SVRNN_CHECKPOINTS");
    else Deno.env.set("SVRNN_CHECKPOINTS", before);
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(await readAblations(`${repoRoot()}/no/such/ablations.json`), null);
});

Deno.test("experiments: side-by-side comparison, crops, windows, averages", async () => {
  await initBackend("cpu");
  const blurry = ramp(16, 12), sharp = ramp(16, 12);
  const all = await deblurAll([{ label: "half", model: halfModel }], blurry, sharp);
  assert.deepEqual(all.map((c) => c.label), ["blurry input", "half", "sharp (ground truth)"]);
  assert.equal(all[0].psnr, Infinity, "input equals sharp");
  assert.ok(all[1].psnr! < 30 && all[1].ms! >= 0);
  assert.equal(all[2].psnr, null);
  const noSharp = await deblurAll([{ label: "half", model: halfModel }], blurry);
  assert.equal(noSharp.length, 2);
  assert.equal(noSharp[1].psnr, null);
  const crops = cropCompared(all, 14, 10, 4, 4);
  assert.deepEqual([crops[0].image.width, crops[0].image.height], [2, 2], "clipped at the border");
  const big = enlarge(crops[0].image, 3);
  assert.deepEqual([big.width, big.height], [6, 6]);
  assert.equal(big.data[0], crops[0].image.data[0]);
  // The busiest window of an image flat but for a patch of noise is that patch.
  const img = { width: 32, height: 32, data: new Float32Array(32 * 32 * 3).fill(0.5) };
  for (let y = 20; y < 28; y++) {
    for (let x = 4; x < 12; x++) {
      img.data.fill((x + y) % 2, (y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
    }
  }
  assert.deepEqual(busiestWindow(img, 8), { x: 4, y: 20 });
  assert.deepEqual(movingAverage([2, 4, 6, 8], 2), [2, 3, 5, 7]);
  assert.equal(experimentLabel("svrnn-small"), "svrnn-small");
  assert.equal(experimentLabel("svrnn-small", { numBlocks: 2 }), "svrnn-small {numBlocks: 2}");
  const lines: string[] = [];
  const p = trainingProgress("t", { everyMs: 0, print: (l) => lines.push(l) });
  p.onLog({ step: 1, kind: "train", loss: 3, patchesPerSec: 2 }, 2);
  p.onLog({ step: 2, kind: "val", valPsnr: 20 }, 2);
  p.onLog({ step: 2, kind: "train", loss: 2 }, 2);
  assert.equal(lines.length, 2);
  assert.match(lines[1], /step 2\/2 {2}loss 2\.000/);
  assert.equal(p.figure().data[0].y!.length, 2);
});

Deno.test("experiments: train and evaluate a variant for two steps, as an ablation row", async () => {
  await initBackend("wasm");
  const r = await trainAndEvaluate({
    model: "svrnn-small-fixed",
    overrides: { numBlocks: 1 },
    steps: 2,
    batchSize: 1,
    patchSize: 16,
    learningRate: 1e-3,
    evalImages: 1,
    logEvery: 1,
  });
  assert.equal(r.label, "svrnn-small-fixed {numBlocks: 1}");
  assert.deepEqual(r.loss.map((l) => l.step), [1, 2]);
  assert.equal(r.patches, 2);
  assert.equal(r.perImage.length, 1);
  assert.ok(Number.isFinite(r.summary.meanPsnr));
  const v = experimentAsVariant(r);
  const rows = ablationRows({ variants: [v] });
  assert.equal(rows[0].model, r.label);
  assert.equal(rows[0].PSNR, r.summary.meanPsnr);
});

Deno.test("ablation views: factors, per-image dropdown and slider", () => {
  const variant = (model: string, gain: number) => ({
    model,
    params: 1,
    steps: 1,
    patches: 1,
    trainSec: 60,
    summary: { meanPsnr: 20 + gain, meanSsim: 0.5, meanInputPsnr: 20, gainPsnr: gain },
    perImage: [{ name: "a/0.png", psnr: 20 + gain, ssim: 0.5, inputPsnr: 20 }, {
      name: "b/0.png",
      psnr: 21,
      ssim: 0.5,
      inputPsnr: 20,
    }],
    loss: [{ step: 1, loss: 2 }],
  });
  const a = { variants: [variant("svrnn-small", 1), variant("cnn-small", 0.5)] };
  assert.equal(ablationRows(a)[0]["train (min)"], 1);
  const f = factorFigure(a)!;
  const buttons = (f.layout.updatemenus as any[])[0].buttons.map((b: any) => b.label);
  assert.deepEqual(
    buttons,
    ABLATION_FACTORS.map((x) => x.factor),
    "svrnn-small is in every factor",
  );
  assert.equal(lossFigure(a).data.length, 2);
  assert.equal((perImageByVariantFigure(a)!.layout.updatemenus as any[])[0].buttons.length, 2);
  const s = perImageByImageFigure(a)!;
  assert.deepEqual((s.layout.sliders as any[])[0].steps.map((x: any) => x.label), ["a/0", "b/0"]);
  assert.equal(perImageByVariantFigure({ variants: [] }), null);
  // Median bars only when every variant recorded a median.
  assert.deepEqual(overviewFigure(a).data.map((d: any) => d.name), ["mean PSNR gain (dB)"]);
  const withMedian = {
    variants: a.variants.map((v, i) => ({
      ...v,
      summary: { ...v.summary, medianGainPsnr: 0.1 * (i + 1) },
    })),
  };
  const o = overviewFigure(withMedian);
  assert.deepEqual(o.data.map((d: any) => d.name), [
    "mean PSNR gain (dB)",
    "median PSNR gain (dB)",
  ]);
  assert.deepEqual((o.data[1] as any).y, [0.1, 0.2]);
  assert.equal(ablationRows(withMedian)[1]["median gain (dB)"], 0.2);
  assert.equal(shortName("svrnn-small-1dir"), "1dir");
  assert.equal(shortName("svrnn-small"), "svrnn-small");
});

Deno.test("ablation views: each variant against svrnn-small, paired by image name", () => {
  const images = Array.from({ length: 40 }, (_, i) => `s${i}/0.png`);
  const base = images.map((_, i) => 20 + (i % 7));
  const variant = (model: string, psnr: (i: number) => number, order = images) => ({
    model,
    params: 1,
    steps: 1,
    patches: 1,
    trainSec: null,
    summary: { meanPsnr: 0, meanSsim: 0, meanInputPsnr: 0, gainPsnr: 0 },
    // Listed in `order`: the comparison must pair by name, not by position.
    perImage: order.map((name) => {
      const i = images.indexOf(name);
      return { name, psnr: psnr(i), ssim: 0.5, inputPsnr: 20 };
    }),
    loss: [],
  });
  const a = {
    variants: [
      variant("svrnn-small-x", (i) => base[i] - 0.3, [...images].reverse()),
      variant("svrnn-small", (i) => base[i]),
      variant("cnn-small", (i) => base[i] + (i % 2 ? 0.2 : -0.2)),
      variant("svrnn-small-y", (i) => base[i] + 0.4 + (i % 2 ? 0.1 : -0.1)),
    ],
  };
  const rows = vsReferenceRows(a);
  assert.deepEqual(rows.map((r) => r.model), [
    "svrnn-small-x",
    "cnn-small",
    "svrnn-small-y",
  ]);
  assert.deepEqual(rows.map((r) => r.verdict), ["worse", "not resolved", "better"]);
  assert.ok(Math.abs((rows[0]["PSNR - svrnn-small (dB)"] as number) + 0.3) < 1e-9);
  assert.deepEqual([rows[1]["images better"], rows[1]["images worse"]], [20, 20]);
  const fig = vsReferenceFigure(a)!;
  assert.deepEqual(fig.data[0].x, ["x", "cnn-small", "y"]);
  assert.ok(fig.data[0].error_y, "intervals drawn");
  // No reference, no comparison.
  assert.deepEqual(vsReference({ variants: a.variants.slice(2) }), []);
  assert.equal(vsReferenceFigure({ variants: [] }), null);
  // Another seed: the reference moves by +0.1 dB, x by +0.5 (overtaking it); y is
  // only in the first study, and so left out.
  const b = {
    recipe: { seed: 1 },
    variants: [
      variant("svrnn-small", (i) => base[i] + 0.1),
      variant("svrnn-small-x", (i) => base[i] + 0.2),
    ],
  };
  const seeds = acrossSeedsRows({ ...a, recipe: { seed: 0 } }, b);
  assert.deepEqual(seeds.map((r) => r.model), ["svrnn-small", "svrnn-small-x"]);
  assert.ok(Math.abs((seeds[0]["seed 1 - seed 0 (dB)"] as number) - 0.1) < 1e-9);
  assert.ok(Math.abs((seeds[1]["seed 1 - seed 0 (dB)"] as number) - 0.5) < 1e-9);
  assert.equal(seeds[0]["minus svrnn-small, seed 0 (95% CI)"], "-");
  assert.equal(seeds[1]["minus svrnn-small, seed 0 (95% CI)"], "-0.300 [-0.300, -0.300]");
  assert.equal(seeds[1]["minus svrnn-small, seed 1 (95% CI)"], "+0.100 [0.100, 0.100]");
  // Worse under seed 0, better under seed 1: no verdict survives.
  assert.equal(seeds[1]["verdict under both seeds"], "not resolved");
  assert.equal(seeds[0]["verdict under both seeds"], "-");
  const c = {
    recipe: { seed: 2 },
    variants: [
      variant("svrnn-small", (i) => base[i]),
      variant("svrnn-small-x", (i) => base[i] - 0.2 + (i % 2 ? 0.05 : -0.05)),
    ],
  };
  assert.equal(
    acrossSeedsRows({ ...a, recipe: { seed: 0 } }, c)[1]["verdict under both seeds"],
    "worse",
  );
});

/** A one-model study on 30 images whose PSNRs are 20 + (i % 5) + shift. */
function oneModelStudy(
  model: string,
  shift: number,
  recipe: Record<string, unknown>,
  cpu?: string,
) {
  return {
    recipe,
    provenance: cpu === undefined ? {} : { machine: { cpu } },
    variants: [{
      model,
      params: 1,
      steps: 1,
      patches: 1,
      trainSec: null,
      recipe: { ...recipe, model },
      summary: { meanPsnr: 0, meanSsim: 0, meanInputPsnr: 0, gainPsnr: 0 },
      perImage: Array.from({ length: 30 }, (_, i) => ({
        name: `s${i}/0.png`,
        psnr: 20 + (i % 5) + shift,
        ssim: 0,
        inputPsnr: 20,
      })),
      loss: [],
    }],
  };
}

Deno.test("ablation views: a recipe sweep is compared like variants", () => {
  const study = (lr: number, shift: number, model = "svrnn-small") =>
    oneModelStudy(model, shift, { learningRate: lr, seed: 0 });
  // Given out of order: the sweep lists them by value.
  const sweep = recipeSweep([study(1e-3, -0.5), study(1e-4, 0.2), study(3e-4, 0)], "learningRate");
  assert.ok(!("trained on" in ablationRows(sweep)[0]), "no machine recorded, no column");
  assert.deepEqual(sweep.variants.map((v) => v.model), [
    "learningRate=0.0001",
    "learningRate=0.0003",
    "learningRate=0.001",
  ]);
  const rows = vsReferenceRows(sweep, sweepLabel("learningRate", 3e-4));
  assert.deepEqual(rows.map((r) => [r.model, r.verdict]), [
    ["learningRate=0.0001", "better"],
    ["learningRate=0.001", "worse"],
  ]);
  assert.ok(Math.abs((rows[1]["PSNR - learningRate=0.0003 (dB)"] as number) + 0.5) < 1e-9);
  assert.throws(() => recipeSweep([study(1e-3, 0), study(1e-3, 1)], "learningRate"), /twice/);
  assert.throws(
    () => recipeSweep([study(1e-3, 0, "cnn-small")], "learningRate"),
    /no "svrnn-small"/,
  );
  assert.throws(() => recipeSweep([study(1e-3, 0)], "patchSize"), /no recipe field/);
  // A file written before the loss field existed is the L2 point of a loss sweep.
  const byLoss = recipeSweep([
    study(3e-4, 0),
    oneModelStudy("svrnn-small", 0.1, { learningRate: 3e-4, seed: 0, loss: "l1" }),
  ], "loss");
  assert.deepEqual(byLoss.variants.map((v) => v.model).sort(), ["loss=l1", "loss=l2"]);
  // Gains by input band: every input here is 20 dB, gains are (i % 5) + shift.
  const bands = gainByInputRows(byLoss);
  assert.deepEqual(bands.map((r) => [r.model, r["input PSNR (dB)"], r.improved]), [
    ["loss=l2", "[20, 25)", "24/30"],
    ["loss=l1", "[20, 25)", "30/30"],
  ]);
  assert.ok(Math.abs((bands[1]["mean gain (dB)"] as number) - 2.1) < 1e-9);
});

Deno.test("ablation views: every lever run in one figure, one bar per run against its reference", () => {
  const study = (lr: number, shift: number) =>
    oneModelStudy("svrnn-small", shift, { learningRate: lr, seed: 0 });
  const lr = recipeSweep([study(1e-3, -0.5), study(1e-4, 0.2), study(3e-4, 0)], "learningRate");
  const loss = recipeSweep([
    study(3e-4, 0),
    oneModelStudy("svrnn-small", 0.1, { learningRate: 3e-4, seed: 0, loss: "l1" }),
  ], "loss");
  const fig = leversFigure([
    { what: "lr", study: lr, reference: sweepLabel("learningRate", 3e-4) },
    { what: "loss", study: loss, reference: sweepLabel("loss", "l2") },
  ])!;
  const bar = fig.data[0] as { x: string[]; y: number[] };
  assert.deepEqual(bar.x, ["lr 0.0001", "lr 0.001", "loss l1"]);
  assert.ok(Math.abs(bar.y[1] + 0.5) < 1e-6 && Math.abs(bar.y[2] - 0.1) < 1e-6);
  assert.equal(leversFigure([{ what: "x", study: lr, reference: "absent" }]), null);
});

Deno.test("ablation views: studies of two models under one recipe join into one", () => {
  const study = (model: string, shift: number, steps = 2000, cpu?: string) =>
    oneModelStudy(model, shift, { model, steps, seed: 0 }, cpu);
  const joined = joinStudies([study("svrnn-small", 0, 2000, "Xeon"), study("svrnn-mid", 0.3)]);
  assert.deepEqual(joined.variants.map((v) => v.model), ["svrnn-small", "svrnn-mid"]);
  // Train times from two files compare only on one CPU: each row says which it was.
  assert.deepEqual(ablationRows(joined).map((r) => r["trained on"]), ["Xeon", null]);
  assert.equal(ablationRows(study("svrnn-small", 0))[0]["trained on"], undefined);
  const rows = vsReferenceRows(joined, "svrnn-small");
  assert.deepEqual(rows.map((r) => [r.model, r.verdict]), [["svrnn-mid", "better"]]);
  assert.throws(() => joinStudies([study("svrnn-small", 0), study("svrnn-mid", 0, 500)]), /steps/);
  assert.throws(() => joinStudies([study("svrnn-small", 0), study("svrnn-small", 1)]), /twice/);
});

Deno.test("speed: median of warm runs, extrapolated by pixel count", async () => {
  await initBackend("cpu");
  const r = await timeInference(halfModel, { width: 64, height: 36, repeats: 2 });
  assert.equal(r.runs.length, 2);
  assert.equal(r.extrapolated, true);
  assert.ok(Math.abs(r.targetMs - r.ms * 400) < 1e-6 * r.targetMs + 1e-9);
  const same = await timeInference(halfModel, {
    width: 8,
    height: 8,
    repeats: 1,
    target: { width: 8, height: 8 },
  });
  assert.equal(same.extrapolated, false);
  assert.equal(same.targetMs, same.ms);
  assert.equal(same.backend, "cpu");
});

Deno.test("resources: a fine-tuned model's log follows its first run's, steps shifted", async () => {
  const root = await Deno.makeTempDir();
  const cwd = Deno.cwd();
  try {
    await Deno.writeTextFile(`${root}/deno.json`, "{}");
    await Deno.mkdir(`${root}/results/training`, { recursive: true });
    const lines = (rs: object[]) => rs.map((r) => JSON.stringify(r) + "\n").join("");
    await Deno.writeTextFile(
      `${root}/results/training/m.jsonl`,
      lines([{ step: 10, kind: "train", loss: 1, elapsedSec: 3 }, {
        step: 10,
        kind: "val",
        valPsnr: 21,
      }]),
    );
    Deno.chdir(root);
    const alone = await readTrainingLog("m");
    assert.deepEqual(alone?.records.map((r) => r.step), [10, 10]);
    assert.equal(alone?.offset, 0);
    await Deno.writeTextFile(
      `${root}/results/training/m.init.jsonl`,
      lines([{ step: 20, kind: "train", loss: 2, elapsedSec: 6 }, {
        step: 40,
        kind: "train",
        loss: 1.5,
        elapsedSec: 12,
      }]),
    );
    const both = await readTrainingLog("m");
    assert.deepEqual(both?.records.map((r) => [r.step, r.kind]), [
      [20, "train"],
      [40, "train"],
      [50, "train"],
      [50, "val"],
    ]);
    assert.equal(both?.offset, 40);
    assert.equal(trainingWallSec(both!.records), 15); // 12 s, then a new session of 3 s
  } finally {
    Deno.chdir(cwd);
    await Deno.remove(root, { recursive: true });
  }
});
