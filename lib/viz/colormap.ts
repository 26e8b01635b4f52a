/**
 * 2-D maps (receptive fields, gate maps, error maps) as colour images, compact in a
 * notebook (a PNG instead of a plotly heatmap's numbers), with plotly's colour scales.
 *
 * Browser-safe: no Deno APIs.
 */
import type { RgbImage } from "../data/image.ts";
import { colorAt } from "./svg.ts";

export interface ColormapOptions {
  /** Plotly colour scale name (default "Viridis"). */
  scale?: "Viridis" | "RdBu" | "Greys" | "Hot" | string;
  /** Values mapped to the ends of the scale (default: the map's finite min and max). */
  range?: [number, number];
  /**
   * Instead of min and max, these quantiles (e.g. [0.02, 0.98]) of the finite values set
   * the range, so a few extreme pixels (image borders) do not wash out the rest.
   */
  quantiles?: [number, number];
  /** Applied to each value first (e.g. Math.log10); non-finite results take the low end. */
  transform?: (v: number) => number;
  /** Integer nearest-neighbour enlargement (each value becomes an upscale x upscale block). */
  upscale?: number;
}

/**
 * The range a map is drawn with: its finite min and max, or the given quantiles of its
 * finite values. [Infinity, -Infinity] when it has none.
 */
export function colorRange(
  values: ArrayLike<number>,
  quantiles?: [number, number],
): [number, number] {
  const finite = Float64Array.from(Array.from(values).filter(Number.isFinite)).sort();
  if (finite.length === 0) return [Infinity, -Infinity];
  if (!quantiles) return [finite[0], finite[finite.length - 1]];
  const at = (q: number) =>
    finite[Math.min(finite.length - 1, Math.max(0, Math.round(q * (finite.length - 1))))];
  return [at(quantiles[0]), at(quantiles[1])];
}

/** A colour image of a row-major `width` x `height` map. */
export function colormapImage(
  values: ArrayLike<number>,
  width: number,
  height: number,
  opts: ColormapOptions = {},
): RgbImage {
  const f = opts.transform ?? ((v: number) => v);
  const t = Float32Array.from({ length: width * height }, (_, i) => f(values[i]));
  let [lo, hi] = opts.range ?? colorRange(t, opts.quantiles);
  if (!(hi > lo)) hi = lo + 1;
  const k = Math.max(1, Math.floor(opts.upscale ?? 1));
  const W = width * k, H = height * k;
  const data = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = t[Math.floor(y / k) * width + Math.floor(x / k)];
      const u = Number.isFinite(v) ? (v - lo) / (hi - lo) : 0;
      const [r, g, b] = colorAt(opts.scale ?? "Viridis", u);
      const o = (y * W + x) * 3;
      data[o] = r / 255;
      data[o + 1] = g / 255;
      data[o + 2] = b / 255;
    }
  }
  return { width: W, height: H, data };
}

/**
 * Images side by side in one image (a row, or a grid of `columns`), separated by `gap`
 * white pixels; every cell is as large as the largest image (smaller ones top-left).
 */
export function montage(images: RgbImage[], opts: { columns?: number; gap?: number } = {}) {
  if (images.length === 0) throw new Error("montage: no images");
  const cols = Math.max(1, Math.min(images.length, opts.columns ?? images.length));
  const rows = Math.ceil(images.length / cols);
  const gap = opts.gap ?? 4;
  const cw = Math.max(...images.map((i) => i.width)), ch = Math.max(...images.map((i) => i.height));
  const W = cols * cw + (cols - 1) * gap, H = rows * ch + (rows - 1) * gap;
  const data = new Float32Array(W * H * 3).fill(1);
  images.forEach((img, n) => {
    const ox = (n % cols) * (cw + gap), oy = Math.floor(n / cols) * (ch + gap);
    for (let y = 0; y < img.height; y++) {
      data.set(
        img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3),
        ((oy + y) * W + ox) * 3,
      );
    }
  });
  return { width: W, height: H, data } as RgbImage;
}
