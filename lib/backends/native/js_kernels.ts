/**
 * Plain-TypeScript replacements, for the "native" backend only, of cpu kernels that the
 * profile of an SVRNN forward and training step showed to be slow for no good reason:
 *
 * - tfjs-backend-cpu's element-wise kernels share one generic loop that calls the
 *   operation through a closure (megamorphic in V8: about 20 ns per element); here every
 *   operation has its own loop (about 1 ns per element). Adam's update alone is a dozen
 *   such passes over all 9.2 million SVRNN weights per step.
 * - Slice, SplitV and PadV2 of non-contiguous boxes go element by element through
 *   TensorBuffer index arithmetic; here they copy the box's contiguous runs (Concat too).
 * - Sum over leading axes (every bias gradient) transposes first; here it sums columns.
 * - MaxPool and MaxPoolGrad (NHWC, no dilation) without TensorBuffer.
 *
 * Float32 outputs come from the native backend's buffer pool (pool.ts). Same values as the
 * cpu kernels (the same float32 arithmetic per element; sums accumulate in float64 as the
 * cpu kernel's do), except Tanh: a rational approximation within 2.4e-7 (fastTanh). Anything not covered (other dtypes, general
 * broadcasting, complex) goes to the cpu backend's kernel.
 */
import * as tf from "@tensorflow/tfjs";
import type { CpuLikeBackend } from "./kernels.ts";
import { bufferPool } from "./pool.ts";
import { ACTIVATION_GRAD, cpuActivationGradKernel } from "../../ops/fused_conv.ts";

type Args = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};

type Numeric = Float32Array | Int32Array | Uint8Array;

function runCpu(name: string, args: Args): tf.TensorInfo | tf.TensorInfo[] {
  const k = tf.getKernel(name, "cpu");
  if (!k) throw new Error(`native backend: the cpu backend has no ${name} kernel`);
  return k.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
}

function numericValues(backend: CpuLikeBackend, t: tf.TensorInfo): Numeric | null {
  if (t.dtype === "string" || t.dtype === "complex64") return null;
  const v = backend.data.get(t.dataId)?.values;
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  return null;
}

function f32(backend: CpuLikeBackend, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== "float32") return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

// ---------------------------------------------------------------------------------------
// Box copies (Slice, SplitV, PadV2).

/**
 * Copies the box of `size` at `srcBegin` in an array of `srcShape` to `dstBegin` in an
 * array of `dstShape`. Trailing dimensions that both arrays hold whole are merged, so the
 * copy runs over the longest contiguous runs the box has.
 */
export function copyBox(
  src: Numeric,
  srcShape: readonly number[],
  srcBegin: readonly number[],
  dst: Numeric,
  dstShape: readonly number[],
  dstBegin: readonly number[],
  size: readonly number[],
): void {
  const rank = size.length;
  if (sizeOf(size) === 0) return;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  const ss = stridesOf(srcShape), ds = stridesOf(dstShape);
  let inner = rank - 1;
  let run = size[inner];
  while (
    inner > 0 && size[inner] === srcShape[inner] && size[inner] === dstShape[inner] &&
    srcBegin[inner] === 0 && dstBegin[inner] === 0
  ) {
    inner--;
    run *= size[inner];
  }
  let s = 0, d = 0;
  for (let k = 0; k < rank; k++) {
    s += srcBegin[k] * ss[k];
    d += dstBegin[k] * ds[k];
  }
  const count = sizeOf(size.slice(0, inner));
  const idx = new Array<number>(inner).fill(0);
  for (let i = 0; i < count; i++) {
    if (run >= 32) {
      dst.set(src.subarray(s, s + run), d);
    } else {
      for (let j = 0; j < run; j++) dst[d + j] = src[s + j];
    }
    for (let k = inner - 1; k >= 0; k--) {
      idx[k]++;
      s += ss[k];
      d += ds[k];
      if (idx[k] < size[k]) break;
      s -= idx[k] * ss[k];
      d -= idx[k] * ds[k];
      idx[k] = 0;
    }
  }
}

/** A new array of src's type (Float32Array from the buffer pool: contents arbitrary). */
function newLike(src: Numeric, n: number): Numeric {
  if (src instanceof Float32Array) return bufferPool.alloc(n);
  return new (src.constructor as { new (n: number): Numeric })(n);
}

