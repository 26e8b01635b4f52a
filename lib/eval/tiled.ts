/**
 * Whole-image inference within a memory budget: the image is cut into overlapping tiles,
 * each tile is deblurred on its own, and the overlaps are blended with linear ramps, so
 * no seam shows and no tile boundary gets a hard edge. SVRNN's recurrences see the whole
 * input, so tiling changes the result slightly; the overlap gives every tile's border
 * pixels context, and the ramp weights the pixels a tile sees best.
 */
import * as tf from "@tensorflow/tfjs";
import type { DeblurModel } from "../models/model.ts";
import type { RgbImage } from "../data/image.ts";

export interface TileOptions {
  /** Side of a square tile in pixels (including its overlap); 0 = no tiling. */
  tile: number;
  /** Pixels shared by neighbouring tiles. */
  overlap: number;
}

export const DEFAULT_TILE: TileOptions = { tile: 512, overlap: 32 };

/** Pixels above which "auto" tiling starts (a 1920x1080 image still runs whole). */
export const AUTO_TILE_PIXELS = 2_100_000;

/** Tile starts along one axis: tiles of `tile` covering [0, size) with `overlap`. */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (tile >= size) return [0];
  const stride = tile - overlap;
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += stride) starts.push(s);
  starts.push(size - tile); // the last tile ends flush with the border
  return starts;
}

/** Blend weight of position i in a tile of `len` starting at `start` of an axis of `size`. */
function ramp(i: number, len: number, start: number, size: number, overlap: number): number {
  const r = overlap + 1;
  const fromStart = start === 0 ? Infinity : i + 1;
  const fromEnd = start + len === size ? Infinity : len - i;
  return Math.min(1, fromStart / r, fromEnd / r);
}

/**
 * Runs `model.predict` on one RgbImage, returning the unclipped output image. Read back with
 * `data()`: WebGPU in Deno has no synchronous read (tfjs's readSync needs a canvas).
 */
export async function predictImage(model: DeblurModel, img: RgbImage): Promise<RgbImage> {
  const out = tf.tidy(() => model.predict(tf.tensor4d(img.data, [1, img.height, img.width, 3])));
  const data = await out.data() as Float32Array;
  out.dispose();
  return { width: img.width, height: img.height, data };
}

/**
 * Deblurs `img` tile by tile (or whole when it fits in one tile). `onTile(done, total)`
 * reports progress.
 */
export async function predictTiled(
  model: DeblurModel,
  img: RgbImage,
  opts: TileOptions = DEFAULT_TILE,
  onTile?: (done: number, total: number) => void,
): Promise<RgbImage> {
  const { width: W, height: H } = img;
  if (opts.tile <= 0 || (opts.tile >= W && opts.tile >= H)) {
    const out = await predictImage(model, img);
    onTile?.(1, 1);
    return out;
  }
  if (opts.overlap < 0 || opts.overlap >= opts.tile / 2) {
    throw new Error(
      `tile overlap must be in [0, tile/2), got ${opts.overlap} for tile ${opts.tile}`,
    );
  }
  const ys = tileStarts(H, opts.tile, opts.overlap);
  const xs = tileStarts(W, opts.tile, opts.overlap);
  const acc = new Float32Array(W * H * 3);
  const wsum = new Float32Array(W * H);
  let done = 0;
  for (const y0 of ys) {
    for (const x0 of xs) {
      const th = Math.min(opts.tile, H - y0);
      const tw = Math.min(opts.tile, W - x0);
      const tileImg: RgbImage = { width: tw, height: th, data: new Float32Array(tw * th * 3) };
      for (let y = 0; y < th; y++) {
        const src = ((y0 + y) * W + x0) * 3;
        tileImg.data.set(img.data.subarray(src, src + tw * 3), y * tw * 3);
      }
      const pred = await predictImage(model, tileImg);
      for (let y = 0; y < th; y++) {
        const wy = ramp(y, th, y0, H, opts.overlap);
        for (let x = 0; x < tw; x++) {
          const w = Math.min(wy, ramp(x, tw, x0, W, opts.overlap));
          const p = (y0 + y) * W + x0 + x;
          const q = (y * tw + x) * 3;
          acc[p * 3] += w * pred.data[q];
          acc[p * 3 + 1] += w * pred.data[q + 1];
          acc[p * 3 + 2] += w * pred.data[q + 2];
          wsum[p] += w;
        }
      }
      onTile?.(++done, ys.length * xs.length);
    }
  }
  for (let p = 0; p < W * H; p++) {
    const inv = 1 / wsum[p];
    acc[p * 3] *= inv;
    acc[p * 3 + 1] *= inv;
    acc[p * 3 + 2] *= inv;
  }
  return { width: W, height: H, data: acc };
}
