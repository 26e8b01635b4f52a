/**
 * How far each output pixel of a deblurring network "sees", measured rather than counted:
 *
 * - the **effective receptive field** (ERF, Luo et al. 2016) of a model at an input: the
 *   gradient of one output pixel (by default the centre one, its three channels summed) with
 *   respect to every input pixel, |d y(c) / d x| summed over the input channels. A CNN's ERF
 *   is exactly zero beyond its theoretical receptive field; a gate recursion's decays like
 *   |g|^n and reaches the image border;
 * - statistics of an ERF map: the radius holding 50/90/99 % of the gradient mass, the
 *   cumulative mass against radius, the extent beyond which the gradient is negligible, the
 *   share of the mass on each side of the pixel (a left-to-right scan only sees to the
 *   left), profiles through the centre;
 * - SVRNN's **gate maps** (`model.analyze(x)` intermediates `gate/K/DIRECTION`): per pixel,
 *   the mean |g| over channels and the "memory length" -1 / ln|g| (pixels after which the
 *   recursion h[t] = (1-g) x[t] + g h[t-1] has forgotten all but 1/e of a sample), with
 *   summary statistics, and their relation to the image's edges.
 *
 * Works for every DeblurModel (SVRNN and its ablations, the CNN control, Nah et al.).
 * Browser-safe: tfjs only, no Deno APIs.
 */
import * as tf from "@tensorflow/tfjs";
import type { DeblurModel } from "../models/model.ts";
import type { RgbImage } from "../data/image.ts";
import type { Direction } from "../ops/gate_rnn.ts";

/** A 2-D map, row-major (height rows of width values). */
export interface Map2D {
  width: number;
  height: number;
  data: Float32Array;
}

export interface ReceptiveField extends Map2D {
  /** Model name (DeblurModel.name). */
  model: string;
  /** The output pixel whose gradient this is. */
  at: { x: number; y: number };
  /** |d y(at) / d x| summed over input channels (and averaged over inputs), max scaled to 1. */
  data: Float32Array;
  /** The largest raw gradient magnitude before scaling (sum over channels). */
  peak: number;
  /** Number of inputs averaged. */
  inputs: number;
}

export interface ErfOptions {
  /** Output pixel; default the centre (floor(W/2), floor(H/2)). */
  at?: { x: number; y: number };
  /** Output channels summed (default all three). */
  channels?: number[];
}

function asBatch(inputs: tf.Tensor4D | RgbImage | RgbImage[]): tf.Tensor4D {
  if (inputs instanceof tf.Tensor) return inputs.clone();
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 0) throw new Error("effectiveReceptiveField: no input images");
  const { width: W, height: H } = list[0];
  const data = new Float32Array(list.length * W * H * 3);
  list.forEach((im, i) => {
    if (im.width !== W || im.height !== H) {
      throw new Error(
        `effectiveReceptiveField: input ${i} is ${im.width}x${im.height}, not ${W}x${H}`,
      );
    }
    data.set(im.data, i * W * H * 3);
  });
  return tf.tensor4d(data, [list.length, H, W, 3]);
}

/**
 * The ERF of `model` at `inputs` (one tensor [N,H,W,3], one image, or several same-size
 * images; N > 1 averages the maps). H and W must be multiples of `model.multiple`
 * (the gradient runs through `model.forward`, which does not pad).
 */
