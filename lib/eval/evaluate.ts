/**
 * Evaluation of a model over a dataset of blurred/sharp pairs: per-image and mean PSNR
 * and SSIM (lib/eval/metrics.ts conventions) of the clipped prediction and of the blurry
 * input, warm wall time per image, and peak memory.
 */
import * as tf from "@tensorflow/tfjs";
import type { DeblurModel } from "../models/model.ts";
import { clampImage, type RgbImage } from "../data/image.ts";
import { psnr, ssim } from "./metrics.ts";
import { predictTiled, type TileOptions } from "./tiled.ts";
import { syncBackend } from "./timing.ts";
import { median } from "./stats.ts";

/** One pair, loaded lazily so a dataset never has to fit in memory. */
export interface EvalPair {
  name: string;
  blurry(): Promise<RgbImage>;
  sharp(): Promise<RgbImage>;
}

export interface ImageScore {
  name: string;
  width: number;
  height: number;
  psnr: number;
  ssim: number;
  /** The blurry input's scores against the sharp image (the "do nothing" baseline). */
  inputPsnr: number;
  inputSsim: number;
  /** Wall time of the model on this image, milliseconds (the first image includes warm-up). */
  ms: number;
}

export interface EvalSummary {
  images: number;
  meanPsnr: number;
  meanSsim: number;
  meanInputPsnr: number;
  meanInputSsim: number;
  /** Mean PSNR gain over the blurry input, dB. */
  gainPsnr: number;
  /**
   * Median per-image PSNR gain, dB. The mean is swayed by near-flat images (input PSNR
   * above 40 dB), where a small brightness bias costs many dB; the median is not.
   */
  medianGainPsnr: number;
  /** Images whose PSNR the model raised. */
  improved: number;
  /** Mean wall time per image excluding the first (warm-up) image, when there are two or more. */
  warmMsPerImage: number;
  /** Largest tfjs tensor memory in use during any one image (tf.profile's peakBytes). */
  peakTensorBytes: number;
  /** Resident set size of the process at the end, bytes (includes the wasm heap). */
  rssBytes: number;
  /** Peak resident set size of the process so far (Linux VmHWM), bytes; null elsewhere. */
  peakRssBytes: number | null;
}

/** The PSNR gains of one group of images (`gainByInputPsnr`, `gainByGroup`). */
export interface GainGroup {
  images: number;
  meanGain: number;
  medianGain: number;
  improved: number;
}

/** One band of input PSNR in `gainByInputPsnr`. */
export interface GainBand extends GainGroup {
  /** "[lo, hi)" in dB; open-ended at the ends. */
  band: string;
}

/** One value of a label (a controlled benchmark's kernel family, layout) in `gainByGroup`. */
export interface LabelGain extends GainGroup {
  value: string;
}

function gainGroup(gains: number[]): GainGroup {
  return {
    images: gains.length,
    meanGain: gains.reduce((a, g) => a + g, 0) / gains.length,
    medianGain: median(gains),
    improved: gains.filter((g) => g > 0).length,
  };
}

/**
 * Per-image gains grouped by how blurry the input was (its PSNR against the sharp image,
 * cut at `edges`, dB, ascending). A mean gain hides where a model helps and where it harms:
 * small models tend to gain on the blurriest images and lose on nearly sharp ones, where
 * any bias costs many dB. Empty bands are left out.
 */
export function gainByInputPsnr(
  perImage: Pick<ImageScore, "psnr" | "inputPsnr">[],
  edges: number[],
): GainBand[] {
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i] > edges[i - 1])) {
      throw new Error(`gainByInputPsnr: edges must ascend: ${edges.join(", ")}`);
    }
  }
  const bounds = [-Infinity, ...edges, Infinity];
  const bands: GainBand[] = [];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const [lo, hi] = [bounds[b], bounds[b + 1]];
    const gains = perImage.filter((p) => p.inputPsnr >= lo && p.inputPsnr < hi).map((p) =>
      p.psnr - p.inputPsnr
    );
    if (gains.length === 0) continue;
    bands.push({
      band: lo === -Infinity ? `< ${hi}` : hi === Infinity ? `>= ${lo}` : `[${lo}, ${hi})`,
      ...gainGroup(gains),
    });
  }
  return bands;
}