/** The box [begin, begin + size) of an array of `shape`, as a new dense array. */
export function sliceDense(
  src: Numeric,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): Numeric {
  const out = newLike(src, sizeOf(size));
  copyBox(src, shape, begin, out, size, size.map(() => 0), size);
  return out;
}

function sliceKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const values = numericValues(backend, x);
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    attrs.begin as number[],
    attrs.size as number[],
  );
  if (values === null || tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    // The cpu kernel shares memory for contiguous slices; keep that.
    return runCpu(tf.Slice, args) as tf.TensorInfo;
  }
  tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
  return backend.makeTensorInfo(size, x.dtype, sliceDense(values, x.shape, begin, size));
}

function splitVKernel(args: Args): tf.TensorInfo[] {
  const backend = args.backend as CpuLikeBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const values = numericValues(backend, x);
  if (values === null) return runCpu(tf.SplitV, args) as tf.TensorInfo[];
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(
    x as unknown as tf.Tensor,
    attrs.numOrSizeSplits as number[] | number,
    axis,
  );
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const out = sliceDense(values, x.shape, begin, size);
    begin[axis] += s;
    return backend.makeTensorInfo(size, x.dtype, out);
  });
}

function padV2Kernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const values = numericValues(backend, x);
  const paddings = attrs.paddings as Array<[number, number]>;
  if (values === null || paddings.some(([a, b]) => a < 0 || b < 0)) {
    return runCpu(tf.PadV2, args) as tf.TensorInfo;
  }
  const outShape = paddings.map((p, i) => p[0] + x.shape[i] + p[1]);
  const out = newLike(values, sizeOf(outShape));
  out.fill(Number(attrs.constantValue ?? 0));
  copyBox(values, x.shape, x.shape.map(() => 0), out, outShape, paddings.map((p) => p[0]), x.shape);
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

function concatKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const inputs = Object.values(args.inputs) as tf.TensorInfo[];
  const attrs = args.attrs ?? {};
  const vals = inputs.map((t) => (t.dtype === "float32" ? numericValues(backend, t) : null));
  const nonEmpty = inputs.filter((t) => sizeOf(t.shape) > 0);
  if (inputs.length === 0 || vals.some((v) => v === null) || nonEmpty.length < 2) {
    return runCpu(tf.Concat, args) as tf.TensorInfo;
  }
  const axis = tf.util.parseAxisParam(attrs.axis as number, inputs[0].shape)[0];
  const shapes = inputs.map((t) => t.shape);
  tf.backend_util.assertParamsConsistent(shapes, axis);
  const outShape = tf.backend_util.computeOutShape(shapes, axis);
  const outer = sizeOf(outShape.slice(0, axis));
  const rowLen = sizeOf(outShape.slice(axis));
  const out = bufferPool.alloc(sizeOf(outShape));
  let col = 0;
  for (const [i, t] of inputs.entries()) {
    const inner = sizeOf(t.shape.slice(axis));
    const v = vals[i]!;
    if (inner > 0) {
      for (let r = 0; r < outer; r++) {
        const s = r * inner, d = r * rowLen + col;
        if (inner >= 32) out.set(v.subarray(s, s + inner), d);
        else for (let j = 0; j < inner; j++) out[d + j] = v[s + j];
      }
    }
    col += inner;
  }
  return backend.makeTensorInfo(outShape, "float32", out);
}

// ---------------------------------------------------------------------------------------
// Element-wise binary operations.

/** o[io + i] = op(a[ia + i*sa], b[ib + i*sb]) for i < n; sa, sb are 0 (broadcast) or 1. */
type BinaryLoop = (
  a: Float32Array,
  ia: number,
  sa: number,
  b: Float32Array,
  ib: number,
  sb: number,
  o: Float32Array | Uint8Array,
  io: number,
  n: number,
) => void;

// One function literal per operation, so that V8 compiles each loop with its operation
// inlined (a shared loop calling a closure is what makes the cpu kernels slow).
const FLOAT_BINARY: Record<string, BinaryLoop> = {
  [tf.Add]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] + b[ib + i * sb];
  },
  [tf.Sub]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] - b[ib + i * sb];
  },
  [tf.Multiply]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] * b[ib + i * sb];
  },
  [tf.RealDiv]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] / b[ib + i * sb];
  },
  [tf.Maximum]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = Math.max(a[ia + i * sa], b[ib + i * sb]);
  },
  [tf.Minimum]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = Math.min(a[ia + i * sa], b[ib + i * sb]);
  },
  [tf.SquaredDifference]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) {
      const d = a[ia + i * sa] - b[ib + i * sb];
      o[io + i] = d * d;
    }
  },
};

