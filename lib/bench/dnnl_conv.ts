/**
 * OpenBLAS (conv.ts) against oneDNN (dnnl_conv.ts) on every convolution the registered models
 * run, pass by pass, in one process: the table results/bench/dnnl_conv.json from which the
 * native backend picks its path per shape (kernels.ts, ConvChoices in dnnl_conv.ts).
 *
 * The shapes are not listed by hand: each workload (a training step of svrnn-small and
 * cnn-small at the studies' batch 8 of 64x64, svrnn's at batch 4 of 64x64 and batch 20 of
 * 128x128, the svrnn and svrnn-small forwards at 256x256 and 1280x720) runs once on the native backend with an observer on its conv kernels, which
 * records every pass's geometry and how often it ran. Each distinct (pass, geometry, bias,
 * activation) is then timed on OpenBLAS as kernels.ts runs it (with convThreads' thread
 * policy) and on oneDNN in each layout (dnnl_conv.ts: plain, blocked weights, all blocked;
 * reorders included), runs interleaved so that every path sees the same machine load, at one
 * thread and at all of them. A call shorter than a few milliseconds is repeated within a
 * sample. The first call of each path is left out: it builds oneDNN's primitives, which the
 * backend caches for the life of the process.
 *
 * oneDNN is chosen for a row when its best layout is at least CHOICE_MARGIN faster; within
 * that margin OpenBLAS stays (timings of one run vary by about that much, and OpenBLAS is the
 * arithmetic the shipped training logs were made with). Per workload the file sums conv time
 * (time x calls) on OpenBLAS, on the chosen paths and on oneDNN's best, and, as a check of the
 * sums, times whole training steps and forwards with the backend on "openblas" and on the
 * freshly measured table, interleaved.
 */
import * as tf from "@tensorflow/tfjs";
import { setTrainingMode } from "../backends/select.ts";
import { createModel } from "../models/registry.ts";
import type { DeblurModel } from "../models/model.ts";
import { DEFAULT_TRAIN_CONFIG } from "../train/config.ts";
import { trainStep } from "../train/step.ts";
import { RecipeAdam } from "../train/adam.ts";
import { describeNative, initNativeBackend } from "../backends/native/backend.ts";
import { defaultThreads, loadBlas } from "../backends/native/blas.ts";
import {
  type Activation,
  convBackpropFilter,
  convBackpropInput,
  convForward,
  type ConvGeometry,
  convThreads,
  type Epilogue,
} from "../backends/native/conv.ts";
import * as dnnlConv from "../backends/native/dnnl_conv.ts";
import {
  type ChoiceRow,
  ConvChoices,
  type ConvPass,
  DNNL_LAYOUTS,
  type DnnlLayout,
  dnnlSupports,
  layerSignature,
  outputPixels,
} from "../backends/native/dnnl_conv.ts";
import { loadDnnl } from "../backends/native/dnnl.ts";
import { type ConvPathMode, nativeSettings } from "../backends/native/kernels.ts";
import { median } from "../eval/stats.ts";

/** oneDNN must be this much faster (time ratio) before a row chooses it. */
export const CHOICE_MARGIN = 1.05;
/** A timed sample repeats short calls until it lasts at least this long. */
const SAMPLE_MS = 5;

export interface Workload {
  name: string;
  model: string;
  kind: "train" | "forward";
  batch: number;
  height: number;
  width: number;
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: "svrnn-small train b8 64x64",
    model: "svrnn-small",
    kind: "train",
    batch: 8,
    height: 64,
    width: 64,
  },
  {
    name: "cnn-small train b8 64x64",
    model: "cnn-small",
    kind: "train",
    batch: 8,
    height: 64,
    width: 64,
  },
  // svrnn's training shapes: the side-by-side bench's (bench/torch.ts) two train steps.
  {
    name: "svrnn train b4 64x64",
    model: "svrnn",
    kind: "train",
    batch: 4,
    height: 64,
    width: 64,
  },
  {
    name: "svrnn train b20 128x128",
    model: "svrnn",
    kind: "train",
    batch: 20,
    height: 128,
    width: 128,
  },
  {
    name: "svrnn-small forward 256x256",
    model: "svrnn-small",
    kind: "forward",
    batch: 1,
    height: 256,
    width: 256,
  },
  {
    name: "svrnn forward 256x256",
    model: "svrnn",
    kind: "forward",
    batch: 1,
    height: 256,
    width: 256,
  },
  {
    name: "svrnn-small forward 1280x720",
    model: "svrnn-small",
    kind: "forward",
    batch: 1,
    height: 720,
    width: 1280,
  },
  {
    name: "svrnn forward 1280x720",
    model: "svrnn",
    kind: "forward",
    batch: 1,
    height: 720,
    width: 1280,
  },
];

