/**
 * Small experiments a notebook runs live (Deno-only): train a registered model, with
 * config overrides, for a few steps on a synthetic benchmark with the kit's trainer
 * (lib/train), then evaluate it on the test split (lib/eval) — the same procedure as
 * `deno task ablate` for one variant, at a budget a reader can wait for. Plus a display
 * that updates in place while it runs (progress and loss curve).
 */
import * as tf from "@tensorflow/tfjs";
import { createModel, listModels } from "../models/registry.ts";
import type { DeblurModel } from "../models/model.ts";
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from "../train/config.ts";
import { type LogRecord, train } from "../train/trainer.ts";
import { makeTrainData } from "../train/data.ts";
import type { GoProBlur } from "../data/gopro.ts";
import { type EvalSummary, evaluate, type ImageScore } from "../eval/evaluate.ts";
import { type Bundle, display, inKernel } from "../viz/show.ts";
import { figureBundle } from "../viz/show.ts";
import { type Figure, lineFigure } from "../viz/figure.ts";
import { datasetPairs, evalPairs } from "./resources.ts";

export interface ExperimentConfig {
  /** Registered model name (lib/models/registry.ts). */
  model: string;
  /** Config fields replacing the name's, e.g. { numBlocks: 2, gate: "invariant" }. */
  overrides?: Record<string, unknown>;
  /** Label in tables (default: the name plus the overrides). */
  label?: string;
  steps: number;
  batchSize: number;
  patchSize: number;
  learningRate: number;
  seed?: number;
  /** Synthetic benchmark (default "synth-v1-quick", made from the fixtures when missing). */
  benchmark?: string;
  /** Benchmark images used: "blur_gamma" (default) or "blur". */
  blur?: GoProBlur;
  /** Test images evaluated (default 4). */
  evalImages?: number;
  /** Log every this many steps (default: about 20 points per run). */
  logEvery?: number;
}

export interface ExperimentResult {
  label: string;
  model: string;
  overrides: Record<string, unknown>;
  params: number;
  steps: number;
  patches: number;
  trainSec: number;
  loss: { step: number; loss: number }[];
  summary: EvalSummary;
  perImage: ImageScore[];
  recipe: TrainConfig;
  data: string;
}

/** A short label for a model with overrides: `svrnn-small {numBlocks: 2}`. */
export function experimentLabel(model: string, overrides: Record<string, unknown> = {}): string {
  const parts = Object.entries(overrides).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return parts.length ? `${model} {${parts.join(", ")}}` : model;
}

/** The registered names and what each is (for the config cell's help). */
export function modelChoices(): { name: string; params: number; description: string }[] {
  return listModels().map((m) => ({ name: m.name, params: m.params, description: m.description }));
}

/**
 * Trains `cfg.model` (with overrides) from its seeded initial weights, in a temporary run
 * folder that is removed afterwards, then evaluates it on the benchmark's test split.
 * `onLog` sees every training record. With `keepModel`, the trained model is returned
 * (the caller disposes it); otherwise it is disposed.
 */
