/**
 * The one procedure that trains a registered model and evaluates it (Deno-only): build it
 * from its seeded initial weights, train it on pairs with a recipe (resuming its training
 * folder), evaluate the final weights on test pairs. `deno task ablate` (each variant), the
 * study runner (each run, run.ts) and the notebooks' live experiments
 * (notebooks/experiments.ts) all call `trainThenEvaluate`, so their numbers come from the
 * same steps; `cachedResult` keeps a finished result's JSON so a rerun skips it.
 */
import { createModel } from "../models/registry.ts";
import type { DeblurModel } from "../models/model.ts";
import type { TrainConfig } from "../train/config.ts";
import { type LogRecord, train } from "../train/trainer.ts";
import { evalPairsOf, makeTrainData } from "../train/data.ts";
import { type EvalSummary, evaluate, type ImageScore } from "../eval/evaluate.ts";
import type { PairRef } from "../data/gopro.ts";
import { exists } from "../data/image_io.ts";
import { InputError } from "../data/errors.ts";
import { writeJsonAtomic } from "../records/provenance.ts";
import { lossCurve, parseTrainingLog, trainedSeconds } from "../records/formats.ts";

export interface TrainEvalJob {
  /**
   * The recipe. Its `model` is the registered name trained; its `seed` seeds the patch
   * sampling and the initial weights (unless `overrides` sets the weights' own seed).
   */
  recipe: TrainConfig;
  /** Config fields replacing the model's. */
  overrides?: Record<string, unknown>;
  train: PairRef[];
  test: PairRef[];
  /**
   * The training folder, resumed when it holds a checkpoint; null: a temporary folder,
   * removed afterwards (a run that is never resumed).
   */
  runDir: string | null;
  /** Stored in every checkpoint (provenance, data description). */
  metadata?: Record<string, unknown>;
  /** Stop training after this many steps: the run is then unfinished and not evaluated. */
  stopAt?: number;
  onLog?: (r: LogRecord, total: number) => void;
  /** Return the trained model (the caller disposes it) instead of disposing it. */
  keepModel?: boolean;
  /** Names the run in errors (default: the model). */
  label?: string;
}

export interface TrainEvalOutcome {
  params: number;
  /** The model's full config. */
  config: Readonly<object>;
  /** Seconds of training: this call's wall time, or for a resumed run every session's from its log. */
  trainSec: number;
  /** The step training resumed from (0: trained from the initial weights). */
  resumedFrom: number;
  /** The run's loss curve from its log, sessions before a resume included. */
  loss: { step: number; loss: number }[];
  /** The last training loss this call logged; null when the folder was already trained. */
  lastLoss: number | null;
  summary: EvalSummary;
  perImage: ImageScore[];
  /** With `keepModel`. */
  model?: DeblurModel;
}

/**
 * Trains `job.recipe.model` and evaluates it on `job.test`; null when `stopAt` ended the
 * training before the recipe's last step. A run that stops on a non-finite loss is an
 * InputError naming it.
 */
export async function trainThenEvaluate(job: TrainEvalJob): Promise<TrainEvalOutcome | null> {
  const { recipe } = job;
  const model = createModel(recipe.model, { seed: recipe.seed, ...(job.overrides ?? {}) });
  const dir = job.runDir ?? await Deno.makeTempDir({ prefix: "svrnn-experiment-" });
  let keep = false;
  try {
    const data = await makeTrainData({
      train: job.train,
      // No validation images: every result is judged on the test split, after training.
      validation: [],
      batchSize: recipe.batchSize,
      patchSize: recipe.patchSize,
      seed: recipe.seed,
      valCrop: 0,
    });
    let lastLoss: number | null = null;
    const t0 = performance.now();
    const result = await train({
      config: recipe,
      model,
      data,
      outDir: dir,
      resume: job.runDir !== null,
      stopAt: job.stopAt,
      metadata: job.metadata,
      onLog: (r, total) => {
        if (r.kind === "train" && r.loss !== undefined) lastLoss = r.loss;
        job.onLog?.(r, total);
      },
    });
    const trainSec = (performance.now() - t0) / 1000;
    if (result.status !== "done") {
      throw new InputError(`${job.label ?? recipe.model}: ${result.message}`);
    }
    if (result.step < recipe.steps) return null;
    const { perImage, summary } = await evaluate(model, evalPairsOf(job.test));
    const logPath = `${dir}/log.jsonl`;
    const records = parseTrainingLog(await Deno.readTextFile(logPath), logPath);
    const loss = lossCurve(records);
    keep = job.keepModel ?? false;
    return {
      params: model.paramCount(),
      config: model.config,
      // a resumed run timed only this session here: its log has every session's time
      trainSec: result.resumedFrom > 0 ? trainedSeconds(records) : trainSec,
      resumedFrom: result.resumedFrom,
      loss,
      lastLoss,
      summary,
      perImage,
      ...(keep ? { model } : {}),
    };
  } finally {
    if (!keep) model.dispose();
    if (job.runDir === null) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The JSON at `path` when there is one and `fresh` accepts it (same settings), else null. */
export async function readCached<T>(path: string, fresh: (r: T) => boolean): Promise<T | null> {
  if (!(await exists(path))) return null;
  const r: T = JSON.parse(await Deno.readTextFile(path));
  return fresh(r) ? r : null;
}

/**
 * The result cached at `path` when `fresh` accepts it; otherwise `make()`'s, written to
 * `path` (atomically) before it is returned. `make` returning null (an unfinished run)
 * writes nothing and returns null.
 */
export async function cachedResult<T>(
  path: string,
  fresh: (r: T) => boolean,
  make: () => Promise<T | null>,
): Promise<{ result: T; cached: boolean } | null> {
  const hit = await readCached(path, fresh);
  if (hit !== null) return { result: hit, cached: true };
  const made = await make();
  if (made === null) return null;
  await writeJsonAtomic(path, made);
  return { result: made, cached: false };
}