/** One distinct conv pass the workloads run. */
export interface ConvShape {
  pass: ConvPass;
  geometry: ConvGeometry;
  activation: Activation | null;
  bias: boolean;
  /** Calls per workload run, by workload name. */
  calls: Record<string, number>;
}

export interface ConvRow extends ChoiceRow {
  layer: string;
  outputPixels: number;
  activation: Activation | null;
  bias: boolean;
  calls: Record<string, number>;
  /** Median ms per call, OpenBLAS as kernels.ts runs it, and its threads. */
  openblasMs: number;
  openblasThreads: number;
  /** Median ms per call on oneDNN, by layout (null: the layout failed; see notes). */
  dnnlMs: Record<DnnlLayout, number | null>;
  /** oneDNN's implementation per layout (dnnl_primitive_desc_query impl_info_str). */
  dnnlImpl: Record<DnnlLayout, string | null>;
  /** The fastest layout, or a less blocked one within CHOICE_MARGIN of it. */
  bestLayout: DnnlLayout | null;
  /** openblasMs / the time in bestLayout (> 1: oneDNN faster). */
  ratio: number | null;
}

export interface WorkloadTotal {
  workload: string;
  threads: number;
  convCalls: number;
  /** Sum over the workload's conv calls of time x calls, ms. */
  openblasMs: number;
  chosenMs: number;
  dnnlBestMs: number;
  speedup: number;
}

export interface EndToEnd {
  workload: string;
  threads: number;
  /** Median ms of the whole step or forward, per mode, runs interleaved. */
  openblasMs: number;
  tableMs: number;
  runs: { openblas: number[]; table: number[] };
  speedup: number;
}

export interface DnnlConvBenchResult {
  benchmark: "dnnl_conv";
  description: string;
  native: string;
  dnnl: string;
  choiceMargin: number;
  sizeFactor: number;
  workloads: Workload[];
  records: ConvRow[];
  totals: WorkloadTotal[];
  endToEnd: EndToEnd[];
  /** 1-minute load averages when the run started and ended (other jobs on the machine). */
  loadAverage: { start: number | null; end: number | null };
  notes: string[];
}

export interface DnnlConvBenchOptions {
  /** Timed samples per path (median); default 5. */
  reps?: number;
  /** Thread counts (default 1 and defaultThreads(), deduplicated). */
  threads?: number[];
  /** Workloads, by name from WORKLOADS or given whole (default all of WORKLOADS). */
  workloads?: (string | Workload)[];
  /** Whole-step checks: default true. */
  endToEnd?: boolean;
  progress?: (msg: string) => void;
}

// ---------------------------------------------------------------------------------------
// Collecting the shapes.

function inputs(w: Workload, seed: number): tf.Tensor4D {
  return tf.randomUniform([w.batch, w.height, w.width, 3], 0, 1, "float32", seed) as tf.Tensor4D;
}

async function runWorkload(w: Workload, model: DeblurModel, optimizer: RecipeAdam | null) {
  if (w.kind === "forward") {
    const x = inputs(w, 3);
    const y = model.forward(x);
    y.dataSync();
    tf.dispose([x, y]);
    return;
  }
  const cfg = { ...DEFAULT_TRAIN_CONFIG, model: w.model, batchSize: w.batch, patchSize: w.height };
  const blurry = inputs(w, 4), sharp = inputs(w, 5);
  await trainStep(model, optimizer!, blurry, sharp, cfg, cfg.learningRate);
  tf.dispose([blurry, sharp]);
}