export function effectiveReceptiveField(
  model: DeblurModel,
  inputs: tf.Tensor4D | RgbImage | RgbImage[],
  opts: ErfOptions = {},
): ReceptiveField {
  const x = asBatch(inputs);
  try {
    const [n, H, W] = x.shape;
    if (H % model.multiple !== 0 || W % model.multiple !== 0) {
      throw new Error(
        `effectiveReceptiveField: ${model.name} needs H and W to be multiples of ${model.multiple}, got ${H}x${W}`,
      );
    }
    const at = opts.at ?? { x: Math.floor(W / 2), y: Math.floor(H / 2) };
    if (at.x < 0 || at.y < 0 || at.x >= W || at.y >= H) {
      throw new Error(`effectiveReceptiveField: pixel (${at.x}, ${at.y}) outside ${W}x${H}`);
    }
    const channels = opts.channels ?? [0, 1, 2];
    const mask = new Float32Array(3);
    for (const c of channels) mask[c] = 1;
    const map = tf.tidy(() => {
      const f = (xx: tf.Tensor) => {
        const y = model.forward(xx as tf.Tensor4D);
        const px = tf.slice(y, [0, at.y, at.x, 0], [-1, 1, 1, 3]);
        return tf.sum(tf.mul(px, tf.tensor1d(mask)));
      };
      const g = tf.grad(f)(x);
      // Sum |grad| over channels, average over the batch.
      return tf.div(tf.sum(tf.abs(g), [0, 3]), n);
    });
    const raw = map.dataSync() as Float32Array;
    map.dispose();
    let peak = 0;
    for (const v of raw) peak = Math.max(peak, v);
    const data = new Float32Array(raw.length);
    if (peak > 0) { for (let i = 0; i < raw.length; i++) data[i] = raw[i] / peak; }
    return { model: model.name, width: W, height: H, at, data, peak, inputs: n };
  } finally {
    x.dispose();
  }
}

/** Euclidean distance of pixel i of `m` from `at`. */
function dist(m: Map2D, i: number, at: { x: number; y: number }): number {
  const x = i % m.width, y = Math.floor(i / m.width);
  return Math.hypot(x - at.x, y - at.y);
}

/**
 * Cumulative share of the gradient mass within radius r of the pixel, r = 0, 1, ...,
 * up to the farthest corner: `fraction[r]`.
 */
export function cumulativeMass(rf: ReceptiveField): { radius: number[]; fraction: number[] } {
  const rMax = Math.ceil(
    Math.max(
      Math.hypot(rf.at.x, rf.at.y),
      Math.hypot(rf.width - 1 - rf.at.x, rf.at.y),
      Math.hypot(rf.at.x, rf.height - 1 - rf.at.y),
      Math.hypot(rf.width - 1 - rf.at.x, rf.height - 1 - rf.at.y),
    ),
  );
  const bins = new Float64Array(rMax + 1);
  let total = 0;
  for (let i = 0; i < rf.data.length; i++) {
    const v = rf.data[i];
    bins[Math.ceil(dist(rf, i, rf.at) - 1e-9)] += v;
    total += v;
  }
  const radius: number[] = [], fraction: number[] = [];
  let acc = 0;
  for (let r = 0; r <= rMax; r++) {
    acc += bins[r];
    radius.push(r);
    fraction.push(total > 0 ? acc / total : 0);
  }
  return { radius, fraction };
}

/** Smallest radius (pixels) holding at least `fraction` of the gradient mass. */
export function massRadius(rf: ReceptiveField, fraction: number): number {
  const c = cumulativeMass(rf);
  const i = c.fraction.findIndex((f) => f >= fraction - 1e-12);
  return i < 0 ? c.radius[c.radius.length - 1] : c.radius[i];
}

/**
 * How far the pixel sees: the largest Chebyshev distance (pixels, max of |dx| and |dy|) at
 * which the map exceeds `threshold` (relative to its peak, default 1e-4), and the same
 * distance along each side. A CNN's extent is its theoretical receptive-field radius.
 */
export function extent(
  rf: ReceptiveField,
  threshold = 1e-4,
): { radius: number; left: number; right: number; up: number; down: number } {
  let left = 0, right = 0, up = 0, down = 0;
  for (let i = 0; i < rf.data.length; i++) {
    if (!(rf.data[i] > threshold)) continue;
    const dx = (i % rf.width) - rf.at.x, dy = Math.floor(i / rf.width) - rf.at.y;
    if (dx < 0) left = Math.max(left, -dx);
    else right = Math.max(right, dx);
    if (dy < 0) up = Math.max(up, -dy);
    else down = Math.max(down, dy);
  }
  return { radius: Math.max(left, right, up, down), left, right, up, down };
}

