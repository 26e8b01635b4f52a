/**
 * The trainer: a run stopped and resumed in a new process ends with the weights of an
 * uninterrupted run; SIGKILL during checkpointing leaves a loadable checkpoint to resume
 * from; a NaN batch stops training cleanly with the last good checkpoint intact; the
 * recipe's schedule and clipping.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "#lib/backends/select.ts";
import { createModel } from "#lib/models/registry.ts";
import { inspectCheckpoint, loadCheckpoint } from "#lib/models/checkpoint.ts";
import { SYNTH_V1_QUICK } from "#lib/data/benchmark.ts";
import { generateBenchmark } from "#lib/data/benchmark_io.ts";
import { DEFAULT_TRAIN_CONFIG, learningRateAt, type TrainConfig } from "#lib/train/config.ts";
import { train, type TrainData } from "#lib/train/trainer.ts";
import { modelLoss, trainStep } from "#lib/train/step.ts";
import { RecipeAdam } from "#lib/train/adam.ts";

const TRAIN_CLI = new URL("../lib/cli/train.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

let benchRoot: string | undefined;
/** synth-v1-quick (from the committed fixtures) rendered once into a temporary folder. */
async function quickBenchmark(): Promise<string> {
  if (!benchRoot) {
    const out = await Deno.makeTempDir({ prefix: "svrnn-bench-" });
    await generateBenchmark(SYNTH_V1_QUICK, { out, fixturesDir: `${ROOT}data/fixtures` });
    benchRoot = `${out}/${SYNTH_V1_QUICK.name}`;
  }
  return benchRoot;
}

/** `deno task train` in a new process, on the quick benchmark, tiny settings. */
async function trainProcess(out: string, extra: string[]) {
  const bench = await quickBenchmark();
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      TRAIN_CLI,
      "--pairs",
      `${bench}/train/${(await firstDir(`${bench}/train`))}`,
      "--model",
      "svrnn-small",
      "--steps",
      "6",
      "--batch",
      "2",
      "--patch",
      "32",
      ...(extra.includes("--val-every") ? [] : ["--val-every", "0"]),
      "--log-every",
      "1",
      "--checkpoint-every",
      "1",
      "--backend",
      "wasm",
      "--quiet",
      "--out",
      out,
      ...extra,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
  return cmd;
}

async function firstDir(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) names.push(e.name);
  return names.sort()[0];
}

async function weightsOf(path: string): Promise<Float32Array[]> {
  const model = createModel("svrnn-small");
  const loaded = await loadCheckpoint(model, path);
  tf.dispose(Object.values(loaded.optimizer));
  const out = model.trainableVariables.map((v) => v.dataSync() as Float32Array);
  model.dispose();
  return out;
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

Deno.test("train: stop after 3 steps, resume in a new process for 3 more = 6 uninterrupted steps", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const full = await (await trainProcess(`${dir}/full`, [])).output();
  assert.equal(full.code, 0, new TextDecoder().decode(full.stderr));
  const first = await (await trainProcess(`${dir}/split`, ["--stop-at", "3"])).output();
  assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
  const second = await (await trainProcess(`${dir}/split`, [])).output();
  assert.equal(second.code, 0, new TextDecoder().decode(second.stderr));
  const a = await weightsOf(`${dir}/full/last.safetensors`);
  const b = await weightsOf(`${dir}/split/last.safetensors`);
  const diff = maxDiff(a, b);
  assert.ok(diff <= 1e-6, `resumed weights differ from uninterrupted ones by ${diff}`);
  // And training changed them: the comparison is not between two untouched inits.
  const init = createModel("svrnn-small").trainableVariables.map((v) =>
    v.dataSync() as Float32Array
  );
  assert.ok(maxDiff(a, init) > 1e-4);
  // The log of the resumed run has each step once.
  const steps = (await Deno.readTextFile(`${dir}/split/log.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l)).filter((r) => r.kind === "train").map((r) => r.step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: SIGKILL while checkpointing leaves a loadable checkpoint, and training resumes from it", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const out = `${dir}/run`;
  // Checkpoints are written every step, so a kill lands during or right around a write.
  for (const delayMs of [2500, 3500, 4500]) {
    const child = (await trainProcess(out, ["--steps", "400"])).spawn();
    await new Promise((r) => setTimeout(r, delayMs));
    try {
      child.kill("SIGKILL");
    } catch { /* it may have finished */ }
    await child.output();
    const exists = await Deno.stat(`${out}/last.safetensors`).then(() => true, () => false);
    if (!exists) continue; // killed before its first checkpoint: nothing to check yet
    await weightsOf(`${out}/last.safetensors`); // throws if truncated or corrupt
  }
  const model = createModel("svrnn-small");
  const ckpt = await loadCheckpoint(model, `${out}/last.safetensors`);
  tf.dispose(Object.values(ckpt.optimizer));
  model.dispose();
  const saved = JSON.parse(ckpt.metadata.training).step as number;
  const target = String(saved + 3);
  const resumed = await (await trainProcess(out, ["--steps", "400", "--stop-at", target, "--json"]))
    .output();
  assert.equal(resumed.code, 0, new TextDecoder().decode(resumed.stderr));
  const summary = JSON.parse(new TextDecoder().decode(resumed.stdout));
  assert.equal(summary.resumedFrom, saved);
  assert.equal(summary.step, saved + 3);
  const log = (await Deno.readTextFile(`${out}/log.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.equal(log.at(-1).step, saved + 3);
  await weightsOf(`${out}/last.safetensors`);
  await Deno.remove(dir, { recursive: true });
});

function syntheticData(nanAt: number): TrainData {
  return {
    validation: [],
    batch: (step: number) => {
      const sharp = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 7 + step) as tf.Tensor4D;
      const blurry = tf.tidy(() => {
        const b = tf.avgPool(sharp, 3, 1, "same") as tf.Tensor4D;
        return step === nanAt ? tf.mul(b, NaN) as tf.Tensor4D : b;
      });
      return Promise.resolve({ blurry, sharp });
    },
  };
}

const TINY: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model: "svrnn-small",
  steps: 8,
  batchSize: 2,
  patchSize: 16,
  logEvery: 1,
  valEvery: 0,
  checkpointEvery: 2,
  learningRate: 1e-3,
};