function shapeKey(pass: ConvPass, g: ConvGeometry, activation: Activation | null, bias: boolean) {
  return `${pass}|${JSON.stringify(g)}|${activation}|${bias}`;
}

/** Runs each workload once under an observer of the conv kernels; its distinct passes. */
export async function collectShapes(workloads: readonly Workload[]): Promise<ConvShape[]> {
  const shapes = new Map<string, ConvShape>();
  const saved = { conv: nativeSettings.conv, onConv: nativeSettings.onConv };
  nativeSettings.conv = "openblas";
  try {
    for (const w of workloads) {
      const model = createModel(w.model) as DeblurModel;
      const cfg = DEFAULT_TRAIN_CONFIG;
      const optimizer = w.kind === "train"
        ? new RecipeAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon)
        : null;
      await setTrainingMode(w.kind === "train");
      nativeSettings.onConv = (pass, g, { activation, bias }) => {
        const key = shapeKey(pass, g, activation, bias);
        let s = shapes.get(key);
        if (!s) {
          s = { pass, geometry: { ...g }, activation, bias, calls: {} };
          shapes.set(key, s);
        }
        s.calls[w.name] = (s.calls[w.name] ?? 0) + 1;
      };
      try {
        await runWorkload(w, model, optimizer);
      } finally {
        nativeSettings.onConv = null;
        await setTrainingMode(false);
        optimizer?.dispose();
        model.dispose();
      }
    }
  } finally {
    Object.assign(nativeSettings, saved);
  }
  return [...shapes.values()];
}

// ---------------------------------------------------------------------------------------
// Timing one shape.

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

interface Arrays {
  x: Float32Array;
  w: Float32Array;
  y: Float32Array;
  ep: Epilogue | null;
}

function arraysFor(s: ConvShape): Arrays {
  const g = s.geometry;
  const nx = g.batch * g.inH * g.inW * g.inC;
  const nw = g.kH * g.kW * g.inC * g.outC;
  const ny = g.batch * g.outH * g.outW * g.outC;
  const ep: Epilogue | null = s.pass === "forward" && (s.activation !== null || s.bias)
    ? {
      bias: s.bias ? filled(g.outC, 7) : null,
      activation: s.activation ?? "linear",
      alpha: 0.1,
      prelu: s.activation === "prelu" ? filled(g.outC, 8) : null,
    }
    : null;
  return { x: filled(nx, 1), w: filled(nw, 2), y: filled(ny, 3), ep };
}

/** The pass on OpenBLAS, with the threads kernels.ts would give it. */
function openblasRunner(s: ConvShape, a: Arrays, available: number) {
  const blas = loadBlas();
  const g = s.geometry;
  const threads = convThreads(g, s.pass, available);
  const opts = { gemm: blas.sgemm, chunkBytes: nativeSettings.chunkBytes };
  // Buffers in the roles of each pass: forward (x, w) -> y; input (dy = y, w) -> dx = x;
  // filter (x, dy = y) -> dw = w.
  const run = s.pass === "forward"
    ? () => convForward(g, a.x, a.w, a.y, a.ep, opts)
    : s.pass === "input"
    ? () => convBackpropInput(g, a.y, a.w, a.x, opts)
    : () => convBackpropFilter(g, a.x, a.y, a.w, opts);
  return {
    threads,
    run: () => {
      blas.setThreads(threads);
      run();
    },
  };
}

function dnnlRunner(s: ConvShape, a: Arrays, layout: DnnlLayout, threads: number) {
  const g = s.geometry;
  const opts = { layout, threads, rejectReference: true };
  if (s.pass === "forward") return () => dnnlConv.convForward(g, a.x, a.w, a.y, a.ep, opts);
  if (s.pass === "input") return () => dnnlConv.convBackpropInput(g, a.y, a.w, a.x, opts);
  return () => dnnlConv.convBackpropFilter(g, a.x, a.y, a.w, opts);
}

