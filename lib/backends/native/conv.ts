/**
 * 2-D convolution (NHWC activations, [kh, kw, in, out] filters: tfjs's layouts) and both
 * of its gradients as matrix products handed to a BLAS `sgemm`, on plain Float32Arrays.
 * No tfjs here: lib/backends/native/kernels.ts adapts these to tfjs kernels.
 *
 * Stride 1 (every SVRNN conv but one) uses a "padded-width grid": the input rows a chunk
 * needs are copied once into a zero-padded buffer P of width Wp = outW + (kW-1)*dilW, and
 * the output is computed at every grid position m = row*Wp + col. The input patch under
 * tap (kh, kw) of position m then starts at P[m + kh*dilH*Wp + kw*dilW], so one tap's
 * contribution to a whole chunk is a single product of a strided view of P (lda = inC,
 * no copy at all) with that tap's [inC, outC] slice of the filter. The Wp - outW extra
 * columns per row are discarded when the result is copied out (with bias and activation
 * applied in the same pass). How much of the patch is gathered into a contiguous matrix
 * first is a trade between copying and the product's inner dimension (`Gather`):
 *   "none": kH*kW products with inner dimension inC (no copy; best for inC >= ~32),
 *   "kw":   kH products with inner dimension kW*inC (each P row-run copied once),
 *   "all":  one product with inner dimension kH*kW*inC (im2col; best for tiny inC).
 * Several small images stack into one grid (each followed by its halo rows), so a batch
 * of 16x16 feature maps still makes one large product.
 *
 * Other strides use im2col per chunk of output rows (and col2im for the input gradient).
 * Every chunk's scratch is bounded by `chunkBytes`, so memory stays flat at any image size.
 */
import type { Gemm } from "./blas.ts";

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  /** Zeros before the first input row / column (may be negative: rows are skipped). */
  padTop: number;
  padLeft: number;
}

export type Activation = "linear" | "relu" | "relu6" | "leakyrelu" | "prelu" | "elu" | "sigmoid";

export const ACTIVATIONS: readonly Activation[] = [
  "linear",
  "relu",
  "relu6",
  "leakyrelu",
  "prelu",
  "elu",
  "sigmoid",
];

/** Bias and activation applied to every output value as it is written. */
export interface Epilogue {
  /** Length 1 (scalar) or outC; null for none. */
  bias: Float32Array | null;
  activation: Activation;
  /** LeakyReLU slope. */
  alpha: number;
  /** PReLU slopes, length 1 or outC ("prelu" only). */
  prelu: Float32Array | null;
}

export type Gather = "none" | "kw" | "all";

export interface ConvOptions {
  gemm: Gemm;
  /** Scratch budget per chunk in bytes (default 8 MiB). */
  chunkBytes?: number;
  /** Force a gather level on the stride-1 path (default: chosen from the shape). */
  gather?: Gather;
  /** Force the im2col path even for stride 1 (for tests and benchmarks). */
  im2col?: boolean;
  /**
   * Stride 1: the products of a chunk are split into runs of grid positions whose output
   * block (or upstream gradient) plus the input window its taps read hold at most this many
   * bytes, so they stay in cache while every tap accumulates. Default 1 MiB for forward
   * convs to <= 16 channels (which run on one thread, see convThreads; 5x5 to 3 channels
   * at 1280x720: 142 ms against 234 unblocked) and filter gradients to <= 64 channels;
   * none otherwise. Forward convs to 32 or 64 channels run on both threads, where blocks
   * made products too small to share: a 3x3 64->64 conv at 1280x720 took 690 ms blocked
   * against 361 ms unblocked, at batch 20 of 128x128 251 against 132.
   */
  blockBytes?: number;
  /**
   * Stride-1 forward: compute the output transposed ([outC, positions]) and transpose it
   * while copying out. Off by default: OpenBLAS runs the transposed product faster for
   * outC <= 32, but measured on SVRNN's layers the extra transposition ate the gain.
   */
  transposedOutput?: boolean;
}

const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
const DEFAULT_BLOCK_BYTES = 1024 * 1024;
const FORWARD_BLOCK_MAX_OUT_CHANNELS = 16;
const FILTER_BLOCK_MAX_OUT_CHANNELS = 64;

