/**
 * Benchmarks of the "native" backend (lib/backends/native: tfjs cpu + OpenBLAS through FFI) against
 * the wasm backend, measured in the same process so that their ratio holds even on a busy
 * machine:
 *
 *   conv      one 3x3 256->256 conv at 180x320 (GFLOP/s), runs interleaved native/wasm,
 *             beside a bare cblas_sgemm of the same size (what the machine gives right now)
 *   forward   svrnn on one 1280x720 image: time and peak resident memory
 *   train     one svrnn training step (lib/train/step.ts, Adam) at batch 4 of 64x64 and at
 *             batch 20 of 128x128
 *   small     svrnn-small training steps per second at batch 20 of 128x128 and 4 of 64x64
 *   profile   per-kernel breakdown (tf.profile) of one svrnn 1280x720 forward and one
 *             training step at batch 4 of 64x64 and at 20 of 128x128 on native (and the
 *             batch-4 step on wasm)
 *
 * Per-op breakdown method: tf.profile records every kernel the engine runs, forward and
 * backward, with the wall time of the kernel function (backend.time: the cpu, native and
 * wasm backends are synchronous, so that is the kernel's whole cost). Entries named
 * "...__op" are the spans of custom-gradient ops (fused conv2d) that contain kernels listed
 * separately, so they are left out of the sums. CHECK_COMPUTATION_FOR_ERRORS is switched
 * off while profiling (it reads every output back to look for NaN). Wall time minus the
 * kernel sum is the engine's own overhead (tape, tidy, allocation outside kernels).
 */
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend, setTrainingMode } from "../backends/select.ts";
import { createModel } from "../models/registry.ts";
import type { DeblurModel } from "../models/model.ts";
import { DEFAULT_TRAIN_CONFIG } from "../train/config.ts";
import { trainStep } from "../train/step.ts";
import { RecipeAdam } from "../train/adam.ts";
import { describeNative, initNativeBackend, type NativeInfo } from "../backends/native/backend.ts";
import { loadBlas } from "../backends/native/blas.ts";
import { median } from "../eval/stats.ts";

export const NATIVE_BENCH_PARTS = ["conv", "forward", "train", "small", "profile"] as const;
export type NativeBenchPart = typeof NATIVE_BENCH_PARTS[number];

export interface NativeBenchOptions {
  /** Which measurements (default all). */
  parts?: NativeBenchPart[];
  /** Timed repetitions of the quick measurements (median reported); default 5. */
  reps?: number;
  /** Timed repetitions of the slow ones (1280x720 forward, batch-20 steps); default 2. */
  slowReps?: number;
  /** "all": every wasm row; "fast": skip the wasm rows that take minutes; "none". */
  wasm?: "all" | "fast" | "none";
  /** Forward image size [height, width]; default [720, 1280]. */
  forwardSize?: [number, number];
  /** Progress lines (stderr). */
  progress?: (msg: string) => void;
}

export interface Timing {
  /** Median wall time of the timed runs, ms. */
  ms: number;
  runsMs: number[];
}

export interface ConvRecord {
  shape: string;
  gflop: number;
  native: Timing & { gflops: number };
  wasm: (Timing & { gflops: number }) | null;
  /** cblas_sgemm of the same product size (57600x2304 by 2304x256), this process. */
  sgemmGflops: number;
  speedupOverWasm: number | null;
}

export interface ForwardRecord {
  model: string;
  input: number[];
  backend: string;
  timing: Timing;
  /** Peak resident set of the process during the timed runs (VmHWM after a reset), MiB. */
  peakRssMiB: number | null;
  /** Resident set before them, MiB. */
  baseRssMiB: number | null;
}

export interface StepRecord {
  model: string;
  batch: number;
  patch: number;
  backend: string;
  /** The optimizer update: "fused" (lib/train/adam.ts, one pass) or tfjs's "composite". */
  update: "fused" | "composite";
  timing: Timing;
  stepsPerSecond: number;
}

export interface KernelShare {
  kernel: string;
  ms: number;
  calls: number;
  /** Fraction of the kernel time. */
  share: number;
}

export interface ConvCall {
  kernel: string;
  /** x (or dy) shape and filter shape. */
  shapes: string;
  ms: number;
  gflops: number;
}