/**
 * How far a CNN sees, px from the pixel along the row: where its input gradient at the centre
 * pixel of a seeded random `side`-px input becomes exactly zero (a CNN's theoretical
 * receptive-field radius; a recurrent model's is the border). Pass the model without its
 * global residual, whose zero-initialised output conv would hide everything but the pixel.
 */
export function exactReach(model: DeblurModel, side = 128): number {
  const x = tf.randomUniform([1, side, side, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  try {
    const e = extent(effectiveReceptiveField(model, x), 0);
    return Math.max(e.left, e.right);
  } finally {
    x.dispose();
  }
}

/**
 * Share of the gradient mass strictly left / right / above / below the pixel (the pixel's
 * own column or row counts for neither side), counting only pixels at least `minDistance`
 * away along that axis (default 1). A causal left-to-right scan puts its far-field mass on
 * the left; scans in both directions put mass on both sides (in what proportion, the
 * convolutions' weights decide too).
 */
export function sideMass(rf: ReceptiveField, minDistance = 1): {
  left: number;
  right: number;
  up: number;
  down: number;
} {
  const d0 = Math.max(1, minDistance);
  let l = 0, r = 0, u = 0, d = 0, total = 0;
  for (let i = 0; i < rf.data.length; i++) {
    const v = rf.data[i];
    const dx = (i % rf.width) - rf.at.x, dy = Math.floor(i / rf.width) - rf.at.y;
    total += v;
    if (dx <= -d0) l += v;
    else if (dx >= d0) r += v;
    if (dy <= -d0) u += v;
    else if (dy >= d0) d += v;
  }
  const f = (v: number) => (total > 0 ? v / total : 0);
  return { left: f(l), right: f(r), up: f(u), down: f(d) };
}

/** Share of the gradient mass farther than `radius` pixels (Euclidean) from the pixel. */
export function massBeyond(rf: ReceptiveField, radius: number): number {
  let far = 0, total = 0;
  for (let i = 0; i < rf.data.length; i++) {
    total += rf.data[i];
    if (dist(rf, i, rf.at) > radius) far += rf.data[i];
  }
  return total > 0 ? far / total : 0;
}

/** The map along the pixel's row ("row": x = 0..W-1) or column ("col": y = 0..H-1). */
export function profile(rf: ReceptiveField, along: "row" | "col"): Float32Array {
  if (along === "row") return rf.data.slice(rf.at.y * rf.width, (rf.at.y + 1) * rf.width);
  return Float32Array.from({ length: rf.height }, (_, y) => rf.data[y * rf.width + rf.at.x]);
}

/** How an ERF's profile falls off on one side of the pixel (see `profileDecay`). */
export interface ProfileDecay {
  /**
   * Geometric decay factor per `step` px: exp(step * slope) of a least-squares line through
   * log|grad| against the distance, over the nonzero values between `from` and `to` px;
   * NaN when fewer than half of them are nonzero (the profile has ended).
   */
  factor: number;
  /** The nearest distance (px, at least 1) from which every value out to the border is exactly 0, or null. */
  zeroFrom: number | null;
}

/**
 * The decay of the profile of `rf` along its row ("row": left and right of the pixel) or
 * column ("col": up and down), fitted between `from` and `to` px from the pixel (default
 * an eighth of the side to the border) per `step` px (default 2: one half-resolution pixel
 * of SVRNN, one gate step, so an open-gate scan with gate g decays by about g).
 */
export function profileDecay(
  rf: ReceptiveField,
  opts: { along?: "row" | "col"; from?: number; to?: number; step?: number } = {},
): { before: ProfileDecay; after: ProfileDecay } {
  const along = opts.along ?? "row";
  const p = profile(rf, along);
  const at = along === "row" ? rf.at.x : rf.at.y;
  const n = p.length, step = opts.step ?? 2;
  const side = (dir: -1 | 1): ProfileDecay => {
    const room = dir < 0 ? at : n - 1 - at;
    const from = Math.max(1, opts.from ?? Math.round(n / 8));
    const to = Math.min(room, opts.to ?? room);
    const pts: [number, number][] = [];
    let count = 0;
    for (let d = from; d <= to; d++) {
      count++;
      const v = p[at + dir * d];
      if (v > 0) pts.push([d, Math.log(v)]);
    }
    let factor = NaN;
    if (count > 0 && pts.length >= Math.max(2, count / 2)) {
      const mx = pts.reduce((a, q) => a + q[0], 0) / pts.length;
      const my = pts.reduce((a, q) => a + q[1], 0) / pts.length;
      let sxy = 0, sxx = 0;
      for (const [x, y] of pts) (sxy += (x - mx) * (y - my)), (sxx += (x - mx) ** 2);
      factor = sxx > 0 ? Math.exp(step * sxy / sxx) : NaN;
    }
    let zeroFrom: number | null = null;
    for (let d = room; d >= 1; d--) {
      if (p[at + dir * d] !== 0) break;
      zeroFrom = d;
    }
    return { factor, zeroFrom };
  };
  return { before: side(-1), after: side(1) };
}

export interface ErfSummary {
  /** Radii (px) holding 50, 90 and 99 % of the gradient mass. */
  r50: number;
  r90: number;
  r99: number;
  /** Chebyshev reach (px) of values above the threshold. */
  extent: number;
  /** True when values above the threshold reach the input's border on some side. */
  reachesBorder: boolean;
  /** Share of the mass beyond `far` px. */
  farMass: number;
  /** Of the mass at |dx| >= far: the share on the left (0.5 = balanced, 1 = causal L->R). */
  farLeftShare: number;
  /** Of the mass at |dy| >= far: the share above. */
  farUpShare: number;
}

/**
 * One row of statistics of an ERF, for tables: radii, reach above `threshold` (relative
 * to the peak, default 1e-4), and the far field beyond `far` px (default an eighth of the
 * input's longer side, at least 2).
 */
export function erfSummary(
  rf: ReceptiveField,
  opts: { threshold?: number; far?: number } = {},
): ErfSummary {
  const e = extent(rf, opts.threshold ?? 1e-4);
  const far = opts.far ?? Math.max(2, Math.round(Math.max(rf.width, rf.height) / 8));
  const s = sideMass(rf, far);
  const share = (a: number, b: number) => (a + b > 0 ? a / (a + b) : NaN);
  return {
    r50: massRadius(rf, 0.5),
    r90: massRadius(rf, 0.9),
    r99: massRadius(rf, 0.99),
    extent: e.radius,
    reachesBorder: e.left >= rf.at.x || e.up >= rf.at.y || e.right >= rf.width - 1 - rf.at.x ||
      e.down >= rf.height - 1 - rf.at.y,
    farMass: massBeyond(rf, far),
    farLeftShare: share(s.left, s.right),
    farUpShare: share(s.up, s.down),
  };
}

/** Block-average downsampling by an integer factor (the last partial block averaged too). */
export function downsampleMap(m: Map2D, factor: number): Map2D {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new Error(`downsampleMap: factor must be a positive integer, got ${factor}`);
  }
  if (factor === 1) return { width: m.width, height: m.height, data: m.data.slice() };
  const w = Math.ceil(m.width / factor), h = Math.ceil(m.height / factor);
  const sum = new Float32Array(w * h), cnt = new Float32Array(w * h);
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      const j = Math.floor(y / factor) * w + Math.floor(x / factor);
      sum[j] += m.data[y * m.width + x];
      cnt[j]++;
    }
  }
  for (let j = 0; j < w * h; j++) sum[j] /= cnt[j];
  return { width: w, height: h, data: sum };
}

