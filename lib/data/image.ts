/**
 * The kit's in-memory image: RGB, height x width x 3 (HWC, row-major), float32 values in
 * [0, 1] (values outside are allowed in intermediate results, e.g. a model's unclipped
 * output). Grey and RGBA files are converted to this form when read (lib/data/codec.ts).
 *
 * Browser-compatible: no Deno APIs, no tfjs (tensor helpers live in lib/data/tensor.ts so
 * that command-line tools which never touch a tensor do not load tfjs).
 */
import { InputError } from "./errors.ts";

export interface RgbImage {
  width: number;
  height: number;
  /** HWC RGB, length width * height * 3. */
  data: Float32Array;
}

/** A new image filled with `value` (default 0). */
export function createImage(width: number, height: number, value = 0): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputError(`invalid image size ${width}x${height}`);
  }
  const data = new Float32Array(width * height * 3);
  if (value !== 0) data.fill(value);
  return { width, height, data };
}

/** Throws unless `img` is a well-formed RgbImage. */
export function assertImage(img: RgbImage, what = "image"): void {
  if (
    !img || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 ||
    img.height < 1 || !(img.data instanceof Float32Array) ||
    img.data.length !== img.width * img.height * 3
  ) {
    throw new InputError(`${what} is not an RGB image (width*height*3 Float32Array)`);
  }
}

export function cloneImage(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}

export function sameSize(a: RgbImage, b: RgbImage): boolean {
  return a.width === b.width && a.height === b.height;
}

/** A copy of the rectangle [x, x+width) x [y, y+height); it must lie inside the image. */
export function cropImage(img: RgbImage, x: number, y: number, width: number, height: number) {
  if (
    !Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || width < 1 || height < 1 ||
    x + width > img.width || y + height > img.height
  ) {
    throw new InputError(
      `crop ${width}x${height}+${x}+${y} does not fit in a ${img.width}x${img.height} image`,
    );
  }
  const out = new Float32Array(width * height * 3);
  for (let r = 0; r < height; r++) {
    const src = ((y + r) * img.width + x) * 3;
    out.set(img.data.subarray(src, src + width * 3), r * width * 3);
  }
  return { width, height, data: out };
}

/** Mirror left-right. */
export function flipHorizontal(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3, d = (y * w + (w - 1 - x)) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width: w, height: h, data: out };
}

/** Mirror top-bottom. */
export function flipVertical(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(data.length);
  const row = w * 3;
  for (let y = 0; y < h; y++) out.set(data.subarray(y * row, (y + 1) * row), (h - 1 - y) * row);
  return { width: w, height: h, data: out };
}

/** Clamp every value to [0, 1] (in place when `inPlace`). */
export function clampImage(img: RgbImage, inPlace = false): RgbImage {
  const out = inPlace ? img : cloneImage(img);
  const d = out.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    d[i] = v < 0 ? 0 : v > 1 ? 1 : (v !== v ? 0 : v);
  }
  return out;
}

/** Round to the 8-bit grid (what writing and re-reading an 8-bit PNG gives). */
export function quantize8(img: RgbImage): RgbImage {
  const out = new Float32Array(img.data.length);
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] < 0 ? 0 : d[i] > 1 ? 1 : d[i];
    out[i] = Math.round(v * 255) / 255;
  }
  return { width: img.width, height: img.height, data: out };
}

/** Build an image from interleaved integer samples (1, 2, 3 or 4 channels) of a given maximum. */
export function imageFromSamples(
  width: number,
  height: number,
  samples: ArrayLike<number>,
  channels: number,
  maxValue: number,
): RgbImage {
  const n = width * height;
  if (samples.length < n * channels) {
    throw new InputError(`sample buffer too short: ${samples.length} < ${n * channels}`);
  }
  const out = new Float32Array(n * 3);
  const inv = 1 / maxValue;
  if (channels === 1 || channels === 2) {
    for (let i = 0; i < n; i++) {
      const v = samples[i * channels] * inv;
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    }
  } else if (channels === 3 || channels === 4) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = samples[i * channels] * inv;
      out[i * 3 + 1] = samples[i * channels + 1] * inv;
      out[i * 3 + 2] = samples[i * channels + 2] * inv;
    }
  } else {
    throw new InputError(`unsupported channel count ${channels}`);
  }
  return { width, height, data: out };
}

