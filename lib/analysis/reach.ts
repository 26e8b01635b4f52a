/**
 * How far a filter must see to undo a blur: the least-squares optimal linear filter along the
 * image rows, fitted on a benchmark's training pairs for several reaches (taps), scored on its
 * test pairs as `deno task eval` scores a model (per-image PSNR of the clamped output), but on
 * the middle columns only, where the widest filter sees nothing but the crop.
 *
 * Why: the IIR argument says a recurrent scan wins where the blur's inverse needs more reach
 * than a CNN has. A CNN is not a linear filter, but the best linear filter of a given reach is
 * an exact, training-free measure of how much of a blur's inverse lies within that reach, so
 * the gain against taps tells which blur lengths lie beyond a CNN's receptive field in the
 * sense that matters (the inverse's), not only in kernel length. Meant for horizontal,
 * spatially uniform blur (the receptive-field study's benchmarks); the same filter serves the
 * three channels.
 *
 * Fitting is one pass over the rows: the normal equations of the widest filter are
 * accumulated once (lagged products by prefix sums, O(width x taps) a row), and each narrower
 * filter's are a centred sub-block of them, because a centred filter's taps are offsets
 * -h..h of the same products. Browser-safe: plain TypeScript on Float64Array.
 */
import type { RgbImage } from "../data/image.ts";
import { solveSpd } from "./iir.ts";

/** A blurred image and its sharp reference. */
export interface ImagePair {
  blurred: RgbImage;
  sharp: RgbImage;
}

/** The row filter of one reach and how it scores on the test pairs. */
export interface ReachPoint {
  /** Taps of the centred filter (odd): it sees (taps - 1) / 2 px on each side. */
  taps: number;
  /** Mean over test pairs of PSNR(filtered, sharp) minus PSNR(blurred, sharp), dB. */
  meanGainDb: number;
  /** Per test pair, the same gain, in the order given. */
  gainsDb: number[];
  /** The filter: out[n] = sum_j weights[j] * in[n + j - (taps - 1) / 2]. */
  weights: Float64Array;
}

/** Row normal equations of the centred filter with offsets -h..h (lower triangle filled). */
interface Normal {
  h: number;
  /** (2h+1)^2, row-major by offset index (offset + h). */
  A: Float64Array;
  b: Float64Array;
}

function channelRow(img: RgbImage, y: number, c: number, out: Float64Array) {
  const base = y * img.width * 3 + c;
  for (let x = 0; x < img.width; x++) out[x] = img.data[base + 3 * x];
}

/**
 * Accumulates, over every `rowStep`-th row of every pair and channel, A(u, v) = sum_n
 * y[n+u] y[n+v] and b(u) = sum_n y[n+u] x[n] for offsets u, v in -h..h (y blurred, x sharp),
 * n over the columns h..W-1-h where the widest filter sees only pixels of the row: no padding
 * enters the fit, so every reach is fitted and scored on the same pixels.
 */
function normalEquations(pairs: ImagePair[], h: number, rowStep: number): Normal {
  const n = 2 * h + 1;
  const A = new Float64Array(n * n), b = new Float64Array(n);
  const width = pairs[0].blurred.width;
  const y = new Float64Array(width), x = new Float64Array(width);
  const prefix = new Float64Array(width + 1);
  for (const p of pairs) {
    for (let r = 0; r < p.blurred.height; r += rowStep) {
      for (let c = 0; c < 3; c++) {
        channelRow(p.blurred, r, c, y);
        channelRow(p.sharp, r, c, x);
        for (let u = -h; u <= h; u++) {
          let s = 0;
          for (let k = h; k < width - h; k++) s += y[k + u] * x[k];
          b[u + h] += s;
        }
        // A(u, u + d) = sum of y[k] y[k + d] over k = n + u in [h + u, width - 1 - h + u]
        for (let d = 0; d < n; d++) {
          prefix[0] = 0;
          for (let k = 0; k < width; k++) {
            prefix[k + 1] = prefix[k] + (k + d < width ? y[k] * y[k + d] : 0);
          }
          for (let u = -h; u + d <= h; u++) {
            A[(u + d + h) * n + (u + h)] += prefix[width - h + u] - prefix[h + u];
          }
        }
      }
    }
  }
  return { h, A, b };
}

/** The centred sub-system of offsets -t..t (t <= h), solved. */
function solveReach(eq: Normal, t: number): Float64Array {
  const n = 2 * t + 1, N = 2 * eq.h + 1, off = eq.h - t;
  const A = new Float64Array(n * n), b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    b[i] = eq.b[i + off];
    for (let j = 0; j <= i; j++) A[i * n + j] = eq.A[(i + off) * N + (j + off)];
  }
  return solveSpd(A, b, n);
}

/**
 * PSNR (data range 1) over columns h..W-1-h of every row of the blurred image filtered by
 * the centred correlation `w` (clamped to [0, 1], as `deno task eval` clamps a model's
 * output), and of the blurred image itself, against the sharp one. `w` of one tap [1] gives
 * the input's PSNR on those columns.
 */
export function interiorPsnr(p: ImagePair, w: Float64Array, h: number): number {
  const t = (w.length - 1) >> 1, W = p.blurred.width;
  let se = 0, count = 0;
  for (let r = 0; r < p.blurred.height; r++) {
    const row = r * W * 3;
    for (let x = h; x < W - h; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = 0; j < w.length; j++) s += w[j] * p.blurred.data[row + 3 * (x + j - t) + c];
        const d = Math.min(1, Math.max(0, s)) - p.sharp.data[row + 3 * x + c];
        se += d * d;
        count++;
      }
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10(count / se);
}

const IDENTITY = new Float64Array([1]);

/**
 * The least-squares row filter of each reach in `taps` (odd, at most twice the width minus
 * at most the width), fitted on `train` (every `rowStep`-th row) and scored on `test`, both
 * on the columns where the widest filter sees only the row (see normalEquations).
 */
export function linearReach(
  train: ImagePair[],
  test: ImagePair[],
  taps: readonly number[],
  rowStep = 1,
): ReachPoint[] {
  if (train.length === 0 || test.length === 0) throw new Error("linearReach: no pairs");
  const width = train[0].blurred.width;
  for (const p of [...train, ...test]) {
    if (p.blurred.width !== width || p.sharp.width !== width) {
      throw new Error(`linearReach: every pair must be ${width} px wide`);
    }
  }
  for (const t of taps) {
    if (!Number.isInteger(t) || t < 1 || t % 2 === 0) {
      throw new Error(`linearReach: taps must be odd positive integers, got ${t}`);
    }
  }
  const h = Math.max(...taps) >> 1;
  if (2 * h + 1 > width) {
    throw new Error(`linearReach: ${2 * h + 1} taps leave no column of a ${width}-px row`);
  }
  const eq = normalEquations(train, h, rowStep);
  return taps.map((t) => {
    const weights = solveReach(eq, t >> 1);
    const gainsDb = test.map((p) => interiorPsnr(p, weights, h) - interiorPsnr(p, IDENTITY, h));
    const meanGainDb = gainsDb.reduce((s, g) => s + g, 0) / gainsDb.length;
    return { taps: t, meanGainDb, gainsDb, weights };
  });
}
