/**
 * Inference time of a model on an image of a given size (random content: no model of the
 * kit has data-dependent control flow), median of warm runs, optionally extrapolated by
 * pixel count to a target size such as the GoPro frame, 1280x720, when measuring at full
 * size would take too long (the convolutions' cost is linear in the pixel count; the
 * scans' too).
 */
import * as tf from "@tensorflow/tfjs";
import type { DeblurModel } from "../models/model.ts";
import { median } from "./stats.ts";
import { syncBackend } from "./timing.ts";

export const GOPRO_FRAME = { width: 1280, height: 720 } as const;

export interface SpeedOptions {
  /** Size measured (default 1280x720). */
  width?: number;
  height?: number;
  /** Warm runs timed (default 3); one untimed warm-up run precedes them. */
  repeats?: number;
  /** Size the time is extrapolated to by pixel count (default 1280x720). */
  target?: { width: number; height: number };
  seed?: number;
}

export interface SpeedResult {
  model: string;
  params: number;
  backend: string;
  measured: { width: number; height: number };
  /** Median warm time at the measured size, ms. */
  ms: number;
  /** Every timed run, ms. */
  runs: number[];
  target: { width: number; height: number };
  /** Time at the target size, ms: measured when the sizes agree, else scaled by pixels. */
  targetMs: number;
  extrapolated: boolean;
}

/** Times `model.predict` on a random [1, height, width, 3] input. */
export async function timeInference(
  model: DeblurModel,
  opts: SpeedOptions = {},
): Promise<SpeedResult> {
  const width = opts.width ?? GOPRO_FRAME.width, height = opts.height ?? GOPRO_FRAME.height;
  const target = opts.target ?? GOPRO_FRAME;
  const repeats = Math.max(1, opts.repeats ?? 3);
  const x = tf.randomUniform([1, height, width, 3], 0, 1, "float32", opts.seed ?? 0) as tf.Tensor4D;
  const runs: number[] = [];
  try {
    for (let i = 0; i <= repeats; i++) {
      const t0 = performance.now();
      const y = model.predict(x);
      await syncBackend();
      await y.data();
      const ms = performance.now() - t0;
      y.dispose();
      if (i > 0) runs.push(ms);
    }
  } finally {
    x.dispose();
  }
  const ms = median(runs);
  const same = target.width === width && target.height === height;
  return {
    model: model.name,
    params: model.paramCount(),
    backend: tf.getBackend(),
    measured: { width, height },
    ms,
    runs,
    target: { ...target },
    targetMs: same ? ms : ms * (target.width * target.height) / (width * height),
    extrapolated: !same,
  };
}