/** Interleaved 8-bit samples (3 = RGB, 4 = RGBA with alpha 255), values clamped and rounded. */
export function toUint8Samples(img: RgbImage, channels: 3 | 4 = 3): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * channels);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = d[i * 3 + c];
      out[i * channels + c] = v <= 0 || v !== v ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
    if (channels === 4) out[i * 4 + 3] = 255;
  }
  return out;
}

/** Interleaved 16-bit RGB samples, values clamped and rounded. */
export function toUint16Samples(img: RgbImage): Uint16Array {
  const out = new Uint16Array(img.data.length);
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    out[i] = v <= 0 || v !== v ? 0 : v >= 1 ? 65535 : Math.round(v * 65535);
  }
  return out;
}

/**
 * Per-output-pixel source taps along one axis. Downscaling uses exact area (box) averaging:
 * output pixel i covers the source interval [i*s, (i+1)*s) with s = inSize/outSize and each
 * source pixel is weighted by its overlap (OpenCV INTER_AREA, PIL BOX). Upscaling uses
 * bilinear interpolation with half-pixel centres (PyTorch align_corners=False), edges clamped.
 */
function axisTaps(inSize: number, outSize: number): { idx: Int32Array[]; w: Float64Array[] } {
  const idx: Int32Array[] = [], w: Float64Array[] = [];
  const s = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    if (s >= 1) {
      const a = i * s, b = (i + 1) * s;
      const first = Math.floor(a), last = Math.min(inSize - 1, Math.ceil(b) - 1);
      const ii: number[] = [], ww: number[] = [];
      for (let k = first; k <= last; k++) {
        const ov = Math.min(b, k + 1) - Math.max(a, k);
        if (ov > 1e-12) {
          ii.push(k);
          ww.push(ov / s);
        }
      }
      idx.push(Int32Array.from(ii));
      w.push(Float64Array.from(ww));
    } else {
      const src = (i + 0.5) * s - 0.5;
      const f = Math.floor(src), t = src - f;
      const k0 = Math.min(inSize - 1, Math.max(0, f)),
        k1 = Math.min(inSize - 1, Math.max(0, f + 1));
      idx.push(Int32Array.from([k0, k1]));
      w.push(Float64Array.from([1 - t, t]));
    }
  }
  return { idx, w };
}

/**
 * Resize to width x height: exact area averaging when shrinking an axis, bilinear
 * (half-pixel centres) when enlarging it. Separable, float64 accumulation.
 */
export function resizeImage(img: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputError(`invalid target size ${width}x${height}`);
  }
  if (width === img.width && height === img.height) return cloneImage(img);
  const tx = axisTaps(img.width, width), ty = axisTaps(img.height, height);
  // horizontal pass: img.height x width
  const tmp = new Float64Array(img.height * width * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      const ii = tx.idx[x], ww = tx.w[x];
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < ii.length; k++) {
        const s = (y * img.width + ii[k]) * 3, wk = ww[k];
        r += img.data[s] * wk;
        g += img.data[s + 1] * wk;
        b += img.data[s + 2] * wk;
      }
      const d = (y * width + x) * 3;
      tmp[d] = r;
      tmp[d + 1] = g;
      tmp[d + 2] = b;
    }
  }
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const ii = ty.idx[y], ww = ty.w[y];
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < ii.length; k++) {
        const s = (ii[k] * width + x) * 3, wk = ww[k];
        r += tmp[s] * wk;
        g += tmp[s + 1] * wk;
        b += tmp[s + 2] * wk;
      }
      const d = (y * width + x) * 3;
      out[d] = r;
      out[d + 1] = g;
      out[d + 2] = b;
    }
  }
  return { width, height, data: out };
}

/** Scale so that the longer side is at most `maxSide` (never enlarges); keeps the aspect ratio. */
export function fitWithin(img: RgbImage, maxSide: number): RgbImage {
  const long = Math.max(img.width, img.height);
  if (long <= maxSide) return cloneImage(img);
  const s = maxSide / long;
  const w = Math.max(1, Math.round(img.width * s)), h = Math.max(1, Math.round(img.height * s));
  return resizeImage(img, w, h);
}

/** Luma (BT.601 weights) as a single-channel Float32Array, for analysis helpers. */
export function luma(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = 0.299 * img.data[i * 3] + 0.587 * img.data[i * 3 + 1] + 0.114 * img.data[i * 3 + 2];
  }
  return out;
}