// ---------------------------------------------------------------------------------------
// Scratch buffers, reused between calls (fresh multi-megabyte allocations cost page faults).

const scratchPool = new Map<string, Float32Array>();

function scratch(slot: string, n: number): Float32Array {
  let buf = scratchPool.get(slot);
  if (!buf || buf.length < n) {
    buf = new Float32Array(Math.max(n, 1));
    scratchPool.set(slot, buf);
  }
  return buf.length === n ? buf : buf.subarray(0, n);
}

/** Drops the reusable scratch buffers (their size is bounded by chunkBytes). */
export function releaseScratch(): void {
  scratchPool.clear();
}

/** Bytes currently held as scratch. */
export function scratchBytes(): number {
  let n = 0;
  for (const b of scratchPool.values()) n += b.byteLength;
  return n;
}

// ---------------------------------------------------------------------------------------
// Small helpers.

/** dst[d .. d+len) = src[s .. s+len). */
function copyRun(dst: Float32Array, d: number, src: Float32Array, s: number, len: number): void {
  if (len >= 24) {
    dst.set(src.subarray(s, s + len), d);
  } else {
    for (let i = 0; i < len; i++) dst[d + i] = src[s + i];
  }
}

export function isLinear(ep: Epilogue | null | undefined): boolean {
  return !ep || (ep.bias === null && ep.activation === "linear");
}

/**
 * dst[d + i] = act(src[s + i] + bias[c]) for `pixels` runs of outC values, c the channel.
 * src and dst may be the same array at the same offset.
 */
export function applyEpilogue(
  dst: Float32Array,
  d: number,
  src: Float32Array,
  s: number,
  pixels: number,
  outC: number,
  ep: Epilogue | null | undefined,
): void {
  const n = pixels * outC;
  if (isLinear(ep)) {
    if (dst !== src || d !== s) copyRun(dst, d, src, s, n);
    return;
  }
  const e = ep!;
  let bias = e.bias;
  if (bias !== null && bias.length === 1) bias = fillChannels(bias[0], outC, "bias1");
  if (bias !== null && bias.length !== outC) {
    throw new Error(`native conv: bias has ${bias.length} values for ${outC} channels`);
  }
  // First the bias (or the plain copy), then the activation in place on dst.
  if (bias !== null) {
    for (let p = 0; p < pixels; p++) {
      const so = s + p * outC, dO = d + p * outC;
      for (let c = 0; c < outC; c++) dst[dO + c] = src[so + c] + bias[c];
    }
  } else if (dst !== src || d !== s) {
    copyRun(dst, d, src, s, n);
  }
  const end = d + n;
  switch (e.activation) {
    case "linear":
      return;
    case "relu":
      // Branch-free forms (see js_kernels.ts): same values, 3-4x faster on mixed signs.
      for (let i = d; i < end; i++) {
        const v = dst[i];
        dst[i] = (v + Math.abs(v)) * 0.5;
      }
      return;
    case "relu6":
      for (let i = d; i < end; i++) dst[i] = Math.min(Math.max(0, dst[i]), 6);
      return;
    case "leakyrelu": {
      const a = e.alpha;
      for (let i = d; i < end; i++) {
        const v = dst[i], m = Math.abs(v);
        dst[i] = 0.5 * (v + m) + a * (0.5 * (v - m));
      }
      return;
    }
    case "elu":
      for (let i = d; i < end; i++) {
        const v = dst[i];
        dst[i] = v >= 0 ? v : Math.exp(v) - 1;
      }
      return;
    case "sigmoid":
      for (let i = d; i < end; i++) dst[i] = 1 / (1 + Math.exp(-dst[i]));
      return;
    case "prelu": {
      let w = e.prelu;
      if (w === null) throw new Error("native conv: prelu activation without weights");
      if (w.length === 1) w = fillChannels(w[0], outC, "prelu1");
      if (w.length !== outC) {
        throw new Error(`native conv: prelu weights have ${w.length} values for ${outC} channels`);
      }
      for (let p = 0; p < pixels; p++) {
        const o = d + p * outC;
        for (let c = 0; c < outC; c++) {
          const v = dst[o + c];
          dst[o + c] = v < 0 ? w[c] * v : v;
        }
      }
      return;
    }
  }
}