/**
 * Per-image gains grouped by a label of each image (on a controlled benchmark, a factor its
 * manifest records: kernel family, layout), sorted by label. Images `labelOf` gives no
 * label are left out.
 */
export function gainByGroup<T extends Pick<ImageScore, "psnr" | "inputPsnr">>(
  perImage: T[],
  labelOf: (image: T) => string | undefined,
): LabelGain[] {
  const groups = new Map<string, number[]>();
  for (const p of perImage) {
    const label = labelOf(p);
    if (label === undefined) continue;
    const gains = groups.get(label) ?? [];
    gains.push(p.psnr - p.inputPsnr);
    groups.set(label, gains);
  }
  return [...groups.keys()].sort().map((value) => ({ value, ...gainGroup(groups.get(value)!) }));
}

/** The process's peak resident set size (Linux /proc/self/status VmHWM), or null. */
export function peakRssBytes(): number | null {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kb = status.match(/^VmHWM:\s*(\d+)\s*kB/m)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

export interface EvaluateOptions {
  tile?: TileOptions;
  /** Called with each prediction (clipped), e.g. to write it to disk. */
  onPrediction?: (name: string, img: RgbImage) => Promise<void>;
  /** Called after each image. */
  onImage?: (score: ImageScore, done: number, total: number) => void;
}

export async function evaluate(
  model: DeblurModel,
  pairs: EvalPair[],
  opts: EvaluateOptions = {},
): Promise<{ perImage: ImageScore[]; summary: EvalSummary }> {
  if (pairs.length === 0) throw new Error("evaluate: the dataset has no pairs");
  const perImage: ImageScore[] = [];
  let peakTensorBytes = 0;
  for (const pair of pairs) {
    const [blurry, sharp] = [await pair.blurry(), await pair.sharp()];
    if (blurry.width !== sharp.width || blurry.height !== sharp.height) {
      throw new Error(
        `${pair.name}: blurry ${blurry.width}x${blurry.height} and sharp ${sharp.width}x${sharp.height} differ in size`,
      );
    }
    let pred: RgbImage | null = null;
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      pred = await predictTiled(model, blurry, opts.tile ?? { tile: 0, overlap: 0 });
      await syncBackend();
    });
    const ms = performance.now() - t0;
    peakTensorBytes = Math.max(peakTensorBytes, info.peakBytes);
    const out = clampImage(pred!, true);
    const score: ImageScore = {
      name: pair.name,
      width: sharp.width,
      height: sharp.height,
      psnr: psnr(out, sharp),
      ssim: ssim(out, sharp),
      inputPsnr: psnr(blurry, sharp),
      inputSsim: ssim(blurry, sharp),
      ms,
    };
    perImage.push(score);
    await opts.onPrediction?.(pair.name, out);
    opts.onImage?.(score, perImage.length, pairs.length);
  }
  const mean = (f: (s: ImageScore) => number, from = 0) =>
    perImage.slice(from).reduce((a, s) => a + f(s), 0) / (perImage.length - from);
  const summary: EvalSummary = {
    images: perImage.length,
    meanPsnr: mean((s) => s.psnr),
    meanSsim: mean((s) => s.ssim),
    meanInputPsnr: mean((s) => s.inputPsnr),
    meanInputSsim: mean((s) => s.inputSsim),
    gainPsnr: mean((s) => s.psnr - s.inputPsnr),
    medianGainPsnr: median(perImage.map((s) => s.psnr - s.inputPsnr)),
    improved: perImage.filter((s) => s.psnr > s.inputPsnr).length,
    warmMsPerImage: mean((s) => s.ms, perImage.length > 1 ? 1 : 0),
    peakTensorBytes,
    rssBytes: typeof Deno !== "undefined" ? Deno.memoryUsage().rss : 0,
    peakRssBytes: peakRssBytes(),
  };
  return { perImage, summary };
}
