/**
 * The training loop: seeded, resumable to the bit, logged, and safe to kill.
 *
 * State on disk, in `outDir`:
 *   last.safetensors  weights + Adam state + step, written every `checkpointEvery` steps
 *   best.safetensors  the weights with the best validation PSNR so far
 *   log.jsonl         one JSON record per logged step and per validation
 * Every checkpoint is written to a temporary file and renamed, so a process killed while
 * writing leaves the previous checkpoint intact. Batches are a pure function of
 * (seed, step), so a run resumed from step k sees exactly the batches an uninterrupted
 * run would have seen.
 */
import * as tf from "@tensorflow/tfjs";
import type { DeblurModel } from "../models/model.ts";
import { learningRateAt, type TrainConfig } from "./config.ts";
import { trainStep } from "./step.ts";
import { setTrainingMode } from "../backends/select.ts";
import { RecipeAdam } from "./adam.ts";
import { type CheckpointState, readTrainingState, writeTrainingState } from "./state.ts";
import { psnr } from "../eval/metrics.ts";
import { loadCheckpoint } from "../models/checkpoint.ts";
import type { RgbImage } from "../data/image.ts";
import { exists } from "../data/image_io.ts";
import type { TrainLogRecord } from "../records/formats.ts";

export interface TrainData {
  /** The batch of step `step` (0-based): deterministic in (seed, step). Caller disposes. */
  batch(step: number): Promise<{ blurry: tf.Tensor4D; sharp: tf.Tensor4D }>;
  /** Whole validation images (a handful), scored by mean PSNR of the clipped prediction. */
  validation: { name: string; blurry: RgbImage; sharp: RgbImage }[];
}

/** A record of log.jsonl; its format is results/training/NAME.jsonl's (records/formats.ts). */
export type LogRecord = TrainLogRecord;

export interface TrainOptions {
  config: TrainConfig;
  model: DeblurModel;
  data: TrainData;
  outDir: string;
  /** Continue from outDir/last.safetensors when it exists (default true). */
  resume?: boolean;
  /**
   * Checkpoint whose weights a new run starts from (fine-tuning: fresh Adam state and
   * schedule). Ignored when the run resumes: its weights are already in last.safetensors.
   */
  initFrom?: string;
  /** Stop after this many steps in total (default: config.steps); for staged runs. */
  stopAt?: number;
  /** Extra metadata stored in every checkpoint (provenance, data description). */
  metadata?: Record<string, unknown>;
  /** Called after every logged record (progress bars, notebooks). */
  onLog?: (r: LogRecord, total: number) => void;
}

export interface TrainResult {
  /** Steps completed in total (including those before a resume). */
  step: number;
  resumedFrom: number;
  bestValPsnr: number | null;
  /** Mean PSNR of the validation inputs themselves (the blurry images); null without any. */
  inputValPsnr: number | null;
  /** This run's last validation (step and mean PSNR), or null when it validated none. */
  lastVal: { step: number; psnr: number } | null;
  /** Why the loop ended: "done" (reached stopAt) or "non-finite" (NaN/Inf loss). */
  status: "done" | "non-finite";
  message: string;
}

/** Mean PSNR (dB) of the validation inputs (blurry against sharp): what a model must beat. */
export function inputPsnr(pairs: TrainData["validation"]): number | null {
  if (pairs.length === 0) return null;
  return pairs.reduce((sum, p) => sum + psnr(p.blurry, p.sharp), 0) / pairs.length;
}

/**
 * Mean PSNR (dB) of the clipped predictions on the validation images (read back with
 * `data()`, which WebGPU in Deno needs).
 */