const BOOL_BINARY: Record<string, BinaryLoop> = {
  [tf.Greater]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] > b[ib + i * sb] ? 1 : 0;
  },
  [tf.GreaterEqual]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] >= b[ib + i * sb] ? 1 : 0;
  },
  [tf.Less]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] < b[ib + i * sb] ? 1 : 0;
  },
  [tf.LessEqual]: (a, ia, sa, b, ib, sb, o, io, n) => {
    for (let i = 0; i < n; i++) o[io + i] = a[ia + i * sa] <= b[ib + i * sb] ? 1 : 0;
  },
};

/** o[i] = a[i] op b[i]: the common case, unstrided (about twice as fast as BinaryLoop). */
type SameLoop = (a: Float32Array, b: Float32Array, o: Float32Array, n: number) => void;
/** o[i] = a[i] op s. */
type ScalarLoop = (a: Float32Array, s: number, o: Float32Array, n: number) => void;

const SAME: Record<string, SameLoop> = {
  [tf.Add]: (a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] + b[i];
  },
  [tf.Sub]: (a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] - b[i];
  },
  [tf.Multiply]: (a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] * b[i];
  },
  [tf.RealDiv]: (a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] / b[i];
  },
};

/** a op s, for a scalar s on the right. */
const SCALAR_RIGHT: Record<string, ScalarLoop> = {
  [tf.Add]: (a, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] + s;
  },
  [tf.Sub]: (a, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] - s;
  },
  [tf.Multiply]: (a, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] * s;
  },
  [tf.RealDiv]: (a, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] / s;
  },
};

/** o[r*m + j] = a[r*m + j] op b[j] for r < rows: b repeated along a's leading dims. */
type TrailingLoop = (
  a: Float32Array,
  b: Float32Array,
  o: Float32Array,
  rows: number,
  m: number,
) => void;

const TRAILING: Record<string, TrailingLoop> = {
  [tf.Add]: (a, b, o, rows, m) => {
    for (let r = 0, k = 0; r < rows; r++) for (let j = 0; j < m; j++, k++) o[k] = a[k] + b[j];
  },
  [tf.Sub]: (a, b, o, rows, m) => {
    for (let r = 0, k = 0; r < rows; r++) for (let j = 0; j < m; j++, k++) o[k] = a[k] - b[j];
  },
  [tf.Multiply]: (a, b, o, rows, m) => {
    for (let r = 0, k = 0; r < rows; r++) for (let j = 0; j < m; j++, k++) o[k] = a[k] * b[j];
  },
  [tf.RealDiv]: (a, b, o, rows, m) => {
    for (let r = 0, k = 0; r < rows; r++) for (let j = 0; j < m; j++, k++) o[k] = a[k] / b[j];
  },
};

/** s op b, for a scalar s on the left. */
const SCALAR_LEFT: Record<string, ScalarLoop> = {
  [tf.Add]: (b, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = s + b[i];
  },
  [tf.Sub]: (b, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = s - b[i];
  },
  [tf.Multiply]: (b, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = s * b[i];
  },
  [tf.RealDiv]: (b, s, o, n) => {
    for (let i = 0; i < n; i++) o[i] = s / b[i];
  },
};

/** Drops leading 1s. */
function squeezeLeading(shape: readonly number[]): number[] {
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  return shape.slice(i);
}

function endsWith(shape: readonly number[], tail: readonly number[]): boolean {
  if (tail.length > shape.length) return false;
  const off = shape.length - tail.length;
  return tail.every((d, i) => shape[off + i] === d);
}