export interface ProfileRecord {
  what: string;
  backend: string;
  wallMs: number;
  kernelMs: number;
  /** tfjs's peak of live tensor bytes during the run, MiB. */
  peakTensorMiB: number;
  kernels: KernelShare[];
  convs: ConvCall[];
}

export interface NativeBenchResult {
  benchmark: "native";
  description: string;
  native: NativeInfo & { detail: string };
  wasm: string | null;
  conv: ConvRecord | null;
  forward: ForwardRecord[];
  train: StepRecord[];
  small: StepRecord[];
  profiles: ProfileRecord[];
  /** Ratios native over wasm (time_wasm / time_native), same process. */
  speedups: Record<string, number>;
  notes: string[];
}

// ---------------------------------------------------------------------------------------
// Helpers.

function procStatus(): { rss: number; hwm: number } | null {
  try {
    const s = Deno.readTextFileSync("/proc/self/status");
    const kb = (key: string) => Number(s.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1]);
    const rss = kb("VmRSS"), hwm = kb("VmHWM");
    return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : null;
  } catch {
    return null;
  }
}

/** Resets the kernel's peak-RSS counter (Linux >= 4.0); false where that is impossible. */
function resetPeakRss(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

async function timed(run: () => Promise<void> | void, reps: number, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await run();
  const runsMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await run();
    runsMs.push(performance.now() - t);
  }
  return { ms: median(runsMs), runsMs };
}

async function use(backend: "native" | "wasm"): Promise<string> {
  if (backend === "native") return describeNative(await initNativeBackend());
  return describeBackend(await initBackend("wasm"));
}

function wasmTrainable(): boolean {
  return tf.getKernel(tf.Conv2DBackpropFilter, "wasm") !== undefined;
}

// ---------------------------------------------------------------------------------------
// The measurements.

const CONV = { h: 180, w: 320, c: 256, k: 3 };

async function benchConv(reps: number, withWasm: boolean): Promise<ConvRecord> {
  const { h, w, c, k } = CONV;
  const gflop = 2 * h * w * c * c * k * k / 1e9;
  const backends: Array<"native" | "wasm"> = withWasm ? ["native", "wasm"] : ["native"];
  const inputs = new Map<string, { x: tf.Tensor4D; f: tf.Tensor4D }>();
  for (const b of backends) {
    await use(b);
    inputs.set(b, {
      x: tf.randomUniform([1, h, w, c], -1, 1, "float32", 1) as tf.Tensor4D,
      f: tf.randomUniform([k, k, c, c], -0.05, 0.05, "float32", 2) as tf.Tensor4D,
    });
  }
  const runs = new Map<string, number[]>(backends.map((b) => [b, []]));
  // Interleaved, so both backends see the same machine load.
  for (let r = 0; r <= reps; r++) {
    for (const b of backends) {
      await tf.setBackend(b);
      const { x, f } = inputs.get(b)!;
      const t = performance.now();
      const y = tf.conv2d(x, f, 1, "same");
      y.dataSync();
      const ms = performance.now() - t;
      y.dispose();
      if (r > 0) runs.get(b)!.push(ms);
    }
  }
  for (const b of backends) {
    await tf.setBackend(b);
    tf.dispose(Object.values(inputs.get(b)!));
  }
  const rec = (b: string) => {
    const runsMs = runs.get(b)!;
    const ms = median(runsMs);
    return { ms, runsMs, gflops: gflop / ms * 1e3 };
  };
  // The bare product: what OpenBLAS gives on this machine at this moment.
  const blas = loadBlas();
  const M = h * w, K = k * k * c, A = new Float32Array(M * K).fill(0.5);
  const B = new Float32Array(K * c).fill(0.25), C = new Float32Array(M * c);
  const sg = await timed(() => blas.sgemm(false, false, M, c, K, 1, A, K, B, c, 0, C, c), reps);
  const native = rec("native");
  const wasm = withWasm ? rec("wasm") : null;
  return {
    shape: `x [1,${h},${w},${c}], filter [${k},${k},${c},${c}], stride 1, same`,
    gflop,
    native,
    wasm,
    sgemmGflops: gflop / sg.ms * 1e3,
    speedupOverWasm: wasm ? wasm.ms / native.ms : null,
  };
}