function fillChannels(v: number, n: number, slot: string): Float32Array {
  const a = scratch(slot, n);
  a.fill(v);
  return a;
}

/** Throws, naming `what`, unless the x, filter and y buffers hold the geometry's elements. */
export function checkSizes(
  g: ConvGeometry,
  x: number,
  w: number,
  y: number,
  what: string,
): void {
  const nx = g.batch * g.inH * g.inW * g.inC;
  const nw = g.kH * g.kW * g.inC * g.outC;
  const ny = g.batch * g.outH * g.outW * g.outC;
  if (x < nx || w < nw || y < ny) {
    throw new Error(
      `${what}: buffers too small for geometry ${JSON.stringify(g)} ` +
        `(have ${x}/${w}/${y}, need ${nx}/${nw}/${ny})`,
    );
  }
}

/** The gather level used on the stride-1 path when none is forced. */
export function defaultGather(g: ConvGeometry): Gather {
  if (g.kH * g.kW === 1 || g.inC >= 32) return "none";
  if (g.kW * g.inC >= 32) return "kw";
  return "all";
}

/**
 * Rows x columns of the output of each matrix product the filter gradient makes: per tap
 * [inC, outC] without gathering, [kW*inC, outC] or [kH*kW*inC, outC] with it (im2col too).
 */
function filterProductSize(g: ConvGeometry, opts: Pick<ConvOptions, "gather" | "im2col">) {
  const taps = g.kH === 1 && g.kW === 1
    ? 1
    : !usesGrid(g, opts)
    ? g.kH * g.kW
    : { none: 1, kw: g.kW, all: g.kH * g.kW }[opts.gather ?? defaultGather(g)];
  return taps * g.inC * g.outC;
}

/**
 * How many of `available` OpenBLAS threads a pass should run with. OpenBLAS splits every
 * product's output between its threads and synchronises them per call; where the outputs
 * are small and the calls many, the second thread costs more than it brings. Measured on
 * SVRNN's layers at batch 20 of 128x128 on a 2-core machine (docs/backends.md#what-it-does):
 * the filter gradient of a 9x9 conv to 16 channels (81 products of [64, 16] per block) took
 * 445 ms on two threads against 214 ms on one, an 11x11 conv from 3 channels 162 against
 * 92; forward convs to 16 channels 214 against 170 and 92 against 70. Products of 8192
 * output values or more, and every input gradient, ran faster on two.
 */
export function convThreads(
  g: ConvGeometry,
  pass: "forward" | "input" | "filter",
  available: number,
  opts: Pick<ConvOptions, "gather" | "im2col"> = {},
): number {
  if (available <= 1) return available;
  if (pass === "forward") return g.outC <= SERIAL_MAX_OUT_CHANNELS ? 1 : available;
  if (pass === "filter") {
    return filterProductSize(g, opts) <= SERIAL_MAX_PRODUCT ? 1 : available;
  }
  return available;
}

const SERIAL_MAX_OUT_CHANNELS = 16;
const SERIAL_MAX_PRODUCT = 4096;

function usesGrid(g: ConvGeometry, opts: Pick<ConvOptions, "im2col">): boolean {
  return !opts.im2col && g.strideH === 1 && g.strideW === 1;
}

// ---------------------------------------------------------------------------------------
// The padded-width grid (stride 1).

interface Segment {
  /** Image index. */
  n: number;
  /** First output row. */
  h0: number;
  /** Output rows. */
  rows: number;
  /** Grid row where the segment starts (its halo rows follow its output rows). */
  g: number;
}

interface GridPlan {
  Wp: number;
  halo: number;
  chunks: Segment[][];
}

function gatherCols(g: ConvGeometry, gather: Gather): { kw: number; all: number } {
  if (gather === "kw") return { kw: g.kW * g.inC, all: 0 };
  if (gather === "all") return { kw: 0, all: g.kH * g.kW * g.inC };
  return { kw: 0, all: 0 };
}