/** Rows of a map (for heatmap figures), optionally through f (e.g. log10). */
export function mapRows(m: Map2D, f: (v: number) => number = (v) => v): number[][] {
  return Array.from(
    { length: m.height },
    (_, y) => Array.from(m.data.subarray(y * m.width, (y + 1) * m.width), f),
  );
}

// ---------------------------------------------------------------------------------------
// Gate maps

/** e-folding memory of a gate: -1 / ln|g| samples (Infinity at |g| >= 1, 0 at g = 0). */
export function memoryLength(g: number): number {
  const a = Math.abs(g);
  if (a >= 1) return Infinity;
  if (a === 0) return 0;
  return -1 / Math.log(a);
}

export interface GateMap extends Map2D {
  /** The intermediate's key, e.g. "gate/1/left-right". */
  key: string;
  block: number;
  direction: Direction;
  /** Mean |g| over channels per pixel (at the RNN's half resolution). */
  data: Float32Array;
  /** Mean g over channels per pixel (signed). */
  mean: Float32Array;
  /** Per-channel statistics over every pixel and channel. */
  stats: GateStats;
}

export interface GateStats {
  /** Mean of |g| over pixels and channels. */
  meanAbs: number;
  medianAbs: number;
  /** 90th percentile of |g|. */
  p90Abs: number;
  /** Share of gate values with |g| > 0.9 (memory over 9.5 samples). */
  fracAbove09: number;
  /** Share of negative gate values (an alternating, "double exposure" inverse). */
  fracNegative: number;
  /** Median memory length -1/ln|g| over every value (samples at half resolution). */
  medianMemory: number;
  /** 90th percentile of the memory length. */
  p90Memory: number;
}