function binaryKernel(name: string, loop: BinaryLoop, outDtype: "float32" | "bool") {
  return (args: Args): tf.TensorInfo => {
    const backend = args.backend as CpuLikeBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv) return runCpu(name, args) as tf.TensorInfo;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = sizeOf(outShape);
    const out = outDtype === "bool" ? new Uint8Array(n) : bufferPool.alloc(n);
    const na = av.length, nb = bv.length;
    if (n === 0) return backend.makeTensorInfo(outShape, outDtype, out);
    const same = SAME[name], right = SCALAR_RIGHT[name], left = SCALAR_LEFT[name];
    if (na === n && nb === n) {
      if (same && out instanceof Float32Array) same(av, bv, out, n);
      else loop(av, 0, 1, bv, 0, 1, out, 0, n);
    } else if (na === n && nb === 1) {
      if (right && out instanceof Float32Array) right(av, bv[0], out, n);
      else loop(av, 0, 1, bv, 0, 0, out, 0, n);
    } else if (nb === n && na === 1) {
      if (left && out instanceof Float32Array) left(bv, av[0], out, n);
      else loop(av, 0, 0, bv, 0, 1, out, 0, n);
    } else if (na === n && endsWith(a.shape, squeezeLeading(b.shape))) {
      // b repeats along a's leading dimensions (a per-channel bias, say).
      const rows = TRAILING[name];
      if (rows && out instanceof Float32Array) rows(av, bv, out, n / nb, nb);
      else for (let o = 0; o < n; o += nb) loop(av, o, 1, bv, 0, 1, out, o, nb);
    } else if (nb === n && endsWith(b.shape, squeezeLeading(a.shape))) {
      for (let o = 0; o < n; o += na) loop(av, 0, 1, bv, o, 1, out, o, na);
    } else {
      return runCpu(name, args) as tf.TensorInfo;
    }
    return backend.makeTensorInfo(outShape, outDtype, out);
  };
}

// ---------------------------------------------------------------------------------------
// Element-wise unary operations (float32 in, float32 out).

/**
 * tanh as Eigen's float rational approximation (odd degree-13 over even degree-6
 * polynomial, input clamped to +-7.9053): within 2.4e-7 of Math.tanh after rounding to
 * float32 (measured over 2 million points in [-12, 12]), and 3-4 times faster. SVRNN takes
 * the tanh of every gate logit (118 million values for one 1280x720 image).
 */
export function fastTanh(v: number): number {
  const c = 7.90531110763549805;
  const x = v > c ? c : v < -c ? -c : v;
  if (x !== x) return x;
  const x2 = x * x;
  let p = x2 * -2.76076847742355e-16 + 2.00018790482477e-13;
  p = x2 * p - 8.60467152213735e-11;
  p = x2 * p + 5.12229709037114e-8;
  p = x2 * p + 1.48572235717979e-5;
  p = x2 * p + 6.37261928875436e-4;
  p = x2 * p + 4.89352455891786e-3;
  let q = x2 * 1.19825839466702e-6 + 1.18534705686654e-4;
  q = x2 * q + 2.268434632439e-3;
  q = x2 * q + 4.89352518554385e-3;
  return (x * p) / q;
}

type UnaryLoop = (
  x: Float32Array,
  o: Float32Array,
  n: number,
  attrs: Record<string, unknown>,
) => void;

const FLOAT_UNARY: Record<string, UnaryLoop> = {
  [tf.Sqrt]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]);
  },
  [tf.Square]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = x[i] * x[i];
  },
  [tf.Neg]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = -1 * x[i];
  },
  [tf.Abs]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]);
  },
  [tf.Exp]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]);
  },
  [tf.Tanh]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = fastTanh(x[i]);
  },
  [tf.Sigmoid]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / (1 + Math.exp(-x[i]));
  },
  // ReLU, leaky ReLU and step without data-dependent branches (on random signs the
  // branchy forms mispredict half the time: 5-7 ns per element against 1.4-2.9). The
  // results are the cpu kernel's exactly (up to the sign of a zero).
  [tf.Relu]: (x, o, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      o[i] = (v + Math.abs(v)) * 0.5;
    }
  },
  [tf.LeakyRelu]: (x, o, n, attrs) => {
    const alpha = attrs.alpha as number;
    for (let i = 0; i < n; i++) {
      const v = x[i], m = Math.abs(v);
      o[i] = 0.5 * (v + m) + alpha * (0.5 * (v - m));
    }
  },
  [tf.Step]: (x, o, n, attrs) => {
    const alpha = attrs.alpha as number, d = 1 - alpha;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      o[i] = v !== v ? v : alpha + d * +(v > 0);
    }
  },
};