/**
 * Median ms per call of each runner, samples interleaved across runners. Each runner has run
 * once already (the warm-up that builds oneDNN's primitives and faults in scratch).
 */
function timeInterleaved(runners: (() => void)[], reps: number): number[] {
  const samples: number[][] = runners.map(() => []);
  const inner = runners.map((r, i) => {
    const t = performance.now();
    r();
    const ms = performance.now() - t;
    if (ms >= SAMPLE_MS) samples[i].push(ms); // long enough to be a sample itself
    return Math.max(1, Math.min(1000, Math.ceil(SAMPLE_MS / Math.max(ms, 1e-3))));
  });
  // Calls of a tenth of a second and more vary little next to their length: 3 samples.
  const want = Math.max(0, ...samples.flat()) > 100 ? Math.min(reps, 3) : reps;
  while (samples.some((x) => x.length < want)) {
    runners.forEach((r, i) => {
      if (samples[i].length >= want) return;
      const t = performance.now();
      for (let k = 0; k < inner[i]; k++) r();
      samples[i].push((performance.now() - t) / inner[i]);
    });
  }
  return samples.map(median);
}

function measureShape(
  s: ConvShape,
  threads: number,
  reps: number,
  notes: string[],
): ConvRow {
  const a = arraysFor(s);
  const g = s.geometry;
  const ob = openblasRunner(s, a, threads);
  const layouts: DnnlLayout[] = [];
  const impls = new Map<DnnlLayout, string | null>();
  const runners: (() => void)[] = [ob.run];
  const available = loadBlas().threads();
  try {
    ob.run(); // warm-up
  } finally {
    loadBlas().setThreads(available);
  }
  for (const layout of DNNL_LAYOUTS) {
    if (!dnnlSupports(g)) break;
    const r = dnnlRunner(s, a, layout, threads);
    try {
      r();
    } catch (e) {
      notes.push(`${s.pass} ${layerSignature(g)} ${layout}: ${(e as Error).message}`);
      continue;
    }
    impls.set(layout, dnnlConv.lastPlan()?.impl ?? null);
    layouts.push(layout);
    runners.push(r);
  }
  let times: number[];
  try {
    times = timeInterleaved(runners, reps);
  } finally {
    loadBlas().setThreads(available);
  }
  const dnnlMs = { plain: null, weights: null, any: null } as Record<DnnlLayout, number | null>;
  const dnnlImpl = { plain: null, weights: null, any: null } as Record<DnnlLayout, string | null>;
  layouts.forEach((l, i) => {
    dnnlMs[l] = times[i + 1];
    dnnlImpl[l] = impls.get(l) ?? null;
  });
  // Layouts in order of the reorders and scratch they add (plain, weights, any): a later one
  // must beat the one kept by the margin, or its blocked copies of the activations (470 MB
  // for a 64-channel map at 1280x720) buy nothing measurable.
  let bestLayout: DnnlLayout | null = null;
  for (const l of layouts) {
    if (bestLayout === null || dnnlMs[l]! * CHOICE_MARGIN <= dnnlMs[bestLayout]!) bestLayout = l;
  }
  const openblasMs = times[0];
  const ratio = bestLayout ? openblasMs / dnnlMs[bestLayout]! : null;
  const choice = ratio !== null && ratio >= CHOICE_MARGIN ? "dnnl" : "openblas";
  return {
    pass: s.pass,
    layer: layerSignature(g),
    outputPixels: outputPixels(g),
    geometry: g,
    activation: s.activation,
    bias: s.bias,
    calls: s.calls,
    threads,
    openblasMs,
    openblasThreads: ob.threads,
    dnnlMs,
    dnnlImpl,
    bestLayout,
    ratio,
    choice,
    layout: choice === "dnnl" ? bestLayout : null,
  };
}

// ---------------------------------------------------------------------------------------
// Sums and whole-step checks.

