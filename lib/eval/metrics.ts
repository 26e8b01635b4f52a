/**
 * Image quality metrics: PSNR and SSIM, pure TypeScript on Float32Array with float64
 * accumulation. Browser-compatible.
 *
 * Conventions (the ones deblurring papers' numbers are usually computed with, and exactly
 * those of scikit-image's `skimage.metrics`):
 *
 * PSNR = 10 * log10(R^2 / MSE), R = data range = 1, MSE the mean of squared differences over
 * every pixel and every channel (float64). Identical images give +Infinity.
 * Equals `peak_signal_noise_ratio(a, b, data_range=1)`.
 *
 * SSIM = the mean over channels (R, G, B) of the mean SSIM map of each channel, where each map
 * uses Gaussian-weighted local statistics:
 *   - window: Gaussian, sigma = 1.5, truncated at 3.5 sigma: radius 5, 11 x 11 taps,
 *     weights exp(-x^2 / (2 sigma^2)) normalised to sum 1 (scipy.ndimage.gaussian_filter);
 *   - mu_x, mu_y, sigma_x^2 = E[x^2] - mu_x^2, sigma_y^2, sigma_xy = E[xy] - mu_x mu_y
 *     (population covariance, no N/(N-1) correction);
 *   - C1 = (K1 R)^2, C2 = (K2 R)^2 with K1 = 0.01, K2 = 0.03, R = 1;
 *   - S = ((2 mu_x mu_y + C1)(2 sigma_xy + C2)) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2));
 *   - the map is cropped by the window radius (5 px on each side) before the mean, so only
 *     windows lying fully inside the image count and the border mode never matters.
 * Equals `structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=1, channel_axis=-1)` (scikit-image >= 0.19).
 * Images need at least 11 x 11 pixels (after any border crop).
 *
 * `crop` (both metrics) removes that many pixels from every side of both images first, the
 * way many deblurring evaluations ignore borders; default 0.
 */
import { InputError } from "../data/errors.ts";
import type { RgbImage } from "../data/image.ts";

export interface MetricOptions {
  /** Pixels removed from each side of both images before measuring (default 0). */
  crop?: number;
  /** Data range R (default 1). */
  dataRange?: number;
}

export interface SsimOptions extends MetricOptions {
  /** Gaussian sigma (default 1.5). */
  sigma?: number;
  /** Truncation in sigmas (default 3.5, giving an 11-tap window for sigma 1.5). */
  truncate?: number;
  k1?: number;
  k2?: number;
}