function quantile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

/** Statistics of gate values (any layout: every value counts once). */
export function gateStats(values: ArrayLike<number>): GateStats {
  const n = values.length;
  const abs = new Float32Array(n);
  let sum = 0, above = 0, neg = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const a = Math.abs(v);
    abs[i] = a;
    sum += a;
    if (a > 0.9) above++;
    if (v < 0) neg++;
  }
  abs.sort();
  // memoryLength is increasing in |g|: its quantiles are those of |g| mapped through it.
  return {
    meanAbs: n ? sum / n : NaN,
    medianAbs: quantile(abs, 0.5),
    p90Abs: quantile(abs, 0.9),
    fracAbove09: n ? above / n : NaN,
    fracNegative: n ? neg / n : NaN,
    medianMemory: memoryLength(quantile(abs, 0.5)),
    p90Memory: memoryLength(quantile(abs, 0.9)),
  };
}

const GATE_KEY = /^gate\/(\d+)\/(left-right|right-left|top-bottom|bottom-top)$/;

/**
 * The gate maps among `analyze(x).intermediates` (image 0 of the batch), in block order and,
 * within a block, in the order left-right, right-left, top-bottom, bottom-top. Empty for
 * models without gates. Does not dispose the tensors.
 */
export function gateMaps(intermediates: Record<string, tf.Tensor4D>): GateMap[] {
  const order: Direction[] = ["left-right", "right-left", "top-bottom", "bottom-top"];
  const keys = Object.keys(intermediates).filter((k) => GATE_KEY.test(k)).sort((a, b) => {
    const [, ka, da] = a.match(GATE_KEY)!, [, kb, db] = b.match(GATE_KEY)!;
    return Number(ka) - Number(kb) || order.indexOf(da as Direction) -
        order.indexOf(db as Direction);
  });
  return keys.map((key) => {
    const [, k, d] = key.match(GATE_KEY)!;
    const t = intermediates[key];
    const [, h, w, c] = t.shape;
    const all = tf.tidy(() => t.slice([0, 0, 0, 0], [1, -1, -1, -1])).dataSync() as Float32Array;
    const absMean = new Float32Array(h * w), mean = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) {
      let s = 0, sa = 0;
      for (let ch = 0; ch < c; ch++) {
        const v = all[p * c + ch];
        s += v;
        sa += Math.abs(v);
      }
      mean[p] = s / c;
      absMean[p] = sa / c;
    }
    return {
      key,
      block: Number(k),
      direction: d as Direction,
      width: w,
      height: h,
      data: absMean,
      mean,
      stats: gateStats(all),
    };
  });
}