export async function trainAndEvaluate(
  cfg: ExperimentConfig,
  opts: { onLog?: (r: LogRecord, total: number) => void; keepModel?: boolean } = {},
): Promise<ExperimentResult & { trained?: DeblurModel }> {
  const overrides = { ...(cfg.overrides ?? {}) };
  const seed = cfg.seed ?? 0;
  const model = createModel(cfg.model, { seed, ...overrides });
  const benchmark = cfg.benchmark ?? "synth-v1-quick";
  const blur = cfg.blur ?? "blur_gamma";
  const trainRefs = await datasetPairs({ benchmark, blur }, "train");
  const testRefs = await datasetPairs({ benchmark, blur }, "test", cfg.evalImages ?? 4);
  const recipe: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    model: cfg.model,
    steps: cfg.steps,
    batchSize: cfg.batchSize,
    patchSize: cfg.patchSize,
    learningRate: cfg.learningRate,
    seed,
    logEvery: cfg.logEvery ?? Math.max(1, Math.round(cfg.steps / 20)),
    valEvery: 0,
    checkpointEvery: 0,
  };
  const dir = await Deno.makeTempDir({ prefix: "svrnn-experiment-" });
  try {
    const data = await makeTrainData({
      train: trainRefs,
      validation: [],
      batchSize: recipe.batchSize,
      patchSize: recipe.patchSize,
      seed,
      valCrop: 256,
    });
    const loss: { step: number; loss: number }[] = [];
    const t0 = performance.now();
    const result = await train({
      config: recipe,
      model,
      data,
      outDir: dir,
      resume: false,
      onLog: (r, total) => {
        if (r.kind === "train" && r.loss !== undefined) loss.push({ step: r.step, loss: r.loss });
        opts.onLog?.(r, total);
      },
    });
    const trainSec = (performance.now() - t0) / 1000;
    if (result.status !== "done") throw new Error(`${cfg.model}: ${result.message}`);
    const { perImage, summary } = await evaluate(model, evalPairs(testRefs));
    const out: ExperimentResult & { trained?: DeblurModel } = {
      label: cfg.label ?? experimentLabel(cfg.model, overrides),
      model: cfg.model,
      overrides,
      params: model.paramCount(),
      steps: recipe.steps,
      patches: recipe.steps * recipe.batchSize,
      trainSec,
      loss,
      summary,
      perImage,
      recipe,
      data:
        `${benchmark} (${blur}): ${trainRefs.length} training pairs, ${testRefs.length} test pairs`,
    };
    if (opts.keepModel) out.trained = model;
    else model.dispose();
    return out;
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------
// A display that updates in place

type JupyterDisplay = {
  display(obj: unknown, opts?: { raw?: boolean; update?: boolean; display_id?: string }): Promise<
    void
  >;
};

let liveCounter = 0;

/**
 * One output area that later calls replace (Jupyter's display_id). Outside a kernel,
 * `update` prints the text/plain part. Await `done()` at the end of the cell, so no
 * update is still in flight when the cell finishes.
 */
export class LiveDisplay {
  #id = `svrnn-live-${Date.now().toString(36)}-${++liveCounter}`;
  #shown = false;
  #pending: Promise<void>[] = [];

  /** Replaces the output with `bundle` (the first call creates it). */
  update(bundle: Bundle): Promise<void> {
    let p: Promise<void>;
    if (!inKernel()) p = display(bundle);
    else {
      const j = (globalThis as unknown as { Deno: { jupyter: JupyterDisplay } }).Deno.jupyter;
      p = j.display(bundle, { raw: true, display_id: this.#id, update: this.#shown });
    }
    this.#shown = true;
    this.#pending.push(p);
    return p;
  }

  /** Waits for every update sent so far. */
  async done(): Promise<void> {
    await Promise.all(this.#pending);
    this.#pending = [];
  }
}

/**
 * A training-progress display: a text line and the loss curve so far, redrawn at most every
 * `everyMs` (and always on the last step). Pass `onLog` to `trainAndEvaluate` or `train`.
 */
export function trainingProgress(
  title: string,
  opts: { everyMs?: number } = {},
): {
  onLog: (r: LogRecord, total: number) => void;
  done: () => Promise<void>;
  figure: () => Figure;
} {
  const live = new LiveDisplay();
  const steps: number[] = [], losses: number[] = [];
  let last = 0;
  const t0 = performance.now();
  const figure = () =>
    lineFigure([{
      name: "training loss",
      x: steps,
      y: losses,
      mode: "lines+markers",
      markerSize: 4,
    }], {
      title,
      xTitle: "step",
      yTitle: "L2 loss (sum / 2 / batch)",
      logY: true,
      height: 320,
    });
  const draw = (text: string) => {
    const b = figureBundle(figure());
    const html = `<div style="font-family:monospace;font-size:13px">${
      text.replace(/</g, "&lt;")
    }</div>${b["text/html"]}`;
    live.update({ ...b, "text/html": html, "text/plain": text });
  };
  return {
    onLog: (r, total) => {
      if (r.kind !== "train" || r.loss === undefined) return;
      steps.push(r.step);
      losses.push(r.loss);
      const now = performance.now();
      if (now - last < (opts.everyMs ?? 1500) && r.step < total) return;
      last = now;
      const done = r.step / total;
      const bar = "#".repeat(Math.round(done * 30)).padEnd(30, ".");
      draw(
        `[${bar}] step ${r.step}/${total}  loss ${r.loss.toPrecision(4)}  ${
          (r.patchesPerSec ?? 0).toFixed(1)
        } patches/s  ${((now - t0) / 1000).toFixed(1)} s`,
      );
    },
    done: () => live.done(),
    figure,
  };
}

/** Disposes models, ignoring nulls (notebook clean-up cells). */
export function disposeModels(...models: (DeblurModel | null | undefined)[]): number {
  for (const m of models) m?.dispose();
  return tf.memory().numTensors;
}