interface Region {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

function region(a: RgbImage, b: RgbImage, crop: number, what: string): Region {
  if (a.width !== b.width || a.height !== b.height) {
    throw new InputError(
      `${what}: images differ in size (${a.width}x${a.height} vs ${b.width}x${b.height})`,
    );
  }
  if (a.data.length !== a.width * a.height * 3 || b.data.length !== b.width * b.height * 3) {
    throw new InputError(`${what}: image data is not width*height*3 RGB values`);
  }
  if (!Number.isInteger(crop) || crop < 0) {
    throw new InputError(`${what}: crop must be a non-negative integer, got ${crop}`);
  }
  const w = a.width - 2 * crop, h = a.height - 2 * crop;
  if (w < 1 || h < 1) {
    throw new InputError(
      `${what}: crop ${crop} leaves nothing of a ${a.width}x${a.height} image`,
    );
  }
  return { x0: crop, y0: crop, w, h };
}

/** Mean squared error over all pixels and channels (float64), after the optional crop. */
export function mse(a: RgbImage, b: RgbImage, opts: MetricOptions = {}): number {
  const r = region(a, b, opts.crop ?? 0, "MSE");
  let sum = 0;
  const W = a.width;
  for (let y = r.y0; y < r.y0 + r.h; y++) {
    const row = (y * W + r.x0) * 3;
    for (let i = row; i < row + r.w * 3; i++) {
      const d = a.data[i] - b.data[i];
      sum += d * d;
    }
  }
  return sum / (r.w * r.h * 3);
}

/** PSNR in dB (data range 1 unless given); +Infinity for identical images. */
export function psnr(a: RgbImage, b: RgbImage, opts: MetricOptions = {}): number {
  const R = opts.dataRange ?? 1;
  const m = mse(a, b, opts);
  if (m === 0) return Infinity;
  return 10 * Math.log10((R * R) / m);
}

/** Normalised 1-D Gaussian taps, as scipy.ndimage.gaussian_filter1d builds them. */
export function gaussianTaps(sigma = 1.5, truncate = 3.5): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    taps[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/**
 * Mean SSIM of one channel: x and y are read at data[(row * stride + col) * step + offset]
 * over the region. Returns the mean of the SSIM map over windows lying fully inside.
 */
function ssimChannel(
  ad: Float32Array,
  bd: Float32Array,
  stride: number,
  r: Region,
  ch: number,
  taps: Float64Array,
  c1: number,
  c2: number,
): number {
  const k = taps.length, rad = (k - 1) >> 1;
  const { w, h } = r;
  const ow = w - 2 * rad, oh = h - 2 * rad; // valid outputs
  // horizontal pass over every row, valid columns only: 5 maps, h x ow
  const n1 = h * ow;
  const hx = new Float64Array(n1),
    hy = new Float64Array(n1),
    hxx = new Float64Array(n1),
    hyy = new Float64Array(n1),
    hxy = new Float64Array(n1);
  const rx = new Float64Array(w), ry = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    const base = ((r.y0 + y) * stride + r.x0) * 3 + ch;
    for (let x = 0; x < w; x++) {
      rx[x] = ad[base + x * 3];
      ry[x] = bd[base + x * 3];
    }
    for (let x = 0; x < ow; x++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let t = 0; t < k; t++) {
        const wt = taps[t], vx = rx[x + t], vy = ry[x + t];
        sx += wt * vx;
        sy += wt * vy;
        sxx += wt * vx * vx;
        syy += wt * vy * vy;
        sxy += wt * vx * vy;
      }
      const o = y * ow + x;
      hx[o] = sx;
      hy[o] = sy;
      hxx[o] = sxx;
      hyy[o] = syy;
      hxy[o] = sxy;
    }
  }
  // vertical pass on valid rows, then the SSIM map and its mean
  let total = 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
      for (let t = 0; t < k; t++) {
        const wt = taps[t], o = (y + t) * ow + x;
        ux += wt * hx[o];
        uy += wt * hy[o];
        uxx += wt * hxx[o];
        uyy += wt * hyy[o];
        uxy += wt * hxy[o];
      }
      const vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
      const a1 = 2 * ux * uy + c1, a2 = 2 * vxy + c2;
      const b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2;
      total += (a1 * a2) / (b1 * b2);
    }
  }
  return total / (ow * oh);
}

/** Mean SSIM over R, G, B (see the module comment for the exact convention). */
export function ssim(a: RgbImage, b: RgbImage, opts: SsimOptions = {}): number {
  const r = region(a, b, opts.crop ?? 0, "SSIM");
  const taps = gaussianTaps(opts.sigma ?? 1.5, opts.truncate ?? 3.5);
  if (r.w < taps.length || r.h < taps.length) {
    throw new InputError(
      `SSIM: images must be at least ${taps.length}x${taps.length} pixels (after cropping), ` +
        `got ${r.w}x${r.h}`,
    );
  }
  const R = opts.dataRange ?? 1;
  const c1 = ((opts.k1 ?? 0.01) * R) ** 2, c2 = ((opts.k2 ?? 0.03) * R) ** 2;
  let sum = 0;
  for (let ch = 0; ch < 3; ch++) sum += ssimChannel(a.data, b.data, a.width, r, ch, taps, c1, c2);
  return sum / 3;
}

export interface Scores {
  psnr: number;
  ssim: number;
}

/** PSNR and SSIM together. */
export function scores(a: RgbImage, b: RgbImage, opts: MetricOptions = {}): Scores {
  return { psnr: psnr(a, b, opts), ssim: ssim(a, b, opts) };
}
