/**
 * The measurements of the GPU run (bench/gpu.sh, docs/backends.md#the-gpu-run), on tfjs's webgpu
 * backend: the adapter, the gate scan's bandwidth, the svrnn forward, an svrnn training step and
 * svrnn-small's training throughput, plus the plan that turns that throughput into a number of
 * training steps for the rest of the time budget. The command around them is
 * lib/cli/bench_gpu.ts.
 *
 * Every time is measured here; the one figure written in is the card's peak bandwidth
 * (CARD_BANDWIDTH), the vendor's spec, so the gate scan can be read as a fraction of it.
 */
import * as tf from "@tensorflow/tfjs";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import { benchKernel, type GateRnnRecord, timeIt } from "./gate_rnn.ts";
import { createModel } from "../models/registry.ts";
import type { DeblurModel } from "../models/model.ts";
import { timeInference } from "../eval/speed.ts";
import { median } from "../eval/stats.ts";
import { syncBackend } from "../eval/timing.ts";
import { DEFAULT_TRAIN_CONFIG } from "../train/config.ts";
import { RECIPE_ADAM, RecipeAdam } from "../train/adam.ts";
import { trainStep } from "../train/step.ts";

/** What is measured at which size: the shapes, or tiny ones for llvmpipe. */
export interface GpuShapes {
  /** Gate scan tensor [N, H, W, C]. */
  gate: number[];
  gateReps: number;
  forward: { model: string; width: number; height: number; reps: number };
  step: { model: string; batch: number; patch: number; reps: number };
  throughput: { model: string; batch: number; patch: number; steps: number };
}

/**
 * The issue's sizes: the gate scan on the half-resolution feature map of a 1280x720 frame, the
 * paper's batch for the svrnn step, the controlled recipes' batch and patch for svrnn-small.
 */
export const FULL_SHAPES: GpuShapes = {
  gate: [1, 360, 640, 32],
  gateReps: 20,
  forward: { model: "svrnn", width: 1280, height: 720, reps: 3 },
  step: { model: "svrnn", batch: 20, patch: 128, reps: 3 },
  throughput: { model: "svrnn-small", batch: 8, patch: 64, steps: 30 },
};

/** Small enough for Mesa's software adapter to finish in seconds; the same code paths. */
export const QUICK_SHAPES: GpuShapes = {
  gate: [1, 36, 64, 8],
  gateReps: 3,
  forward: { model: "svrnn", width: 64, height: 32, reps: 1 },
  step: { model: "svrnn", batch: 1, patch: 16, reps: 1 },
  throughput: { model: "svrnn-small", batch: 2, patch: 16, steps: 3 },
};

/**
 * Peak memory bandwidth by adapter description, bytes/s: the vendor's spec figures, not
 * measurements (first match wins, so the PCIe H100 comes before the SXM one).
 */
export const CARD_BANDWIDTH: readonly { match: RegExp; card: string; bytesPerSec: number }[] = [
  { match: /\bH200\b/i, card: "NVIDIA H200 (HBM3e), vendor spec", bytesPerSec: 4.8e12 },
  {
    match: /\bH100\b.*\bPCIe\b/i,
    card: "NVIDIA H100 PCIe (HBM2e), vendor spec",
    bytesPerSec: 2.0e12,
  },
  { match: /\bH100\b/i, card: "NVIDIA H100 SXM (HBM3), vendor spec", bytesPerSec: 3.35e12 },
];

export interface PeakBandwidth {
  card: string;
  bytesPerSec: number;
  source: "vendor spec (CARD_BANDWIDTH in lib/bench/gpu.ts), not measured";
}

/** The spec bandwidth of the first table row whose pattern matches, or null. */
export function peakBandwidth(...names: (string | undefined)[]): PeakBandwidth | null {
  const text = names.filter(Boolean).join(" ");
  const row = CARD_BANDWIDTH.find((r) => r.match.test(text));
  return row
    ? {
      card: row.card,
      bytesPerSec: row.bytesPerSec,
      source: "vendor spec (CARD_BANDWIDTH in lib/bench/gpu.ts), not measured",
    }
    : null;
}

export interface AdapterRecord {
  /** navigator.gpu.requestAdapter({powerPreference: "high-performance"}).info, as tfjs asks. */
  info: { vendor: string; architecture: string; device: string; description: string };
  /** The PCI vendor id in hex when `vendor` is numeric, as Deno's wgpu gives it (NVIDIA 0x10de). */
  vendorId: string | null;
  isFallbackAdapter: boolean;
  /** tfjs-backend-webgpu's own view (WebGPUBackend.adapterInfo). */
  tfjs: { vendor: string; architecture: string; intelGPUGeneration: number } | null;
  /** The device tfjs created: its features and the limits that bound tensor sizes. */
  features: string[];
  limits: Record<string, number>;
  supportTimestampQuery: boolean | null;
  peak: PeakBandwidth | null;
}

const LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupStorageSize",
] as const;