function planGrid(g: ConvGeometry, gather: Gather, chunkBytes: number, cols: number): GridPlan {
  const Wp = g.outW + (g.kW - 1) * g.dilW;
  const halo = (g.kH - 1) * g.dilH;
  const gc = gatherCols(g, gather);
  // Floats for R output rows: P and the kw-gather carry halo rows, the rest do not.
  const perHaloRow = Wp * (g.inC + gc.kw);
  const perRow = perHaloRow + Wp * (gc.all + cols);
  const budget = chunkBytes / 4;
  const R = Math.max(1, Math.floor((budget - halo * perHaloRow) / perRow));
  const chunks: Segment[][] = [];
  let cur: Segment[] = [];
  let left = R;
  let gRow = 0;
  for (let n = 0; n < g.batch; n++) {
    let h = 0;
    while (h < g.outH) {
      const rows = Math.min(left, g.outH - h);
      cur.push({ n, h0: h, rows, g: gRow });
      gRow += rows + halo;
      h += rows;
      left -= rows;
      if (left === 0) {
        chunks.push(cur);
        cur = [];
        left = R;
        gRow = 0;
      }
    }
  }
  if (cur.length > 0) chunks.push(cur);
  return { Wp, halo, chunks };
}

/** Grid rows of a chunk and the number of grid positions whose outputs are computed. */
function chunkExtent(plan: GridPlan, chunk: Segment[], kW: number, dilW: number) {
  const last = chunk[chunk.length - 1];
  const G = last.g + last.rows + plan.halo;
  const M = (G - plan.halo) * plan.Wp - (kW - 1) * dilW;
  return { G, M };
}

/** Copies the input rows of a chunk into the zero-padded grid buffer P. */
function fillPadded(
  P: Float32Array,
  x: Float32Array,
  g: ConvGeometry,
  plan: GridPlan,
  chunk: Segment[],
): void {
  const { Wp, halo } = plan;
  const C = g.inC;
  const colStart = Math.max(0, g.padLeft);
  const srcCol = colStart - g.padLeft;
  const count = Math.max(0, Math.min(Wp - colStart, g.inW - srcCol));
  for (const s of chunk) {
    for (let j = 0; j < s.rows + halo; j++) {
      const dst = (s.g + j) * Wp * C;
      const ih = s.h0 + j - g.padTop;
      if (ih < 0 || ih >= g.inH || count === 0) {
        P.fill(0, dst, dst + Wp * C);
        continue;
      }
      if (colStart > 0) P.fill(0, dst, dst + colStart * C);
      const src = ((s.n * g.inH + ih) * g.inW + srcCol) * C;
      P.set(x.subarray(src, src + count * C), dst + colStart * C);
      const end = colStart + count;
      if (end < Wp) P.fill(0, dst + end * C, dst + Wp * C);
    }
  }
}

/**
 * Gathers the kW taps of every grid position: Gk[m] = P[m + kw*dilW] for kw < kW, for m
 * in [0, rows). With dilW = 1 the taps of one position are one contiguous run of P.
 */
function gatherKw(Gk: Float32Array, P: Float32Array, g: ConvGeometry, rows: number): void {
  const C = g.inC, kW = g.kW, dW = g.dilW, width = kW * C;
  if (dW === 1) {
    if (width >= 24) {
      for (let m = 0; m < rows; m++) Gk.set(P.subarray(m * C, m * C + width), m * width);
    } else {
      for (let m = 0; m < rows; m++) {
        const s = m * C, d = m * width;
        for (let i = 0; i < width; i++) Gk[d + i] = P[s + i];
      }
    }
    return;
  }
  for (let m = 0; m < rows; m++) {
    for (let kw = 0; kw < kW; kw++) copyRun(Gk, m * width + kw * C, P, (m + kw * dW) * C, C);
  }
}

