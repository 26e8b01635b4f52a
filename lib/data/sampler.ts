/**
 * Patch sampler: seeded random crops (and flips) of blurred/sharp pairs, assembled into NHWC
 * float32 batches, streaming from disk: pairs are loaded on demand through `load` and only a
 * few decoded pairs are kept (an LRU cache), so a dataset need not fit in memory.
 *
 * Every random decision (which pair, where, which flips) is drawn from the seeded generator
 * before any loading starts, so batches are identical for a seed regardless of I/O timing.
 * Pairs are visited in a fresh shuffled order each epoch.
 *
 * Browser-compatible: give it any `load` function (lib/data/gopro.ts `loadPair` on Deno).
 */
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image.ts";
import { Rng } from "./prng.ts";

export interface LoadedPair {
  blur: RgbImage;
  sharp: RgbImage;
}

export interface PatchSamplerOptions<R> {
  pairs: readonly R[];
  load: (ref: R) => Promise<LoadedPair>;
  /** Square patch side in pixels (e.g. 256 for GoPro training). */
  patchSize: number;
  batchSize: number;
  seed?: number | string;
  /** Random horizontal and vertical flips (default true). */
  flip?: boolean;
  /** Decoded pairs kept in memory (default 4). */
  cacheSize?: number;
  /** Start loading the next batch while the current one is used (default true). */
  prefetch?: boolean;
}

export interface PatchInfo {
  pair: number;
  x: number;
  y: number;
  flipH: boolean;
  flipV: boolean;
}

export interface PatchBatch {
  /** NHWC float32, [batchSize, patchSize, patchSize, 3]. */
  blur: Float32Array;
  sharp: Float32Array;
  shape: [number, number, number, number];
  patches: PatchInfo[];
  /** Epoch of the first patch of the batch (0-based). */
  epoch: number;
}

interface Plan {
  pair: number;
  u: number;
  v: number;
  flipH: boolean;
  flipV: boolean;
  epoch: number;
}

type Resolved<R> = Required<Omit<PatchSamplerOptions<R>, "seed">>;

export class PatchSampler<R> {
  readonly #o: Resolved<R>;
  readonly #rng: Rng;
  #order: number[] = [];
  #pos = 0;
  #epoch = -1;
  readonly #cache = new Map<number, Promise<LoadedPair>>();
  #pending: Promise<PatchBatch> | undefined;

  constructor(opts: PatchSamplerOptions<R>) {
    if (opts.pairs.length === 0) throw new InputError("patch sampler: no pairs to sample from");
    if (!Number.isInteger(opts.patchSize) || opts.patchSize < 1) {
      throw new InputError(`patch size must be a positive integer, got ${opts.patchSize}`);
    }
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new InputError(`batch size must be a positive integer, got ${opts.batchSize}`);
    }
    this.#o = {
      pairs: opts.pairs,
      load: opts.load,
      patchSize: opts.patchSize,
      batchSize: opts.batchSize,
      flip: opts.flip ?? true,
      cacheSize: opts.cacheSize ?? 4,
      prefetch: opts.prefetch ?? true,
    };
    this.#rng = new Rng(opts.seed ?? 0);
  }

  #nextPair(): { pair: number; epoch: number } {
    if (this.#pos >= this.#order.length) {
      this.#epoch++;
      this.#order = this.#rng.shuffle(Array.from({ length: this.#o.pairs.length }, (_, i) => i));
      this.#pos = 0;
    }
    return { pair: this.#order[this.#pos++], epoch: this.#epoch };
  }

  #plan(): Plan[] {
    const plans: Plan[] = [];
    for (let b = 0; b < this.#o.batchSize; b++) {
      const { pair, epoch } = this.#nextPair();
      plans.push({
        pair,
        epoch,
        u: this.#rng.uniform(),
        v: this.#rng.uniform(),
        flipH: this.#o.flip ? this.#rng.bool() : false,
        flipV: this.#o.flip ? this.#rng.bool() : false,
      });
    }
    return plans;
  }

  #get(i: number): Promise<LoadedPair> {
    let p = this.#cache.get(i);
    if (p) {
      this.#cache.delete(i); // move to most recent
      this.#cache.set(i, p);
      return p;
    }
    p = this.#o.load(this.#o.pairs[i]).then((pair) => {
      if (pair.blur.width !== pair.sharp.width || pair.blur.height !== pair.sharp.height) {
        throw new InputError(
          `pair ${i} differs in size: blurred ${pair.blur.width}x${pair.blur.height}, sharp ${pair.sharp.width}x${pair.sharp.height}`,
        );
      }
      return pair;
    });
    this.#cache.set(i, p);
    while (this.#cache.size > Math.max(1, this.#o.cacheSize)) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    return p;
  }

  async #assemble(plans: Plan[]): Promise<PatchBatch> {
    const P = this.#o.patchSize, n = plans.length;
    const blur = new Float32Array(n * P * P * 3), sharp = new Float32Array(n * P * P * 3);
    const patches: PatchInfo[] = [];
    for (let b = 0; b < n; b++) {
      const pl = plans[b];
      const pair = await this.#get(pl.pair);
      const { width: W, height: H } = pair.blur;
      if (W < P || H < P) {
        throw new InputError(
          `pair ${pl.pair} is ${W}x${H}, smaller than the ${P}x${P} patch`,
        );
      }
      const x = Math.floor(pl.u * (W - P + 1)), y = Math.floor(pl.v * (H - P + 1));
      copyPatch(pair.blur, blur, b, x, y, P, pl.flipH, pl.flipV);
      copyPatch(pair.sharp, sharp, b, x, y, P, pl.flipH, pl.flipV);
      patches.push({ pair: pl.pair, x, y, flipH: pl.flipH, flipV: pl.flipV });
    }
    return { blur, sharp, shape: [n, P, P, 3], patches, epoch: plans[0].epoch };
  }

  /**
   * Advances past `batches` batches without loading anything. A training run resumed at
   * step k calls skip(k) first and then draws exactly the batches an uninterrupted run
   * would have drawn from step k on.
   */
  skip(batches: number): void {
    if (this.#pending) throw new Error("patch sampler: skip() must come before next()");
    for (let i = 0; i < batches; i++) this.#plan();
  }

  /** The next batch. */
  next(): Promise<PatchBatch> {
    const cur = this.#pending ?? this.#assemble(this.#plan());
    this.#pending = undefined;
    if (this.#o.prefetch) {
      this.#pending = cur.then(() => this.#assemble(this.#plan()));
      this.#pending.catch(() => {}); // surfaced when awaited
    }
    return cur;
  }

  /** Endless stream of batches. */
  async *[Symbol.asyncIterator](): AsyncGenerator<PatchBatch> {
    while (true) yield await this.next();
  }
}

function copyPatch(
  img: RgbImage,
  out: Float32Array,
  b: number,
  x0: number,
  y0: number,
  P: number,
  flipH: boolean,
  flipV: boolean,
) {
  const W = img.width, base = b * P * P * 3;
  for (let y = 0; y < P; y++) {
    const sy = y0 + (flipV ? P - 1 - y : y);
    for (let x = 0; x < P; x++) {
      const sx = x0 + (flipH ? P - 1 - x : x);
      const s = (sy * W + sx) * 3, d = base + (y * P + x) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
}