/** The adapter behind the current webgpu backend (call after initBackend("webgpu")). */
export async function describeAdapter(): Promise<AdapterRecord> {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("webgpu: requestAdapter gave no adapter");
  const raw = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const info = {
    vendor: raw.vendor ?? "",
    architecture: raw.architecture ?? "",
    device: raw.device ?? "",
    description: raw.description ?? "",
  };
  const backend = tf.getBackend() === "webgpu" ? tf.backend() as unknown as WebGPUBackend : null;
  const tfjsInfo = backend
    ? backend.adapterInfo as unknown as {
      vendor: string;
      architecture: string;
      intelGPUGeneration: number;
    }
    : null;
  const device = backend?.device;
  const limits: Record<string, number> = {};
  for (const k of LIMITS) limits[k] = Number((device?.limits ?? adapter.limits)[k]);
  return {
    info,
    vendorId: /^\d+$/.test(info.vendor) ? `0x${Number(info.vendor).toString(16)}` : null,
    isFallbackAdapter: Boolean(raw.isFallbackAdapter),
    tfjs: tfjsInfo
      ? {
        vendor: tfjsInfo.vendor,
        architecture: tfjsInfo.architecture,
        intelGPUGeneration: tfjsInfo.intelGPUGeneration,
      }
      : null,
    features: [...(device?.features ?? adapter.features)].map(String).sort(),
    limits,
    supportTimestampQuery: backend
      ? (backend as unknown as { supportTimestampQuery: boolean }).supportTimestampQuery
      : null,
    peak: peakBandwidth(info.description, info.device),
  };
}

export interface GateScanRecord extends GateRnnRecord {
  /** gbPerS over the card's spec bandwidth, or null when the card is not in CARD_BANDWIDTH. */
  fractionOfPeak: number | null;
}

/**
 * The gate-recurrent kernel, four directions, forward and backward (lib/bench/gate_rnn.ts,
 * whose byte count is used: 12 bytes per element per direction forward, 28 backward).
 */
export async function benchGateScan(
  shape: number[],
  reps: number,
  peak: PeakBandwidth | null,
): Promise<GateScanRecord[]> {
  const records = await benchKernel(shape, reps);
  return records.map((r) => ({
    ...r,
    fractionOfPeak: peak ? r.gbPerS * 1e9 / peak.bytesPerSec : null,
  }));
}

export interface ForwardRecord {
  model: string;
  params: number;
  input: number[];
  /** Median of the timed runs after one warm-up, ms (lib/eval/speed.ts timeInference). */
  ms: number;
  runsMs: number[];
  megapixelsPerSec: number;
}

export async function benchForward(
  opts: GpuShapes["forward"],
): Promise<ForwardRecord> {
  const model = createModel(opts.model) as DeblurModel;
  try {
    const r = await timeInference(model, {
      width: opts.width,
      height: opts.height,
      repeats: opts.reps,
    });
    return {
      model: opts.model,
      params: r.params,
      input: [1, opts.height, opts.width, 3],
      ms: r.ms,
      runsMs: r.runs,
      megapixelsPerSec: opts.width * opts.height / 1e6 / (r.ms / 1000),
    };
  } finally {
    model.dispose();
  }
}

export interface StepRecord {
  model: string;
  batch: number;
  patch: number;
  /** The first step of a fresh model: pipeline compilation and buffer growth included, ms. */
  firstStepMs: number;
  /** Median of the timed steps, ms. */
  ms: number;
  runsMs: number[];
  stepsPerSec: number;
  patchesPerSec: number;
  /** The optimizer update: the fused kernel where the backend has one, else tfjs ops. */
  update: "fused" | "composite";
}

/** trainStep (lib/train/step.ts) with the recipe's defaults, on random patches. */
export async function benchStep(
  modelName: string,
  batch: number,
  patch: number,
  reps: number,
): Promise<StepRecord> {
  const model = createModel(modelName) as DeblurModel;
  const blurry = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 4) as tf.Tensor4D;
  const sharp = tf.randomUniform([batch, patch, patch, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const cfg = { ...DEFAULT_TRAIN_CONFIG, model: modelName, batchSize: batch, patchSize: patch };
  const optimizer = new RecipeAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  try {
    const step = async () => {
      await trainStep(model, optimizer, blurry, sharp, cfg, cfg.learningRate);
      // trainStep waits for the loss; the weight update it queues after that may still run.
      await syncBackend();
    };
    const t0 = performance.now();
    const runsMs = await timeIt(step, reps);
    const total = runsMs.reduce((a, b) => a + b, 0);
    // timeIt's untimed warm-up is what is left of its wall time.
    const firstStepMs = performance.now() - t0 - total;
    return {
      model: modelName,
      batch,
      patch,
      firstStepMs,
      ms: median(runsMs),
      runsMs,
      stepsPerSec: runsMs.length * 1000 / total,
      patchesPerSec: runsMs.length * batch * 1000 / total,
      update: tf.getKernel(RECIPE_ADAM, tf.getBackend()) ? "fused" : "composite",
    };
  } finally {
    optimizer.dispose();
    tf.dispose([blurry, sharp]);
    model.dispose();
  }
}

export interface TrainPlan {
  steps: number;
  /** Seconds given to the training command, its start-up included. */
  seconds: number;
  /** Seconds set aside for the command's start (a new process compiles its pipelines again). */
  startupSec: number;
  /** Fraction of the measured rate counted on (data sampling and logging run between steps). */
  rateShare: number;
  /** Steps per second it was planned from (the throughput measurement). */
  stepsPerSec: number;
}

/**
 * Steps that fit in `seconds` at a share of the measured rate, after the new process's start,
 * which is counted as the data load plus a cold first step (`firstStepMs`) twice over.
 */
export function planTraining(
  seconds: number,
  rate: { stepsPerSec: number; firstStepMs: number },
  opts: { dataLoadSec?: number; rateShare?: number; maxSteps?: number } = {},
): TrainPlan {
  const rateShare = opts.rateShare ?? 0.8;
  const startupSec = (opts.dataLoadSec ?? 0) + 2 * rate.firstStepMs / 1000;
  const usable = Math.max(0, seconds - startupSec);
  let steps = Math.floor(usable * rate.stepsPerSec * rateShare);
  if (opts.maxSteps !== undefined) steps = Math.min(steps, opts.maxSteps);
  return { steps, seconds, startupSec, rateShare, stepsPerSec: rate.stepsPerSec };
}