/** One `model` forward (default the paper's svrnn) on a [1, H, W, 3] image. */
export async function benchForward(
  backend: "native" | "wasm",
  size: [number, number],
  reps: number,
  modelName = "svrnn",
): Promise<ForwardRecord> {
  const detail = await use(backend);
  const model = createModel(modelName);
  const x = tf.randomUniform([1, size[0], size[1], 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const run = () => {
    const y = model.forward(x);
    y.dataSync();
    y.dispose();
  };
  run(); // warm-up (also compiles wasm kernels, fills native scratch)
  const before = procStatus();
  const reset = resetPeakRss();
  const timing = await timed(run, reps, 0);
  const after = procStatus();
  x.dispose();
  model.dispose();
  return {
    model: modelName,
    input: [1, size[0], size[1], 3],
    backend: detail,
    timing,
    peakRssMiB: reset && after ? after.hwm / 1024 : null,
    baseRssMiB: before ? before.rss / 1024 : null,
  };
}

/** One training step (loss, gradients, clip, decay, Adam) of `modelName` on random patches. */
export async function benchStep(
  backend: "native" | "wasm",
  modelName: string,
  batch: number,
  patch: number,
  reps: number,
  fused = true,
): Promise<StepRecord> {
  const detail = await use(backend);
  const model = createModel(modelName) as DeblurModel;
  const blurry = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 4) as tf.Tensor4D;
  const sharp = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const cfg = { ...DEFAULT_TRAIN_CONFIG, model: modelName, batchSize: batch, patchSize: patch };
  const optimizer = new RecipeAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  optimizer.fused = fused;
  await setTrainingMode(true); // as the trainer runs steps
  const timing = await timed(async () => {
    await trainStep(model, optimizer, blurry, sharp, cfg, cfg.learningRate);
  }, reps).finally(() => setTrainingMode(false));
  optimizer.dispose();
  tf.dispose([blurry, sharp]);
  model.dispose();
  return {
    model: modelName,
    batch,
    patch,
    backend: detail,
    update: fused ? "fused" : "composite",
    timing,
    stepsPerSecond: 1000 / timing.ms,
  };
}

type KernelInfo = Awaited<ReturnType<typeof tf.profile>>["kernels"][number];

function convCall(k: KernelInfo): ConvCall | null {
  const ms = k.kernelTimeMs as number;
  const s = k.inputShapes as number[][];
  const o = k.outputShapes as number[][];
  let gflop: number, shapes: string;
  if (k.name === tf.Conv2D || k.name === tf.FusedConv2D) {
    gflop = 2 * o[0][0] * o[0][1] * o[0][2] * o[0][3] * s[1][0] * s[1][1] * s[1][2] / 1e9;
    shapes = `x [${s[0]}] w [${s[1]}]`;
  } else if (k.name === tf.Conv2DBackpropInput) {
    gflop = 2 * s[0][0] * s[0][1] * s[0][2] * s[0][3] * s[1][0] * s[1][1] * s[1][2] / 1e9;
    shapes = `dy [${s[0]}] w [${s[1]}]`;
  } else if (k.name === tf.Conv2DBackpropFilter) {
    gflop = 2 * s[1][0] * s[1][1] * s[1][2] * s[1][3] * o[0][0] * o[0][1] * o[0][2] / 1e9;
    shapes = `x [${s[0]}] dw [${o[0]}]`;
  } else {
    return null;
  }
  return { kernel: k.name, shapes, ms, gflops: ms > 0 ? gflop / ms * 1e3 : 0 };
}

/** Runs f under tf.profile and sums kernel times by kernel name. */
export async function profileKernels(
  what: string,
  backend: string,
  f: () => Promise<void> | void,
): Promise<ProfileRecord> {
  const flag = "CHECK_COMPUTATION_FOR_ERRORS";
  const saved = tf.env().getBool(flag);
  tf.env().set(flag, false);
  try {
    const t = performance.now();
    const info = await tf.profile(async () => {
      await f();
    });
    const wallMs = performance.now() - t;
    const byName = new Map<string, { ms: number; calls: number }>();
    const convs: ConvCall[] = [];
    for (const k of info.kernels) {
      // Op scopes and custom-gradient wrappers (lib/ops/fused_conv.ts) enclose kernels that
      // are listed on their own.
      if (k.name.endsWith("__op") || k.name === "unnamed scope") continue;
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += k.kernelTimeMs as number;
      e.calls++;
      byName.set(k.name, e);
      const c = convCall(k);
      if (c) convs.push(c);
    }
    const kernelMs = [...byName.values()].reduce((s, e) => s + e.ms, 0);
    const kernels = [...byName.entries()]
      .map(([kernel, e]) => ({ kernel, ms: e.ms, calls: e.calls, share: e.ms / kernelMs }))
      .sort((a, b) => b.ms - a.ms);
    return {
      what,
      backend,
      wallMs,
      kernelMs,
      peakTensorMiB: info.peakBytes / 2 ** 20,
      kernels,
      convs,
    };
  } finally {
    tf.env().set(flag, saved);
  }
}

async function profileForward(backend: "native" | "wasm", size: [number, number]) {
  const detail = await use(backend);
  const model = createModel("svrnn");
  const x = tf.randomUniform([1, size[0], size[1], 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const rec = await profileKernels(`svrnn forward [1,${size[0]},${size[1]},3]`, detail, () => {
    const y = model.forward(x);
    y.dataSync();
    y.dispose();
  });
  x.dispose();
  model.dispose();
  return rec;
}

export async function profileStep(
  backend: "native" | "wasm",
  batch: number,
  patch: number,
  modelName = "svrnn",
) {
  const detail = await use(backend);
  const model = createModel(modelName);
  const blurry = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 4) as tf.Tensor4D;
  const sharp = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const cfg = { ...DEFAULT_TRAIN_CONFIG, model: modelName, batchSize: batch, patchSize: patch };
  const optimizer = new RecipeAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  await setTrainingMode(true);
  await trainStep(model, optimizer, blurry, sharp, cfg, cfg.learningRate); // warm-up
  const rec = await profileKernels(
    `${modelName} training step, batch ${batch} of ${patch}x${patch}`,
    detail,
    async () => {
      await trainStep(model, optimizer, blurry, sharp, cfg, cfg.learningRate);
    },
  ).finally(() => setTrainingMode(false));
  optimizer.dispose();
  tf.dispose([blurry, sharp]);
  model.dispose();
  return rec;
}

// ---------------------------------------------------------------------------------------

/** Runs the native-vs-wasm benchmarks; leaves the native backend selected. */
export async function benchNative(options: NativeBenchOptions = {}): Promise<NativeBenchResult> {
  const parts = options.parts ?? [...NATIVE_BENCH_PARTS];
  for (const p of parts) {
    if (!NATIVE_BENCH_PARTS.includes(p)) {
      throw new Error(`native bench: unknown part "${p}" (${NATIVE_BENCH_PARTS.join(", ")})`);
    }
  }
  const reps = options.reps ?? 5;
  const slowReps = options.slowReps ?? 2;
  const wasmMode = options.wasm ?? "all";
  const size = options.forwardSize ?? [720, 1280];
  const say = options.progress ?? (() => {});
  const info = await initNativeBackend();
  const result: NativeBenchResult = {
    benchmark: "native",
    description: "native backend (tfjs cpu + OpenBLAS through Deno FFI) vs wasm, same process; " +
      "median wall times",
    native: { ...info, detail: describeNative(info) },
    wasm: null,
    conv: null,
    forward: [],
    train: [],
    small: [],
    profiles: [],
    speedups: {},
    notes: [],
  };
  const withWasm = wasmMode !== "none";
  const slowWasm = wasmMode === "all";
  const trainWasm = withWasm && wasmTrainable();
  if (withWasm && !trainWasm) {
    result.notes.push("wasm training rows skipped: no Conv2DBackpropFilter kernel for wasm");
  }
  const { batchSize, patchSize } = DEFAULT_TRAIN_CONFIG;

  // Every row, native ones first; the wasm rows that may exhaust wasm's 4 GiB heap (which
  // aborts the wasm module for good) come last. A failing row is noted, not fatal.
  type Row = { label: string; backend: "native" | "wasm"; run: () => Promise<void> };
  const rows: Row[] = [];
  const add = (part: NativeBenchPart, row: Row, when = true) => {
    if (parts.includes(part) && when) rows.push(row);
  };
  const convRow: Row = {
    label: "conv 3x3 256->256 at 180x320 (native and wasm interleaved)",
    backend: "native",
    run: async () => {
      result.conv = await benchConv(reps, withWasm);
      const c = result.conv;
      say(
        `  native ${c.native.gflops.toFixed(0)} GFLOP/s, wasm ${
          c.wasm ? c.wasm.gflops.toFixed(0) : "-"
        }, bare sgemm ${c.sgemmGflops.toFixed(0)}`,
      );
    },
  };
  const forward = (b: "native" | "wasm") => ({
    label: `svrnn forward [1,${size[0]},${size[1]},3] on ${b}`,
    backend: b,
    run: async () => {
      const r = await benchForward(b, size, b === "wasm" ? 1 : slowReps);
      result.forward.push(r);
      say(
        `  ${(r.timing.ms / 1000).toFixed(2)} s, peak RSS ${r.peakRssMiB?.toFixed(0) ?? "?"} MiB`,
      );
    },
  });
  const step = (
    b: "native" | "wasm",
    model: string,
    batch: number,
    patch: number,
    fused = true,
  ) => ({
    label: `${model} training step, batch ${batch} of ${patch}x${patch}, on ${b}` +
      (fused ? "" : " (tfjs's composite Adam update)"),
    backend: b,
    run: async () => {
      const slow = (model === "svrnn" && batch >= 20) || b === "wasm";
      const r = await benchStep(b, model, batch, patch, slow ? slowReps : reps, fused);
      (model === "svrnn" ? result.train : result.small).push(r);
      say(`  ${(r.timing.ms / 1000).toFixed(3)} s per step (${r.stepsPerSecond.toFixed(2)}/s)`);
    },
  });
  const profile = (b: "native" | "wasm", what: "forward" | "step", batch = 4, patch = 64) => ({
    label: what === "forward"
      ? `profile of one svrnn forward [1,${size[0]},${size[1]},3] on ${b}`
      : `profile of one svrnn training step, batch ${batch} of ${patch}x${patch}, on ${b}`,
    backend: b,
    run: async () => {
      result.profiles.push(
        what === "forward" ? await profileForward(b, size) : await profileStep(b, batch, patch),
      );
    },
  });
  // The native forward first, before wasm's heap exists, so its peak RSS is its own.
  add("forward", forward("native"));
  add("conv", convRow);
  add("train", step("native", "svrnn", 4, 64));
  add("train", step("native", "svrnn", 4, 64, false));
  add("train", step("native", "svrnn", 20, 128));
  add("small", step("native", "svrnn-small", batchSize, patchSize));
  add("profile", profile("native", "forward"));
  add("profile", profile("native", "step"));
  add("profile", profile("native", "step", 20, 128));
  add("small", step("native", "svrnn-small", 4, 64));
  add("train", step("wasm", "svrnn", 4, 64), trainWasm);
  add("small", step("wasm", "svrnn-small", 4, 64), trainWasm);
  add("profile", profile("wasm", "step"), trainWasm);
  add("forward", forward("wasm"), slowWasm);
  // wasm's heap (4 GiB at most) may not hold a batch of 20 128x128 patches: last.
  add("small", step("wasm", "svrnn-small", batchSize, patchSize), trainWasm && slowWasm);
  add("train", step("wasm", "svrnn", 20, 128), trainWasm && slowWasm);

  let wasmDead = false;
  for (const row of rows) {
    if (row.backend === "wasm" || row.label.startsWith("conv")) {
      if (withWasm && result.wasm === null) result.wasm = await use("wasm");
    }
    if (row.backend === "wasm" && wasmDead) {
      result.notes.push(`${row.label}: skipped (the wasm backend aborted earlier)`);
      continue;
    }
    say(`native bench: ${row.label}`);
    try {
      await row.run();
    } catch (e) {
      const msg = (e as Error).message?.split("\n")[0] ?? String(e);
      result.notes.push(`${row.label}: failed: ${msg}`);
      say(`  failed: ${msg}`);
      if (row.backend === "wasm") wasmDead = true;
    }
  }

  // Speed-ups: wasm time over native time, rows measured in this process.
  if (result.conv?.speedupOverWasm) {
    result.speedups["conv 3x3 256->256 180x320"] = result.conv.speedupOverWasm;
  }
  const fw = (tag: string) => result.forward.find((f) => f.backend.startsWith(tag));
  if (fw("native") && fw("wasm")) {
    result.speedups[`svrnn forward ${size[1]}x${size[0]}`] = fw("wasm")!.timing.ms /
      fw("native")!.timing.ms;
  }
  for (const list of [result.train, result.small]) {
    const fused = list.filter((r) => r.update === "fused");
    for (const n of fused.filter((r) => r.backend.startsWith("native"))) {
      const w = fused.find((r) =>
        r.backend.startsWith("wasm") && r.batch === n.batch && r.patch === n.patch
      );
      if (w) {
        result.speedups[`${n.model} step b${n.batch} ${n.patch}x${n.patch}`] = w.timing.ms /
          n.timing.ms;
      }
    }
  }
  const same = (r: StepRecord) =>
    r.model === "svrnn" && r.batch === 4 && r.patch === 64 && r.backend.startsWith("native");
  const composite = result.train.find((r) => same(r) && r.update === "composite");
  const fusedStep = result.train.find((r) => same(r) && r.update === "fused");
  if (composite && fusedStep) {
    result.speedups["fused Adam update, svrnn step b4 64x64 (over tfjs's composite)"] =
      composite.timing.ms / fusedStep.timing.ms;
  }
  await initNativeBackend();
  return result;
}

/** A plain-text summary of a result. */
export function formatNativeBench(r: NativeBenchResult): string {
  const lines: string[] = [`native: ${r.native.detail}`, `wasm:   ${r.wasm ?? "not run"}`];
  if (r.conv) {
    const c = r.conv;
    lines.push(
      `conv ${c.shape}: native ${c.native.ms.toFixed(1)} ms (${
        c.native.gflops.toFixed(0)
      } GFLOP/s)` +
        (c.wasm
          ? `, wasm ${c.wasm.ms.toFixed(1)} ms (${c.wasm.gflops.toFixed(0)} GFLOP/s), x${
            c.speedupOverWasm!.toFixed(1)
          }`
          : "") +
        `; bare sgemm ${c.sgemmGflops.toFixed(0)} GFLOP/s`,
    );
  }
  for (const f of r.forward) {
    lines.push(
      `forward ${f.model} [${f.input}] ${f.backend}: ${(f.timing.ms / 1000).toFixed(2)} s, ` +
        `peak RSS ${f.peakRssMiB?.toFixed(0) ?? "?"} MiB`,
    );
  }
  for (const s of [...r.train, ...r.small]) {
    lines.push(
      `step ${s.model} batch ${s.batch} of ${s.patch}x${s.patch} ${s.backend}: ` +
        `${(s.timing.ms / 1000).toFixed(3)} s (${s.stepsPerSecond.toFixed(2)} steps/s)`,
    );
  }
  for (const [k, v] of Object.entries(r.speedups)) {
    lines.push(`speed-up over wasm, ${k}: x${v.toFixed(2)}`);
  }
  for (const p of r.profiles) {
    lines.push(
      `profile ${p.what} on ${p.backend}: wall ${p.wallMs.toFixed(0)} ms, kernels ${
        p.kernelMs.toFixed(0)
      } ms, peak tensors ${p.peakTensorMiB.toFixed(0)} MiB`,
    );
    for (const k of p.kernels.slice(0, 12)) {
      lines.push(
        `    ${k.kernel.padEnd(24)} ${k.ms.toFixed(1).padStart(9)} ms ${
          (100 * k.share).toFixed(1).padStart(5)
        }% ${String(k.calls).padStart(5)} calls`,
      );
    }
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { provenance, writeJsonAtomic } = await import("../records/provenance.ts");
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      reps: { type: "string", default: "5" },
      "slow-reps": { type: "string", default: "2" },
      wasm: { type: "string", default: "all" },
      size: { type: "string", default: "720,1280" },
      out: { type: "string", default: "results/bench" },
    },
  });
  const size = values.size!.split(",").map(Number) as [number, number];
  const result = await benchNative({
    parts: values.only?.split(",") as NativeBenchPart[] | undefined,
    reps: Number(values.reps),
    slowReps: Number(values["slow-reps"]),
    wasm: values.wasm as NativeBenchOptions["wasm"],
    forwardSize: size,
    progress: (m) => console.error(m),
  });
  const prov = await provenance(`deno run -A lib/bench/native.ts ${Deno.args.join(" ")}`.trim());
  const path = `${values.out}/native.json`;
  await writeJsonAtomic(path, { ...result, provenance: prov });
  console.error(formatNativeBench(result));
  console.error(`wrote ${path}`);
}
