/**
 * Where a deblurring model helps and where it hurts, and whether it sharpens or smooths.
 * A PSNR gain alone cannot tell a model that deconvolves from one that averages away
 * ghosting: both lower the mean squared error. The error-change map shows per pixel how much
 * closer to the sharp image the output is than the input; the sharpness ratio compares the
 * output's high frequencies (Laplacian energy) with the input's and the sharp image's. A
 * model that deblurs moves the ratio from the input's towards the sharp image's; a model
 * that smooths lowers it below the input's.
 *
 * Browser-safe: no Deno APIs.
 */
import type { RgbImage } from "../data/image.ts";

function sameSize(a: RgbImage, b: RgbImage, what: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(
      `${what}: sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`,
    );
  }
}

/** Per-pixel absolute error against `sharp`, averaged over the three channels. */
export function absErrorMap(image: RgbImage, sharp: RgbImage): Float32Array {
  sameSize(image, sharp, "absErrorMap");
  const n = image.width * image.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < 3; c++) s += Math.abs(image.data[i * 3 + c] - sharp.data[i * 3 + c]);
    out[i] = s / 3;
  }
  return out;
}

/**
 * |input - sharp| - |output - sharp| per pixel (channel mean): positive where the model
 * brought the pixel closer to the sharp image, negative where it moved it away.
 */
export function errorChangeMap(input: RgbImage, output: RgbImage, sharp: RgbImage): Float32Array {
  sameSize(input, output, "errorChangeMap");
  const a = absErrorMap(input, sharp), b = absErrorMap(output, sharp);
  return a.map((v, i) => v - b[i]);
}

/**
 * Mean squared response of the 4-neighbour Laplacian on the luma (0.299 R + 0.587 G +
 * 0.114 B), over the interior pixels: the energy of the finest detail.
 */
export function laplacianEnergy(img: RgbImage): number {
  const { width: W, height: H, data } = img;
  if (W < 3 || H < 3) throw new Error(`laplacianEnergy: ${W}x${H} is smaller than 3x3`);
  const y = new Float32Array(W * H);
  for (let i = 0; i < W * H; i++) {
    y[i] = 0.299 * data[i * 3] + 0.587 * data[i * 3 + 1] + 0.114 * data[i * 3 + 2];
  }
  let sum = 0;
  for (let r = 1; r < H - 1; r++) {
    for (let c = 1; c < W - 1; c++) {
      const i = r * W + c;
      const l = y[i - 1] + y[i + 1] + y[i - W] + y[i + W] - 4 * y[i];
      sum += l * l;
    }
  }
  return sum / ((W - 2) * (H - 2));
}

export interface ErrorSummary {
  /** Share of pixels whose error fell by more than `tolerance` (0..1). */
  improvedShare: number;
  /** Share of pixels whose error rose by more than `tolerance` (0..1). */
  worsenedShare: number;
  /** Laplacian energy of input and output relative to the sharp image's (1 = as sharp). */
  inputSharpness: number;
  outputSharpness: number;
  /**
   * "sharpens" when the output's detail energy moved at least a quarter of the way from
   * the input's towards the sharp image's, "smooths" when it lost a quarter or more of the
   * input's, else "about as sharp as its input".
   */
  verdict: "sharpens" | "smooths" | "about as sharp as its input";
}

/** The numbers an error-map figure carries (tolerance in stored units, default 1/255). */
export function errorSummary(
  input: RgbImage,
  output: RgbImage,
  sharp: RgbImage,
  tolerance = 1 / 255,
): ErrorSummary {
  const change = errorChangeMap(input, output, sharp);
  let up = 0, down = 0;
  for (const v of change) {
    if (v > tolerance) up++;
    else if (v < -tolerance) down++;
  }
  const ref = laplacianEnergy(sharp);
  const inS = laplacianEnergy(input) / ref, outS = laplacianEnergy(output) / ref;
  const verdict = inS < 1 && outS >= inS + (1 - inS) / 4
    ? "sharpens"
    : outS <= 0.75 * inS
    ? "smooths"
    : "about as sharp as its input";
  return {
    improvedShare: up / change.length,
    worsenedShare: down / change.length,
    inputSharpness: inS,
    outputSharpness: outS,
    verdict,
  };
}