function totals(rows: ConvRow[], workloads: readonly Workload[]): WorkloadTotal[] {
  const out: WorkloadTotal[] = [];
  const threadSet = [...new Set(rows.map((r) => r.threads))];
  for (const w of workloads) {
    for (const threads of threadSet) {
      let openblasMs = 0, chosenMs = 0, dnnlBestMs = 0, convCalls = 0;
      for (const r of rows.filter((r) => r.threads === threads)) {
        const n = r.calls[w.name] ?? 0;
        if (n === 0) continue;
        convCalls += n;
        openblasMs += n * r.openblasMs;
        chosenMs += n * (r.choice === "dnnl" ? r.dnnlMs[r.layout!]! : r.openblasMs);
        dnnlBestMs += n * (r.bestLayout ? r.dnnlMs[r.bestLayout]! : r.openblasMs);
      }
      if (convCalls === 0) continue;
      out.push({
        workload: w.name,
        threads,
        convCalls,
        openblasMs,
        chosenMs,
        dnnlBestMs,
        speedup: openblasMs / chosenMs,
      });
    }
  }
  return out;
}

async function endToEnd(
  w: Workload,
  threads: number,
  choices: ConvChoices,
  reps: number,
): Promise<EndToEnd> {
  const blas = loadBlas();
  const available = blas.threads();
  const saved = { conv: nativeSettings.conv, choices: nativeSettings.choices };
  const model = createModel(w.model) as DeblurModel;
  const cfg = DEFAULT_TRAIN_CONFIG;
  const optimizer = w.kind === "train"
    ? new RecipeAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon)
    : null;
  const runs: Record<"openblas" | "table", number[]> = { openblas: [], table: [] };
  blas.setThreads(threads);
  nativeSettings.choices = choices;
  await setTrainingMode(w.kind === "train");
  try {
    for (let rep = 0; rep <= reps; rep++) {
      for (const mode of ["openblas", "table"] as ConvPathMode[]) {
        nativeSettings.conv = mode;
        const t = performance.now();
        await runWorkload(w, model, optimizer);
        const ms = performance.now() - t;
        if (rep > 0) runs[mode as "openblas" | "table"].push(ms);
      }
    }
  } finally {
    await setTrainingMode(false);
    Object.assign(nativeSettings, saved);
    blas.setThreads(available);
    optimizer?.dispose();
    model.dispose();
  }
  const openblasMs = median(runs.openblas), tableMs = median(runs.table);
  return { workload: w.name, threads, openblasMs, tableMs, runs, speedup: openblasMs / tableMs };
}

