/**
 * Plain-TypeScript replacements, for the "native" backend only, of cpu kernels that the
 * profile of an SVRNN forward and training step showed to be slow for no good reason
 * (tfjs-backend-cpu computes them element by element through TensorBuffer index
 * arithmetic). Same results as the cpu kernels, bit for bit.
 */
import * as tf from "@tensorflow/tfjs";
import type { CpuLikeBackend } from "./kernels.ts";

type Args = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};

type Numeric = Float32Array | Int32Array | Uint8Array;

function numericValues(backend: CpuLikeBackend, t: tf.TensorInfo): Numeric | null {
  const v = backend.data.get(t.dataId)?.values;
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  return null;
}

/**
 * Copies the box [begin, begin + size) of an array of `shape` into a new dense array:
 * trailing dimensions taken whole are merged, so the copy runs over the longest
 * contiguous runs the box has.
 */
export function sliceDense(
  src: Numeric,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): Numeric {
  const out = new (src.constructor as { new (n: number): Numeric })(
    size.reduce((a, b) => a * b, 1),
  );
  if (out.length === 0) return out;
  const rank = shape.length;
  // Merge trailing whole dimensions into the innermost run.
  let inner = rank - 1;
  let run = size[inner];
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner];
  }
  // Strides of the source for dimensions 0..inner-1 (element units).
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  let base = 0;
  for (let d = 0; d < rank; d++) base += begin[d] * strides[d];
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(inner).fill(0);
  let s = base;
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (run >= 32) {
      out.set(src.subarray(s, s + run), o);
    } else {
      for (let j = 0; j < run; j++) out[o + j] = src[s + j];
    }
    o += run;
    // Advance the multi-index over the outer dimensions.
    for (let d = inner - 1; d >= 0; d--) {
      idx[d]++;
      s += strides[d];
      if (idx[d] < outer[d]) break;
      s -= idx[d] * strides[d];
      idx[d] = 0;
    }
  }
  return out;
}

function sliceKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const values = x.dtype === "string" || x.dtype === "complex64" ? null : numericValues(backend, x);
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    attrs.begin as number[],
    attrs.size as number[],
  );
  if (values === null || tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    // The cpu kernel shares memory for contiguous slices; keep that.
    return tf.getKernel(tf.Slice, "cpu")!.kernelFunc(
      args as unknown as Parameters<tf.KernelFunc>[0],
    ) as tf.TensorInfo;
  }
  tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
  return backend.makeTensorInfo(size, x.dtype, sliceDense(values, x.shape, begin, size));
}

export const JS_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  [tf.Slice]: sliceKernel as unknown as tf.KernelFunc,
};