/** Full im2col on the grid: Ga[m] = concat over (kh, kw) of P[m + kh*dilH*Wp + kw*dilW]. */
function gatherAll(Ga: Float32Array, P: Float32Array, g: ConvGeometry, Wp: number, M: number) {
  const C = g.inC, kW = g.kW, kH = g.kH, dW = g.dilW, dH = g.dilH;
  const K = kH * kW * C, run = kW * C;
  for (let m = 0; m < M; m++) {
    const d0 = m * K;
    for (let kh = 0; kh < kH; kh++) {
      const base = m + kh * dH * Wp;
      if (dW === 1) {
        const s = base * C, d = d0 + kh * run;
        if (run >= 24) Ga.set(P.subarray(s, s + run), d);
        else for (let i = 0; i < run; i++) Ga[d + i] = P[s + i];
      } else {
        for (let kw = 0; kw < kW; kw++) {
          copyRun(Ga, d0 + kh * run + kw * C, P, (base + kw * dW) * C, C);
        }
      }
    }
  }
}

/**
 * Accumulates the chunk's products into Cbuf: [M, outC] (row stride outC), or with
 * `trans` its transpose [outC, M] (row stride M).
 */
function gridForwardProducts(
  gemm: Gemm,
  g: ConvGeometry,
  w: Float32Array,
  P: Float32Array,
  Wp: number,
  M: number,
  gather: Gather,
  Cbuf: Float32Array,
  trans: boolean,
): void {
  const { inC, outC, kH, kW, dilH, dilW } = g;
  // C (+)= A[M, k] x B[k, outC], A with row stride lda.
  const product = (a: Float32Array, lda: number, b: Float32Array, k: number, beta: number) => {
    if (trans) gemm(true, true, outC, M, k, 1, b, outC, a, lda, beta, Cbuf, M);
    else gemm(false, false, M, outC, k, 1, a, lda, b, outC, beta, Cbuf, outC);
  };
  if (gather === "none") {
    let first = true;
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const a = P.subarray((kh * dilH * Wp + kw * dilW) * inC);
        product(a, inC, w.subarray((kh * kW + kw) * inC * outC), inC, first ? 0 : 1);
        first = false;
      }
    }
  } else if (gather === "kw") {
    const width = kW * inC;
    const Gk = scratch("gatherKw", (M + (kH - 1) * dilH * Wp) * width);
    gatherKw(Gk, P, g, M + (kH - 1) * dilH * Wp);
    for (let kh = 0; kh < kH; kh++) {
      const a = Gk.subarray(kh * dilH * Wp * width);
      product(a, width, w.subarray(kh * width * outC), width, kh === 0 ? 0 : 1);
    }
  } else {
    const K = kH * kW * inC;
    const Ga = scratch("gatherAll", M * K);
    gatherAll(Ga, P, g, Wp, M);
    product(Ga, K, w, K, 0);
  }
}

/**
 * Grid positions per block: the block's output (or upstream gradient) rows plus the input
 * window its taps read fit in `blockBytes`, so they stay in cache across the taps.
 */
function blockRun(g: ConvGeometry, plan: GridPlan, blockBytes: number): number {
  const halo = plan.halo * plan.Wp + (g.kW - 1) * g.dilW;
  const budget = blockBytes / 4 - halo * g.inC;
  return Math.max(plan.Wp, Math.floor(budget / (g.inC + g.outC)));
}

/** dw += the products of a block: P view and dy on the grid (D), both starting at the block. */
function gridFilterProducts(
  gemm: Gemm,
  g: ConvGeometry,
  P: Float32Array,
  Wp: number,
  M: number,
  gather: Gather,
  D: Float32Array,
  dw: Float32Array,
): void {
  const { inC, outC, kH, kW, dilH, dilW } = g;
  if (gather === "none") {
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const a = P.subarray((kh * dilH * Wp + kw * dilW) * inC);
        const c = dw.subarray((kh * kW + kw) * inC * outC);
        gemm(true, false, inC, outC, M, 1, a, inC, D, outC, 1, c, outC);
      }
    }
  } else if (gather === "kw") {
    const width = kW * inC;
    const Gk = scratch("gatherKw", (M + (kH - 1) * dilH * Wp) * width);
    gatherKw(Gk, P, g, M + (kH - 1) * dilH * Wp);
    for (let kh = 0; kh < kH; kh++) {
      const a = Gk.subarray(kh * dilH * Wp * width);
      const c = dw.subarray(kh * width * outC);
      gemm(true, false, width, outC, M, 1, a, width, D, outC, 1, c, outC);
    }
  } else {
    const K = kH * kW * inC;
    const Ga = scratch("gatherAll", M * K);
    gatherAll(Ga, P, g, Wp, M);
    gemm(true, false, K, outC, M, 1, Ga, K, D, outC, 1, dw, outC);
  }
}