function unaryKernel(name: string, loop: UnaryLoop) {
  return (args: Args): tf.TensorInfo => {
    const backend = args.backend as CpuLikeBackend;
    const x = args.inputs.x as tf.TensorInfo;
    const xv = f32(backend, x);
    if (!xv) return runCpu(name, args) as tf.TensorInfo;
    const out = bufferPool.alloc(xv.length);
    loop(xv, out, xv.length, args.attrs ?? {});
    return backend.makeTensorInfo([...x.shape], "float32", out);
  };
}

function selectKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const { condition, t, e } = args.inputs as Record<string, tf.TensorInfo>;
  const cv = backend.data.get(condition.dataId)?.values;
  const tv = f32(backend, t), ev = f32(backend, e);
  const n = sizeOf(t.shape);
  if (
    !(cv instanceof Uint8Array) || !tv || !ev || cv.length !== n || ev.length !== n ||
    condition.shape.length !== t.shape.length
  ) {
    return runCpu(tf.Select, args) as tf.TensorInfo;
  }
  const out = bufferPool.alloc(n);
  for (let i = 0; i < n; i++) out[i] = cv[i] === 1 ? tv[i] : ev[i];
  return backend.makeTensorInfo([...t.shape], "float32", out);
}

// ---------------------------------------------------------------------------------------
// Sum over leading or trailing axes.

function sumKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const xv = f32(backend, x);
  if (!xv) return runCpu(tf.Sum, args) as tf.TensorInfo;
  const rank = x.shape.length;
  const axes = [...tf.util.parseAxisParam(attrs.axis as number | number[], x.shape)].sort((p, q) =>
    p - q
  );
  const k = axes.length;
  const leading = axes.every((v, i) => v === i);
  const trailing = axes.every((v, i) => v === rank - k + i);
  if (!leading && !trailing) return runCpu(tf.Sum, args) as tf.TensorInfo;
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
  const m = sizeOf(kept);
  const out = bufferPool.alloc(m);
  if (trailing) {
    const r = m === 0 ? 0 : xv.length / m;
    for (let i = 0; i < m; i++) {
      let s = 0;
      const off = i * r;
      for (let j = 0; j < r; j++) s += xv[off + j];
      out[i] = s;
    }
  } else {
    const acc = new Float64Array(m);
    const rows = m === 0 ? 0 : xv.length / m;
    for (let r = 0; r < rows; r++) {
      const off = r * m;
      for (let j = 0; j < m; j++) acc[j] += xv[off + j];
    }
    for (let j = 0; j < m; j++) out[j] = acc[j];
  }
  return backend.makeTensorInfo(outShape, "float32", out);
}

// ---------------------------------------------------------------------------------------
// Max pooling, NHWC, no dilation.

function poolInfo(x: tf.TensorInfo, attrs: Record<string, unknown>) {
  return tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "valid",
    attrs.dimRoundingMode as "floor" | undefined,
  );
}

/**
 * For every output value of a max pool, the input index of the window's maximum (the
 * first one scanning rows then columns, as tfjs's cpu kernel), or -1 when the window is
 * empty or holds nothing above -Infinity.
 */
function maxPoolArgmax(xv: Float32Array, info: tf.backend_util.Conv2DInfo): Int32Array {
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const arg = new Int32Array(batchSize * outHeight * outWidth * C);
  const best = new Float64Array(C);
  for (let n = 0; n < batchSize; n++) {
    for (let ho = 0; ho < outHeight; ho++) {
      const h0 = ho * strideHeight - top;
      const hs = Math.max(0, h0), he = Math.min(inHeight, h0 + filterHeight);
      for (let wo = 0; wo < outWidth; wo++) {
        const w0 = wo * strideWidth - left;
        const ws = Math.max(0, w0), we = Math.min(inWidth, w0 + filterWidth);
        const o = ((n * outHeight + ho) * outWidth + wo) * C;
        best.fill(-Infinity);
        arg.fill(-1, o, o + C);
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const i = ((n * inHeight + h) * inWidth + w) * C;
            for (let c = 0; c < C; c++) {
              const v = xv[i + c];
              // Strictly greater: the first maximum wins and NaN never does, as in tfjs's cpu.
              if (v > best[c]) {
                best[c] = v;
                arg[o + c] = i + c;
              }
            }
          }
        }
      }
    }
  }
  return arg;
}

