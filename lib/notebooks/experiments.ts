/**
 * Small experiments a notebook runs live (Deno-only): train a registered model, with
 * config overrides, for a few steps on a synthetic benchmark with the kit's trainer
 * (lib/train), then evaluate it on the test split (lib/eval) — the same procedure as
 * `deno task ablate` for one variant (lib/study/train_eval.ts), at a budget a reader can
 * wait for; progress lines
 * while it trains; side-by-side comparisons of models on one image.
 */
import * as tf from "@tensorflow/tfjs";
import { listModels } from "../models/registry.ts";
import type { DeblurModel } from "../models/model.ts";
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from "../train/config.ts";
import type { LogRecord } from "../train/trainer.ts";
import { trainThenEvaluate } from "../study/train_eval.ts";
import { ablationPerImage } from "../records/formats.ts";
import type { GoProBlur } from "../data/gopro.ts";
import { DEFAULT_QUICK_BENCHMARK } from "../data/benchmark.ts";
import type { EvalSummary, ImageScore } from "../eval/evaluate.ts";
import { type Figure, lineFigure } from "../viz/figure.ts";
import { type AblationVariant, datasetPairs } from "./resources.ts";
import { clampImage, cropImage, type RgbImage } from "../data/image.ts";
import { psnr, ssim } from "../eval/metrics.ts";
import { AUTO_TILE_PIXELS, DEFAULT_TILE, predictTiled, type TileOptions } from "../eval/tiled.ts";

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
  /** Synthetic benchmark (default DEFAULT_QUICK_BENCHMARK, made from the fixtures when missing). */
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
 * folder that is removed afterwards, then evaluates it on the benchmark's test split: the
 * procedure of `deno task ablate` and the studies (lib/study/train_eval.ts). `onLog` sees
 * every training record. With `keepModel`, the trained model is returned (the caller
 * disposes it); otherwise it is disposed.
 */