// ---------------------------------------------------------------------------------------
// im2col on output rows (any stride, dilation and padding).

/** A[(q - q0)*outW + wo] = the patch of output pixel (q, wo), q = n*outH + ho a global row. */
function im2colRows(A: Float32Array, x: Float32Array, g: ConvGeometry, q0: number, rows: number) {
  const { inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = g;
  const K = kH * kW * inC, run = kW * inC;
  for (let r = 0; r < rows; r++) {
    const q = q0 + r, n = Math.floor(q / outH), ho = q - n * outH;
    for (let wo = 0; wo < outW; wo++) {
      const d0 = (r * outW + wo) * K;
      const iw0 = wo * strideW - padLeft;
      const rowFits = dilW === 1 && iw0 >= 0 && iw0 + kW <= inW;
      for (let kh = 0; kh < kH; kh++) {
        const ih = ho * strideH + kh * dilH - padTop;
        const d = d0 + kh * run;
        if (ih < 0 || ih >= inH) {
          A.fill(0, d, d + run);
          continue;
        }
        const rowBase = (n * inH + ih) * inW;
        if (rowFits) {
          copyRun(A, d, x, (rowBase + iw0) * inC, run);
          continue;
        }
        for (let kw = 0; kw < kW; kw++) {
          const iw = iw0 + kw * dilW;
          const dd = d + kw * inC;
          if (iw < 0 || iw >= inW) A.fill(0, dd, dd + inC);
          else copyRun(A, dd, x, (rowBase + iw) * inC, inC);
        }
      }
    }
  }
}

/** dx[patch of (q, wo)] += D[(q - q0)*outW + wo]: the adjoint of im2colRows. */
function col2imRows(dx: Float32Array, D: Float32Array, g: ConvGeometry, q0: number, rows: number) {
  const { inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = g;
  const K = kH * kW * inC;
  for (let r = 0; r < rows; r++) {
    const q = q0 + r, n = Math.floor(q / outH), ho = q - n * outH;
    for (let wo = 0; wo < outW; wo++) {
      const s0 = (r * outW + wo) * K;
      const iw0 = wo * strideW - padLeft;
      for (let kh = 0; kh < kH; kh++) {
        const ih = ho * strideH + kh * dilH - padTop;
        if (ih < 0 || ih >= inH) continue;
        const rowBase = (n * inH + ih) * inW;
        for (let kw = 0; kw < kW; kw++) {
          const iw = iw0 + kw * dilW;
          if (iw < 0 || iw >= inW) continue;
          const d = (rowBase + iw) * inC, s = s0 + (kh * kW + kw) * inC;
          for (let c = 0; c < inC; c++) dx[d + c] += D[s + c];
        }
      }
    }
  }
}

function im2colRowsPerChunk(g: ConvGeometry, chunkBytes: number, extraCols: number): number {
  const K = g.kH * g.kW * g.inC;
  return Math.max(1, Math.floor(chunkBytes / 4 / (g.outW * (K + extraCols))));
}

// ---------------------------------------------------------------------------------------
// Public entry points.

/** y = act(conv(x, w) + bias). y must hold batch*outH*outW*outC floats. */
export function convForward(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  y: Float32Array,
  ep: Epilogue | null,
  opts: ConvOptions,
): void {
  checkSizes(g, x.length, w.length, y.length, "native conv2d");
  const { gemm } = opts;
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const { outC, outH, outW } = g;
  if (g.batch * outH * outW * outC === 0) return;
  if (g.inC === 0) {
    y.fill(0, 0, g.batch * outH * outW * outC);
    applyEpilogue(y, 0, y, 0, g.batch * outH * outW, outC, ep);
    return;
  }
  // A 1x1 stride-1 conv without padding is one product of x with w.
  if (
    g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 &&
    g.padLeft === 0 && g.outH === g.inH && g.outW === g.inW && !opts.im2col
  ) {
    const M = g.batch * g.inH * g.inW;
    gemm(false, false, M, outC, g.inC, 1, x, g.inC, w, outC, 0, y, outC);
    applyEpilogue(y, 0, y, 0, M, outC, ep);
    return;
  }
  if (usesGrid(g, opts)) {
    const gather = opts.gather ?? defaultGather(g);
    const trans = opts.transposedOutput ?? false;
    const plan = planGrid(g, gather, chunkBytes, outC);
    for (const chunk of plan.chunks) {
      const { G, M } = chunkExtent(plan, chunk, g.kW, g.dilW);
      const P = scratch("P", G * plan.Wp * g.inC);
      fillPadded(P, x, g, plan, chunk);
      const Cbuf = scratch("C", M * outC);
      if (trans) {
        gridForwardProducts(gemm, g, w, P, plan.Wp, M, gather, Cbuf, true);
      } else {
        const blockBytes = opts.blockBytes ??
          (outC <= FORWARD_BLOCK_MAX_OUT_CHANNELS ? DEFAULT_BLOCK_BYTES : Infinity);
        const run = blockRun(g, plan, blockBytes);
        for (let m0 = 0; m0 < M; m0 += run) {
          const m = Math.min(run, M - m0);
          const Pv = P.subarray(m0 * g.inC), Cv = Cbuf.subarray(m0 * outC);
          gridForwardProducts(gemm, g, w, Pv, plan.Wp, m, gather, Cv, false);
        }
      }
      for (const s of chunk) {
        for (let r = 0; r < s.rows; r++) {
          const dst = ((s.n * outH + s.h0 + r) * outW) * outC;
          if (trans) {
            const src = (s.g + r) * plan.Wp;
            for (let c = 0; c < outC; c++) {
              const row = c * M + src;
              for (let wo = 0; wo < outW; wo++) y[dst + wo * outC + c] = Cbuf[row + wo];
            }
            applyEpilogue(y, dst, y, dst, outW, outC, ep);
          } else {
            applyEpilogue(y, dst, Cbuf, (s.g + r) * plan.Wp * outC, outW, outC, ep);
          }
        }
      }
    }
    return;
  }
  const K = g.kH * g.kW * g.inC;
  const total = g.batch * outH;
  const R = im2colRowsPerChunk(g, chunkBytes, 0);
  for (let q0 = 0; q0 < total; q0 += R) {
    const rows = Math.min(R, total - q0);
    const A = scratch("im2col", rows * outW * K);
    im2colRows(A, x, g, q0, rows);
    const yOff = q0 * outW * outC;
    const M = rows * outW;
    gemm(false, false, M, outC, K, 1, A, K, w, outC, 0, y.subarray(yOff), outC);
    applyEpilogue(y, yOff, y, yOff, M, outC, ep);
  }
}

/**
 * dx = the gradient of conv(x, w) with respect to x, for upstream gradient dy
 * ([batch, outH, outW, outC]); dx is overwritten ([batch, inH, inW, inC]).
 */
export function convBackpropInput(
  g: ConvGeometry,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array,
  opts: ConvOptions,
): void {
  checkSizes(g, dx.length, w.length, dy.length, "native conv2dBackpropInput");
  const { inC, outC, kH, kW } = g;
  const nx = g.batch * g.inH * g.inW * inC;
  if (nx === 0) return;
  if (g.batch * g.outH * g.outW * outC === 0 || kH * kW === 0) {
    dx.fill(0, 0, nx);
    return;
  }
  if (usesGrid(g, opts)) {
    // A stride-1 conv of dy with the filter flipped in space and in/out swapped.
    const wf = scratch("wflip", kH * kW * outC * inC);
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const src = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * inC * outC;
        const dst = (kh * kW + kw) * outC * inC;
        for (let ci = 0; ci < inC; ci++) {
          for (let co = 0; co < outC; co++) wf[dst + co * inC + ci] = w[src + ci * outC + co];
        }
      }
    }
    const gt: ConvGeometry = {
      batch: g.batch,
      inH: g.outH,
      inW: g.outW,
      inC: outC,
      outH: g.inH,
      outW: g.inW,
      outC: inC,
      kH,
      kW,
      strideH: 1,
      strideW: 1,
      dilH: g.dilH,
      dilW: g.dilW,
      padTop: (kH - 1) * g.dilH - g.padTop,
      padLeft: (kW - 1) * g.dilW - g.padLeft,
    };
    convForward(gt, dy, wf, dx, null, { ...opts, gather: undefined, im2col: false });
    return;
  }
  dx.fill(0, 0, nx);
  const K = kH * kW * inC;
  const total = g.batch * g.outH;
  const R = im2colRowsPerChunk(g, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, 0);
  for (let q0 = 0; q0 < total; q0 += R) {
    const rows = Math.min(R, total - q0);
    const M = rows * g.outW;
    const D = scratch("col", M * K);
    const dyc = dy.subarray(q0 * g.outW * outC);
    // D [M, K] = dy [M, outC] x w^T, w seen as [K, outC].
    opts.gemm(false, true, M, K, outC, 1, dyc, outC, w, outC, 0, D, K);
    col2imRows(dx, D, g, q0, rows);
  }
}