function loadAverage(): number | null {
  try {
    return Deno.loadavg()[0];
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------

/** Collects the shapes, times them, sums per workload and checks whole steps. */
export async function benchDnnlConv(
  options: DnnlConvBenchOptions = {},
): Promise<DnnlConvBenchResult> {
  const say = options.progress ?? (() => {});
  const reps = options.reps ?? 5;
  const info = await initNativeBackend();
  const dnnl = loadDnnl();
  const workloads = (options.workloads ?? [...WORKLOADS]).map((w) => {
    if (typeof w !== "string") return w;
    const found = WORKLOADS.find((x) => x.name === w);
    if (!found) {
      throw new Error(`dnnl_conv bench: unknown workload "${w}" (${WORKLOADS.map((x) => x.name)})`);
    }
    return found;
  });
  const all = defaultThreads();
  const threadList = options.threads ?? [...new Set([1, all])];
  const notes: string[] = [];
  const loadStart = loadAverage();
  say(`dnnl_conv: collecting conv shapes of ${workloads.length} workloads`);
  const shapes = await collectShapes(workloads);
  say(`dnnl_conv: ${shapes.length} distinct passes`);
  const records: ConvRow[] = [];
  for (const threads of threadList) {
    for (const [i, s] of shapes.entries()) {
      const r = measureShape(s, threads, reps, notes);
      records.push(r);
      say(
        `  [t${threads} ${i + 1}/${shapes.length}] ${r.pass.padEnd(7)} ${r.layer.padEnd(26)} ` +
          `${String(r.outputPixels).padStart(7)} px  openblas ${r.openblasMs.toFixed(3)} ms  ` +
          `dnnl ${DNNL_LAYOUTS.map((l) => r.dnnlMs[l]?.toFixed(3) ?? "-").join("/")}  ` +
          `x${r.ratio?.toFixed(2) ?? "-"} -> ${r.choice}${r.layout ? ` (${r.layout})` : ""}`,
      );
    }
  }
  const sums = totals(records, workloads);
  const e2e: EndToEnd[] = [];
  if (options.endToEnd ?? true) {
    const choices = new ConvChoices(records);
    for (const threads of threadList) {
      for (const w of workloads) {
        // The 1280x720 forwards take seconds each: checked at all threads only.
        const big = w.batch * w.height * w.width > 256 * 256;
        if (big && threads !== all) continue;
        say(`dnnl_conv: whole ${w.name}, ${threads} thread(s), openblas vs table`);
        const r = await endToEnd(w, threads, choices, big ? 2 : reps);
        e2e.push(r);
        say(
          `  openblas ${r.openblasMs.toFixed(0)} ms, table ${r.tableMs.toFixed(0)} ms, ` +
            `x${r.speedup.toFixed(2)}`,
        );
      }
    }
  }
  return {
    benchmark: "dnnl_conv",
    description: "conv passes of the registered models on OpenBLAS (conv.ts, as kernels.ts runs " +
      "it) vs oneDNN (dnnl_conv.ts, three layouts, reorders included), same process, " +
      "interleaved; median ms per call",
    native: describeNative(info),
    dnnl: `oneDNN ${dnnl.version} (${dnnl.library}, ${dnnl.runtime} runtime)`,
    choiceMargin: CHOICE_MARGIN,
    sizeFactor: dnnlConv.CHOICE_SIZE_FACTOR,
    workloads,
    records,
    totals: sums,
    endToEnd: e2e,
    loadAverage: { start: loadStart, end: loadAverage() },
    notes,
  };
}

/** A plain-text summary. */
export function formatDnnlConvBench(r: DnnlConvBenchResult): string {
  const lines = [
    `native: ${r.native}`,
    `oneDNN: ${r.dnnl}`,
    `load average: ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end`,
  ];
  for (const t of r.totals) {
    lines.push(
      `${t.workload}, ${t.threads} thread(s): conv ${t.openblasMs.toFixed(1)} ms on OpenBLAS, ` +
        `${t.chosenMs.toFixed(1)} ms chosen (x${t.speedup.toFixed(2)}), ` +
        `${t.dnnlBestMs.toFixed(1)} ms all oneDNN (${t.convCalls} calls)`,
    );
  }
  for (const e of r.endToEnd) {
    lines.push(
      `whole ${e.workload}, ${e.threads} thread(s): ${e.openblasMs.toFixed(0)} ms OpenBLAS, ` +
        `${e.tableMs.toFixed(0)} ms with the table (x${e.speedup.toFixed(2)})`,
    );
  }
  const chosen = r.records.filter((x) => x.choice === "dnnl").length;
  lines.push(`oneDNN chosen for ${chosen} of ${r.records.length} rows`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { provenance, writeJsonAtomic } = await import("../records/provenance.ts");
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      reps: { type: "string", default: "5" },
      threads: { type: "string" },
      workloads: { type: "string" },
      "no-end-to-end": { type: "boolean" },
      out: { type: "string", default: "results/bench" },
    },
  });
  const result = await benchDnnlConv({
    reps: Number(values.reps),
    threads: values.threads?.split(",").map(Number),
    workloads: values.workloads?.split(";"),
    endToEnd: !values["no-end-to-end"],
    progress: (m) => console.error(m),
  });
  const prov = await provenance(`deno run -A lib/bench/dnnl_conv.ts ${Deno.args.join(" ")}`.trim());
  const path = `${values.out}/dnnl_conv.json`;
  await writeJsonAtomic(path, { ...result, provenance: prov });
  console.error(formatDnnlConvBench(result));
  console.error(`wrote ${path}`);
}