Deno.test("train: a NaN batch stops training cleanly and keeps the last good checkpoint", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const model = createModel("svrnn-small", { genWidth: 4, rnnChannels: 4 });
  const result = await train({
    config: TINY,
    model,
    data: syntheticData(5), // the 6th step's batch is NaN
    outDir: dir,
  });
  assert.equal(result.status, "non-finite");
  assert.equal(result.step, 5);
  assert.match(result.message, /non-finite loss .* at step 6; weights left at step 5/);
  // Weights in memory are those of step 5: finite.
  for (const v of model.trainableVariables) {
    assert.ok((await v.data()).every(Number.isFinite), `${v.name} has non-finite values`);
  }
  // The last checkpoint (step 4) loads and holds step 4's state.
  const check = createModel("svrnn-small", { genWidth: 4, rnnChannels: 4 });
  const loaded = await loadCheckpoint(check, `${dir}/last.safetensors`);
  assert.equal(JSON.parse(loaded.metadata.training).step, 4);
  tf.dispose(Object.values(loaded.optimizer));
  const log = (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.equal(log.at(-1).kind, "stop");
  model.dispose();
  check.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: resuming under another recipe or model config is refused, naming what differs", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const build = (o: Record<string, unknown> = {}) =>
    createModel("svrnn-small", { genWidth: 4, rnnChannels: 4, ...o });
  const data = syntheticData(-1);
  const first = build();
  await train({ config: TINY, model: first, data, outDir: dir, stopAt: 2 });
  first.dispose();
  const cases: Array<[Partial<TrainConfig>, Record<string, unknown>, RegExp]> = [
    [{ learningRate: 5e-4 }, {}, /learningRate 0\.001, now 0\.0005/],
    [{ steps: 9 }, {}, /steps 8, now 9/],
    [{ loss: "l1" }, {}, /loss "l2", now "l1"/],
    [{}, { residual: false }, /model residual true, now false/],
  ];
  for (const [recipe, overrides, message] of cases) {
    const m = build(overrides);
    await assert.rejects(
      () => train({ config: { ...TINY, ...recipe }, model: m, data, outDir: dir }),
      (e: Error) => e.name === "InputError" && message.test(e.message) && e.message.includes(dir),
    );
    m.dispose();
  }
  // Logging intervals may change: the run resumes and finishes.
  const m = build();
  const r = await train({ config: { ...TINY, logEvery: 4 }, model: m, data, outDir: dir });
  assert.equal(r.status, "done");
  assert.equal(r.resumedFrom, 2);
  m.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: a checkpoint from before the loss field resumes as the L2 run it was", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const build = () => createModel("svrnn-small", { genWidth: 4, rnnChannels: 4 });
  const data = syntheticData(-1);
  const { loss: _, ...legacy } = TINY; // a recipe as written before `loss` existed
  const first = build();
  await train({ config: legacy as TrainConfig, model: first, data, outDir: dir, stopAt: 2 });
  first.dispose();
  const stored = JSON.parse(
    (await inspectCheckpoint(`${dir}/last.safetensors`)).metadata.training,
  );
  assert.ok(!("loss" in stored.config));
  const l1 = build();
  await assert.rejects(
    () => train({ config: { ...TINY, loss: "l1" }, model: l1, data, outDir: dir }),
    /loss "l2", now "l1"/,
  );
  l1.dispose();
  const m = build();
  const r = await train({ config: TINY, model: m, data, outDir: dir });
  assert.equal(r.status, "done");
  assert.equal(r.resumedFrom, 2);
  m.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: --init starts a new run from a checkpoint's weights, and refuses another model", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const build = () => createModel("svrnn-small", { genWidth: 4, rnnChannels: 4 });
  const data = syntheticData(-1);
  const source = build();
  await train({ config: TINY, model: source, data, outDir: `${dir}/a`, stopAt: 3 });
  const trained = source.trainableVariables.map((v) => v.dataSync().slice() as Float32Array);
  source.dispose();
  // A zero learning rate leaves the weights as loaded: the new run's weights are the source's.
  const m = build();
  const fresh = m.trainableVariables.map((v) => v.dataSync().slice() as Float32Array);
  assert.ok(maxDiff(fresh, trained) > 1e-4, "the source run must differ from a fresh init");
  const r = await train({
    config: { ...TINY, learningRate: 0, steps: 1 },
    model: m,
    data,
    outDir: `${dir}/b`,
    initFrom: `${dir}/a/last.safetensors`,
  });
  assert.equal(r.resumedFrom, 0);
  assert.ok(maxDiff(m.trainableVariables.map((v) => v.dataSync() as Float32Array), trained) < 1e-7);
  m.dispose();
  // The CLI checks the model before training: one line, exit 2.
  const wrong = await (await trainProcess(`${dir}/c`, [
    "--init",
    `${ROOT}results/checkpoints/nah-small.safetensors`,
  ])).output();
  assert.equal(wrong.code, 2);
  const err = new TextDecoder().decode(wrong.stderr).trim();
  assert.match(err, /--init .*nah-small\.safetensors holds nah-small, not svrnn-small/);
  assert.equal(err.split("\n").length, 1);
  // A fine-tuned release records where it started: path, SHA-256 and that run's state.
  const first = await (await trainProcess(`${dir}/src`, ["--steps", "2"])).output();
  assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
  const tuned = await (await trainProcess(`${dir}/ft`, [
    "--steps",
    "2",
    "--init",
    `${dir}/src/last.safetensors`,
    "--release",
    `${dir}/ft.safetensors`,
  ])).output();
  assert.equal(tuned.code, 0, new TextDecoder().decode(tuned.stderr));
  const record = JSON.parse((await inspectCheckpoint(`${dir}/ft.safetensors`)).metadata.init);
  assert.equal(record.path, `${dir}/src/last.safetensors`);
  assert.match(record.sha256, /^[0-9a-f]{64}$/);
  assert.equal(record.training.step, 2);
  assert.equal(record.model, "svrnn-small");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--release writes the best weights by default, the last with --release-weights last", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svrnn_release_" });
  const bench = await quickBenchmark();
  const sources: string[] = [];
  for (const which of [[], ["--release-weights", "last"]]) {
    const out = `${dir}/run${sources.length}`;
    const r = await (await trainProcess(out, [
      "--steps",
      "3",
      "--val-every",
      "1",
      "--val-images",
      "1",
      "--val-pairs",
      `${bench}/train/${await firstDir(`${bench}/train`)}`,
      "--release",
      `${out}.safetensors`,
      ...which,
    ])).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    sources.push((await inspectCheckpoint(`${out}.safetensors`)).metadata.source_checkpoint);
  }
  assert.deepEqual(sources, [`${dir}/run0/best.safetensors`, `${dir}/run1/last.safetensors`]);
  const bad = await (await trainProcess(`${dir}/bad`, ["--release-weights", "first"])).output();
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /--release-weights must be one of best, last/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval --split train scores the training pairs, --split test (the default) the test pairs", async () => {
  const bench = await quickBenchmark();
  const scenes = async (split: string) =>
    (await Array.fromAsync(Deno.readDir(`${bench}/${split}`))).map((e) => e.name);
  for (const split of ["train", "test"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}lib/cli/eval.ts`,
        "--gopro",
        bench,
        "--gopro-variant",
        "blur_gamma",
        "--checkpoint",
        `${ROOT}results/checkpoints/svrnn-small.safetensors`,
        "--backend",
        "wasm",
        "--limit",
        "1",
        "--json",
        "--quiet",
        ...(split === "train" ? ["--split", "train"] : []),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(r.split, split);
    const scene = (r.perImage[0].name as string).split("/")[0];
    assert.ok((await scenes(split)).includes(scene), `${scene} is not a ${split} scene`);
  }
});

Deno.test("train: no tensor leaks across steps", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const model = createModel("svrnn-small", { genWidth: 4, rnnChannels: 4 });
  const data = syntheticData(-1);
  await train({ config: { ...TINY, steps: 2 }, model, data, outDir: dir, resume: false });
  const before = tf.memory().numTensors;
  await train({ config: { ...TINY, steps: 10 }, model, data, outDir: `${dir}/b`, resume: false });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("recipe: the L2 loss is EuclideanLoss, sum(d^2) / 2 / batch; the L1 loss sum(|d|) / batch; the PSNR loss minus the mean per-patch PSNR", async () => {
  await initBackend("cpu");
  const model = createModel("svrnn-small", { genWidth: 2, rnnChannels: 2, e1Channels: 2 });
  const x = tf.randomUniform([2, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const y = tf.randomUniform([2, 8, 8, 3], 0, 1, "float32", 4) as tf.Tensor4D;
  const o = model.forward(x);
  const out = await o.data();
  o.dispose();
  const gt = await y.data();
  let l1 = 0, l2 = 0;
  const perPatch = [0, 0];
  for (let i = 0; i < out.length; i++) {
    l1 += Math.abs(out[i] - gt[i]);
    l2 += (out[i] - gt[i]) ** 2;
    perPatch[Math.floor(i / (out.length / 2))] += (out[i] - gt[i]) ** 2 / (out.length / 2);
  }
  const meanPsnr = perPatch.reduce((a, m) => a + 10 * Math.log10(1 / m), 0) / 2;
  const got = async (loss?: "l1" | "l2" | "psnr") => {
    const t = modelLoss(model, x, y, loss);
    const v = (await t.data())[0];
    t.dispose();
    return v;
  };
  assert.ok(Math.abs(await got() - l2 / 2 / 2) < 1e-4 * l2);
  assert.ok(Math.abs(await got("l2") - l2 / 2 / 2) < 1e-4 * l2);
  assert.ok(Math.abs(await got("l1") - l1 / 2) < 1e-4 * l1);
  assert.ok(Math.abs(await got("psnr") + meanPsnr) < 1e-4 * meanPsnr, "psnr loss");
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("recipe: poly learning rate and gradient clipping at the global norm", async () => {
  const cfg = { ...DEFAULT_TRAIN_CONFIG, steps: 100, learningRate: 1e-4, lrPower: 2 };
  assert.equal(learningRateAt(cfg, 0), 1e-4);
  assert.ok(Math.abs(learningRateAt(cfg, 50) - 1e-4 * 0.25) < 1e-15);
  assert.equal(learningRateAt(cfg, 100), 0);

  await initBackend("cpu");
  const model = createModel("svrnn-small", { genWidth: 2, rnnChannels: 2, e1Channels: 2 });
  const opt = new RecipeAdam(1e-3, 0.9, 0.999);
  const x = tf.randomUniform([1, 8, 8, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const y = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
  const loose = await trainStep(model, opt, x, y, { ...TINY, clipNorm: 0 }, 0);
  assert.equal(loose.clipped, false);
  const tight = await trainStep(model, opt, x, y, { ...TINY, clipNorm: loose.gradNorm / 10 }, 0);
  assert.equal(tight.clipped, true);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
});