export async function validate(
  model: DeblurModel,
  pairs: TrainData["validation"],
): Promise<number> {
  let total = 0;
  for (const p of pairs) {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(p.blurry.data, [1, p.blurry.height, p.blurry.width, 3]);
      return tf.clipByValue(model.predict(x), 0, 1);
    });
    const pred = {
      width: p.sharp.width,
      height: p.sharp.height,
      data: await out.data() as Float32Array,
    };
    out.dispose();
    total += psnr(pred, p.sharp);
  }
  return total / pairs.length;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config: cfg, model, data, outDir } = opts;
  const stopAt = Math.min(opts.stopAt ?? cfg.steps, cfg.steps);
  await Deno.mkdir(outDir, { recursive: true });
  const lastPath = `${outDir}/last.safetensors`;
  const bestPath = `${outDir}/best.safetensors`;
  const logPath = `${outDir}/log.jsonl`;

  const optimizer = new RecipeAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  let step = 0;
  let bestValPsnr: number | null = null;
  if ((opts.resume ?? true) && await exists(lastPath)) {
    const state = await readTrainingState(model, optimizer, lastPath, cfg);
    step = state.step;
    bestValPsnr = state.bestValPsnr;
    await truncateLog(logPath, step);
  } else {
    if (opts.initFrom) {
      const { optimizer: ignored } = await loadCheckpoint(model, opts.initFrom);
      tf.dispose(Object.values(ignored));
    }
    await Deno.writeTextFile(logPath, "");
  }
  const resumedFrom = step;
  const inputValPsnr = inputPsnr(data.validation);
  let lastVal: TrainResult["lastVal"] = null;
  const log = async (r: LogRecord) => {
    await Deno.writeTextFile(logPath, JSON.stringify(r) + "\n", { append: true });
    opts.onLog?.(r, stopAt);
  };
  const save = async (path: string) => {
    const state: CheckpointState = { step, bestValPsnr, config: cfg, ...opts.metadata };
    await writeTrainingState(model, optimizer, path, state);
  };

  const t0 = performance.now();
  let windowStart = performance.now();
  let windowSteps = 0;
  await setTrainingMode(true);
  try {
    while (step < stopAt) {
      const lr = learningRateAt(cfg, step);
      const { blurry, sharp } = await data.batch(step);
      const r = await trainStep(model, optimizer, blurry, sharp, cfg, lr);
      tf.dispose([blurry, sharp]);
      if (!r.applied) {
        const message =
          `non-finite ${Number.isFinite(r.loss) ? "gradient" : "loss"} (loss ${r.loss}, ` +
          `gradient norm ${r.gradNorm}) at step ${step + 1}; weights left at step ${step}, ` +
          `last good checkpoint: ${(await exists(lastPath)) ? lastPath : "none"}`;
        await log({ step, kind: "stop", message });
        return {
          step,
          resumedFrom,
          bestValPsnr,
          inputValPsnr,
          lastVal,
          status: "non-finite",
          message,
        };
      }
      step += 1;
      windowSteps += 1;
      if (step % cfg.logEvery === 0 || step === stopAt) {
        const now = performance.now();
        await log({
          step,
          kind: "train",
          loss: r.loss,
          lr,
          gradNorm: r.gradNorm,
          clipped: r.clipped,
          patchesPerSec: (windowSteps * cfg.batchSize) / ((now - windowStart) / 1000),
          elapsedSec: (now - t0) / 1000,
        });
        windowStart = now;
        windowSteps = 0;
      }
      // Every valEvery steps and at the last step, so a run always ends validated.
      const valDue = step % cfg.valEvery === 0 || step === cfg.steps;
      if (cfg.valEvery > 0 && data.validation.length > 0 && valDue) {
        const valPsnr = await validate(model, data.validation);
        lastVal = { step, psnr: valPsnr };
        await log({ step, kind: "val", valPsnr });
        if (bestValPsnr === null || valPsnr > bestValPsnr) {
          bestValPsnr = valPsnr;
          await save(bestPath);
        }
      }
      if (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0) await save(lastPath);
    }
    await save(lastPath);
    return {
      step,
      resumedFrom,
      bestValPsnr,
      inputValPsnr,
      lastVal,
      status: "done",
      message: `trained to step ${step}`,
    };
  } finally {
    optimizer.dispose();
    await setTrainingMode(false);
  }
}

/** Drops log records past `step`: a killed run may have logged steps its checkpoint lacks. */
async function truncateLog(path: string, step: number): Promise<void> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return;
  }
  const kept = text.split("\n").filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as LogRecord).step <= step;
    } catch {
      return false; // a line cut short by the kill
    }
  });
  await Deno.writeTextFile(path, kept.map((l) => l + "\n").join(""));
}