/**
 * dw = the gradient of conv(x, w) with respect to w ([kH, kW, inC, outC], overwritten),
 * for input x and upstream gradient dy.
 */
export function convBackpropFilter(
  g: ConvGeometry,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  opts: ConvOptions,
): void {
  checkSizes(g, x.length, dw.length, dy.length, "native conv2dBackpropFilter");
  const { inC, outC, kH, kW, outH, outW } = g;
  const nw = kH * kW * inC * outC;
  dw.fill(0, 0, nw);
  if (nw === 0 || g.batch * outH * outW === 0) return;
  const { gemm } = opts;
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (
    kH === 1 && kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 &&
    g.padLeft === 0 && outH === g.inH && outW === g.inW && !opts.im2col
  ) {
    const M = g.batch * outH * outW;
    gemm(true, false, inC, outC, M, 1, x, inC, dy, outC, 0, dw, outC);
    return;
  }
  if (usesGrid(g, opts)) {
    const gather = opts.gather ?? defaultGather(g);
    const plan = planGrid(g, gather, chunkBytes, outC);
    const { Wp } = plan;
    const { dilW } = g;
    for (const chunk of plan.chunks) {
      const { G, M } = chunkExtent(plan, chunk, kW, dilW);
      const P = scratch("P", G * Wp * inC);
      fillPadded(P, x, g, plan, chunk);
      // dy on the grid, zero at the extra columns and halo rows.
      const D = scratch("C", M * outC);
      D.fill(0);
      for (const s of chunk) {
        for (let r = 0; r < s.rows; r++) {
          const src = ((s.n * outH + s.h0 + r) * outW) * outC;
          D.set(dy.subarray(src, src + outW * outC), (s.g + r) * Wp * outC);
        }
      }
      const blockBytes = opts.blockBytes ??
        (outC <= FILTER_BLOCK_MAX_OUT_CHANNELS ? DEFAULT_BLOCK_BYTES : Infinity);
      const run = blockRun(g, plan, blockBytes);
      for (let m0 = 0; m0 < M; m0 += run) {
        const m = Math.min(run, M - m0);
        gridFilterProducts(gemm, g, P.subarray(m0 * inC), Wp, m, gather, D.subarray(m0 * outC), dw);
      }
    }
    return;
  }
  const K = kH * kW * inC;
  const total = g.batch * outH;
  const R = im2colRowsPerChunk(g, chunkBytes, 0);
  for (let q0 = 0; q0 < total; q0 += R) {
    const rows = Math.min(R, total - q0);
    const A = scratch("im2col", rows * outW * K);
    im2colRows(A, x, g, q0, rows);
    const M = rows * outW;
    gemm(true, false, K, outC, M, 1, A, K, dy.subarray(q0 * outW * outC), outC, 1, dw, outC);
  }
}