export async function trainAndEvaluate(
  cfg: ExperimentConfig,
  opts: { onLog?: (r: LogRecord, total: number) => void; keepModel?: boolean } = {},
): Promise<ExperimentResult & { trained?: DeblurModel }> {
  const overrides = { ...(cfg.overrides ?? {}) };
  const seed = cfg.seed ?? 0;
  const benchmark = cfg.benchmark ?? DEFAULT_QUICK_BENCHMARK.name;
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
  // Without stopAt a run always finishes: never null.
  const r = (await trainThenEvaluate({
    recipe,
    overrides,
    train: trainRefs,
    test: testRefs,
    runDir: null,
    onLog: opts.onLog,
    keepModel: opts.keepModel,
  }))!;
  return {
    label: cfg.label ?? experimentLabel(cfg.model, overrides),
    model: cfg.model,
    overrides,
    params: r.params,
    steps: recipe.steps,
    patches: recipe.steps * recipe.batchSize,
    trainSec: r.trainSec,
    loss: r.loss,
    summary: r.summary,
    perImage: r.perImage,
    recipe,
    data:
      `${benchmark} (${blur}): ${trainRefs.length} training pairs, ${testRefs.length} test pairs`,
    ...(r.model ? { trained: r.model } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Progress while training

/**
 * Training progress for a notebook cell: a text line (progress bar, step, loss, speed)
 * printed at most every `everyMs` (and on the last step), which Jupyter streams while the
 * cell runs, and the loss curve so far as a figure (`figure()`, shown after the run).
 *
 * Progress is printed rather than redrawn in place: with the Deno kernel, displays that
 * carry a display_id (Jupyter's in-place updates) were seen to make nbclient drop every
 * output of the cell, so the kit does not use them.
 */
export function trainingProgress(
  title: string,
  opts: { everyMs?: number; print?: (line: string) => void } = {},
): { onLog: (r: LogRecord, total: number) => void; figure: () => Figure; lines: string[] } {
  const steps: number[] = [], losses: number[] = [], lines: string[] = [];
  const print = opts.print ?? ((l: string) => console.log(l));
  let last = -Infinity;
  const t0 = performance.now();
  const figure = () =>
    lineFigure(
      [{ name: "training loss", x: steps, y: losses, mode: "lines+markers", markerSize: 4 }],
      {
        title,
        xTitle: "step",
        yTitle: "L2 loss (sum / 2 / batch)",
        logY: true,
        height: 320,
      },
    );
  return {
    onLog: (r, total) => {
      if (r.kind !== "train" || r.loss === undefined) return;
      steps.push(r.step);
      losses.push(r.loss);
      const now = performance.now();
      if (now - last < (opts.everyMs ?? 2000) && r.step < total) return;
      last = now;
      const bar = "#".repeat(Math.round((r.step / total) * 30)).padEnd(30, ".");
      const line = `[${bar}] step ${r.step}/${total}  loss ${r.loss.toPrecision(4)}  ${
        (r.patchesPerSec ?? 0).toFixed(1)
      } patches/s  ${((now - t0) / 1000).toFixed(1)} s`;
      lines.push(line);
      print(line);
    },
    figure,
    lines,
  };
}

/** Disposes models, ignoring nulls (notebook clean-up cells). */
export function disposeModels(...models: (DeblurModel | null | undefined)[]): number {
  for (const m of models) m?.dispose();
  return tf.memory().numTensors;
}

// ---------------------------------------------------------------------------------------
// Side-by-side comparisons

export interface Compared {
  label: string;
  image: RgbImage;
  /** Against the sharp image, when there is one (null for the sharp image itself). */
  psnr: number | null;
  ssim: number | null;
  /** Wall time of the model, ms (null for the input and the sharp image). */
  ms: number | null;
}

/**
 * The blurry image, every model's clipped output and (when given) the sharp image, with
 * PSNR and SSIM against the sharp image. Large images are deblurred tile by tile (`tile`,
 * default: whole image up to 2.1 megapixels, else 512 px tiles with 32 px overlap, as
 * `deno task deblur` does).
 */
export async function deblurAll(
  models: { label: string; model: DeblurModel }[],
  blurry: RgbImage,
  sharp?: RgbImage,
  tile?: TileOptions,
): Promise<Compared[]> {
  const t = tile ??
    (blurry.width * blurry.height > AUTO_TILE_PIXELS ? DEFAULT_TILE : { tile: 0, overlap: 0 });
  const score = (img: RgbImage) =>
    sharp ? { psnr: psnr(img, sharp), ssim: ssim(img, sharp) } : { psnr: null, ssim: null };
  const out: Compared[] = [{ label: "blurry input", image: blurry, ...score(blurry), ms: null }];
  for (const { label, model } of models) {
    const t0 = performance.now();
    const img = clampImage(await predictTiled(model, blurry, t), true);
    out.push({ label, image: img, ...score(img), ms: performance.now() - t0 });
  }
  if (sharp) {
    out.push({ label: "sharp (ground truth)", image: sharp, psnr: null, ssim: null, ms: null });
  }
  return out;
}

/** Captions for `showImages`: "label, 27.31 dB / 0.8412". */
export function comparedImages(list: Compared[]): { image: RgbImage; label: string }[] {
  return list.map((c) => ({
    image: c.image,
    label: c.psnr === null
      ? c.label
      : `${c.label}: ${c.psnr.toFixed(2)} dB, SSIM ${c.ssim!.toFixed(3)}`,
  }));
}

/** The same window of every image (e.g. a detail at full resolution). */
export function cropCompared(
  list: Compared[],
  x: number,
  y: number,
  width: number,
  height: number,
): Compared[] {
  return list.map((c) => {
    const w = Math.min(width, c.image.width - x), h = Math.min(height, c.image.height - y);
    return { ...c, image: cropImage(c.image, x, y, w, h) };
  });
}

/** Trailing moving average over `window` values (the first values average what there is). */
export function movingAverage(values: number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

/** An experiment in the shape of one variant of results/ablations.json. */
export function experimentAsVariant(r: ExperimentResult): AblationVariant {
  return {
    model: r.label,
    description: r.label,
    params: r.params,
    benchmark: r.data,
    steps: r.steps,
    patches: r.patches,
    trainSec: r.trainSec,
    summary: { ...r.summary },
    perImage: ablationPerImage(r.perImage),
    loss: r.loss,
  };
}

/**
 * The `size` x `size` window (top-left corner) of `img` with the most detail: the largest
 * sum of squared luma differences to the right and below, on a stride of size/4. For
 * side-by-side crops that show what deblurring changed.
 */
export function busiestWindow(img: RgbImage, size: number): { x: number; y: number } {
  const W = img.width, H = img.height;
  const s = Math.min(size, W, H);
  const luma = new Float32Array(W * H);
  for (let i = 0; i < W * H; i++) {
    luma[i] = 0.299 * img.data[3 * i] + 0.587 * img.data[3 * i + 1] + 0.114 * img.data[3 * i + 2];
  }
  // Integral image of the gradient energy.
  const I = new Float64Array((W + 1) * (H + 1));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const gx = x + 1 < W ? luma[y * W + x + 1] - luma[y * W + x] : 0;
      const gy = y + 1 < H ? luma[(y + 1) * W + x] - luma[y * W + x] : 0;
      I[(y + 1) * (W + 1) + x + 1] = gx * gx + gy * gy + I[y * (W + 1) + x + 1] +
        I[(y + 1) * (W + 1) + x] - I[y * (W + 1) + x];
    }
  }
  const stride = Math.max(1, Math.floor(s / 4));
  let best = { x: 0, y: 0 }, bestE = -1;
  for (let y = 0; y + s <= H; y += stride) {
    for (let x = 0; x + s <= W; x += stride) {
      const e = I[(y + s) * (W + 1) + x + s] - I[y * (W + 1) + x + s] - I[(y + s) * (W + 1) + x] +
        I[y * (W + 1) + x];
      if (e > bestE) (bestE = e), (best = { x, y });
    }
  }
  return best;
}

/** Nearest-neighbour enlargement by an integer factor (crops shown at 2x or 3x). */
export function enlarge(img: RgbImage, factor: number): RgbImage {
  const k = Math.max(1, Math.floor(factor));
  const W = img.width * k, H = img.height * k;
  const data = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = (Math.floor(y / k) * img.width + Math.floor(x / k)) * 3, d = (y * W + x) * 3;
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
    }
  }
  return { width: W, height: H, data };
}