/** The max pool's values only (no argmax array): what MaxPool needs. */
function maxPoolValues(xv: Float32Array, info: tf.backend_util.Conv2DInfo, y: Float32Array) {
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  for (let n = 0; n < batchSize; n++) {
    for (let ho = 0; ho < outHeight; ho++) {
      const h0 = ho * strideHeight - top;
      const hs = Math.max(0, h0), he = Math.min(inHeight, h0 + filterHeight);
      for (let wo = 0; wo < outWidth; wo++) {
        const w0 = wo * strideWidth - left;
        const ws = Math.max(0, w0), we = Math.min(inWidth, w0 + filterWidth);
        const o = ((n * outHeight + ho) * outWidth + wo) * C;
        y.fill(-Infinity, o, o + C);
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const i = ((n * inHeight + h) * inWidth + w) * C;
            for (let c = 0; c < C; c++) {
              const v = xv[i + c];
              // Strictly greater, so NaN never wins (as in tfjs's cpu pool).
              if (v > y[o + c]) y[o + c] = v;
            }
          }
        }
      }
    }
  }
}

function maxPoolSupported(x: tf.TensorInfo, attrs: Record<string, unknown>): boolean {
  const d = attrs.dilations;
  const dil = d === undefined || d === 1 || (Array.isArray(d) && d[0] === 1 && d[1] === 1);
  return x.shape.length === 4 && dil;
}

function maxPoolKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const xv = f32(backend, x);
  if (!xv || !maxPoolSupported(x, attrs)) return runCpu(tf.MaxPool, args) as tf.TensorInfo;
  const info = poolInfo(x, attrs);
  if (
    info.filterWidth === 1 && info.filterHeight === 1 &&
    tf.util.arraysEqual(info.inShape, info.outShape)
  ) {
    return runCpu(tf.MaxPool, args) as tf.TensorInfo; // identity, as the cpu kernel does it
  }
  const y = bufferPool.alloc(sizeOf(info.outShape));
  maxPoolValues(xv, info, y);
  return backend.makeTensorInfo(info.outShape, "float32", y);
}

function maxPoolGradKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const { dy, input } = args.inputs as Record<string, tf.TensorInfo>;
  const attrs = args.attrs ?? {};
  const xv = f32(backend, input), dyv = f32(backend, dy);
  if (!xv || !dyv || !maxPoolSupported(input, attrs)) {
    return runCpu(tf.MaxPoolGrad, args) as tf.TensorInfo;
  }
  const info = poolInfo(input, attrs);
  const arg = maxPoolArgmax(xv, info);
  const dx = bufferPool.allocZeroed(xv.length);
  for (let o = 0; o < arg.length; o++) {
    const i = arg[o];
    if (i >= 0) dx[i] += dyv[o];
  }
  return backend.makeTensorInfo([...input.shape], "float32", dx);
}

// ---------------------------------------------------------------------------------------

function table(): Record<string, tf.KernelFunc> {
  const k: Record<string, tf.KernelFunc> = {};
  const add = (name: string, f: (args: Args) => unknown) => {
    k[name] = f as unknown as tf.KernelFunc;
  };
  for (const [name, loop] of Object.entries(FLOAT_BINARY)) {
    add(name, binaryKernel(name, loop, "float32"));
  }
  for (const [name, loop] of Object.entries(BOOL_BINARY)) {
    add(name, binaryKernel(name, loop, "bool"));
  }
  for (const [name, loop] of Object.entries(FLOAT_UNARY)) add(name, unaryKernel(name, loop));
  add(tf.Select, selectKernel);
  add(tf.Sum, sumKernel);
  add(tf.Slice, sliceKernel);
  add(tf.SplitV, splitVKernel);
  add(tf.PadV2, padV2Kernel);
  add(tf.Concat, concatKernel);
  add(tf.MaxPool, maxPoolKernel);
  add(tf.MaxPoolGrad, maxPoolGradKernel);
  // SvrnnActivationGrad (lib/ops/fused_conv.ts) into pooled arrays.
  k[ACTIVATION_GRAD] = cpuActivationGradKernel((n) => bufferPool.alloc(n));
  return k;
}

export const JS_KERNELS: Readonly<Record<string, tf.KernelFunc>> = table();