/**
 * Per-pixel memory length of the mean |g| over the given gate maps (all by default):
 * -1 / ln(mean |g|), capped at `cap` (default: the map's longer side, i.e. "the whole
 * image"). Long memory = the scans carry information from far away through that pixel.
 */
export function memoryMap(maps: GateMap[], cap?: number): Map2D {
  if (maps.length === 0) throw new Error("memoryMap: no gate maps (is this an SVRNN?)");
  const { width, height } = maps[0];
  const limit = cap ?? Math.max(width, height);
  const data = new Float32Array(width * height);
  for (let p = 0; p < width * height; p++) {
    let s = 0;
    for (const m of maps) s += m.data[p];
    data[p] = Math.min(limit, memoryLength(s / maps.length));
  }
  return { width, height, data };
}

/**
 * Local edge strength of an image at the gate maps' resolution: the gradient magnitude
 * of its luma (central differences), block-averaged by `factor` (2 for SVRNN's half
 * resolution) and cropped to `width` x `height` when given.
 */
export function edgeMap(img: RgbImage, factor = 2, width?: number, height?: number): Map2D {
  const W = img.width, H = img.height;
  const luma = lumaOf(img);
  const g = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const xl = Math.max(0, x - 1), xr = Math.min(W - 1, x + 1);
      const yu = Math.max(0, y - 1), yd = Math.min(H - 1, y + 1);
      const gx = (luma[y * W + xr] - luma[y * W + xl]) / Math.max(1, xr - xl);
      const gy = (luma[yd * W + x] - luma[yu * W + x]) / Math.max(1, yd - yu);
      g[y * W + x] = Math.hypot(gx, gy);
    }
  }
  return fitMap(downsampleMap({ width: W, height: H, data: g }, factor), width, height);
}

/** Rec. 601 luma of every pixel. */
function lumaOf(img: RgbImage): Float32Array {
  const luma = new Float32Array(img.width * img.height);
  for (let i = 0; i < luma.length; i++) {
    luma[i] = 0.299 * img.data[3 * i] + 0.587 * img.data[3 * i + 1] +
      0.114 * img.data[3 * i + 2];
  }
  return luma;
}

/** `d` cut or zero-padded to width x height (unchanged when either is undefined). */
function fitMap(d: Map2D, width?: number, height?: number): Map2D {
  if (width === undefined || height === undefined) return d;
  const out = new Float32Array(width * height);
  for (let y = 0; y < Math.min(height, d.height); y++) {
    for (let x = 0; x < Math.min(width, d.width); x++) out[y * width + x] = d.data[y * d.width + x];
  }
  return { width, height, data: out };
}

/**
 * The image's brightness (Rec. 601 luma) averaged over `factor` x `factor` blocks, on the
 * grid of the gate maps like `edgeMap`: to ask whether gates follow brightness rather than
 * edges.
 */
export function brightnessMap(img: RgbImage, factor = 2, width?: number, height?: number): Map2D {
  const d = downsampleMap({ width: img.width, height: img.height, data: lumaOf(img) }, factor);
  return fitMap(d, width, height);
}

/** Pearson correlation of two equal-length arrays (NaN when either is constant). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new Error(`correlation: lengths differ (${a.length} and ${b.length})`);
  }
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i]), (mb += b[i]);
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}
