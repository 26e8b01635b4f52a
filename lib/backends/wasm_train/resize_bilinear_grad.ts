/**
 * ResizeBilinearGrad for the wasm and cpu backends, honouring halfPixelCenters.
 *
 * The shipped kernels ignore halfPixelCenters, so the gradient of
 * tf.image.resizeBilinear(x, size, false, true) comes out for a different sampling grid
 * than the forward pass used. This is TensorFlow's ResizeBilinearGrad: each dy pixel adds
 * its value to the (up to) four source pixels the forward pass read, with the same
 * weights. Memory-bound, so a loop over the heap is as fast as anything here.
 */
import * as tf from "@tensorflow/tfjs";
import {
  allocF32,
  assertFloat32,
  type BackendWasm,
  f32Offset,
  heapF32,
} from "../../ops/wasm_heap.ts";

export interface ResizeBilinearGradAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Per output index: the two source indices and the weight of the second. */
interface AxisTaps {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

/** TensorFlow's source coordinate for each output index along one axis. */
export function axisTaps(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): AxisTaps {
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const lo = new Int32Array(outSize), hi = new Int32Array(outSize);
  const frac = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const src = halfPixelCenters ? (o + 0.5) * scale - 0.5 : o * scale;
    const fl = Math.floor(src);
    lo[o] = Math.max(fl, 0);
    hi[o] = Math.min(Math.ceil(src), inSize - 1);
    frac[o] = src - fl;
  }
  return { lo, hi, frac };
}

/**
 * Adds dy [n, oh, ow, c] (from dyData at dyStart) into dx [n, h, w, c] (in dxData at
 * dxStart, zeroed by the caller) with the forward pass's bilinear weights.
 */
export function scatterResizeGrad(
  dyData: Float32Array,
  dyStart: number,
  dxData: Float32Array,
  dxStart: number,
  [n, h, w, c]: number[],
  [oh, ow]: number[],
  attrs: ResizeBilinearGradAttrs,
): void {
  const rows = axisTaps(h, oh, attrs.alignCorners, attrs.halfPixelCenters);
  const cols = axisTaps(w, ow, attrs.alignCorners, attrs.halfPixelCenters);
  let s = dyStart;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      const fy = rows.frac[y], gy = 1 - fy;
      const top = dxStart + (b * h + rows.lo[y]) * w * c;
      const bottom = dxStart + (b * h + rows.hi[y]) * w * c;
      for (let x = 0; x < ow; x++) {
        const fx = cols.frac[x], gx = 1 - fx;
        const l = cols.lo[x] * c, r = cols.hi[x] * c;
        const wtl = gy * gx, wtr = gy * fx, wbl = fy * gx, wbr = fy * fx;
        for (let k = 0; k < c; k++, s++) {
          const v = dyData[s];
          dxData[top + l + k] += v * wtl;
          dxData[top + r + k] += v * wtr;
          dxData[bottom + l + k] += v * wbl;
          dxData[bottom + r + k] += v * wbr;
        }
      }
    }
  }
}

export function resizeBilinearGradWasm(
  args: {
    inputs: { images: tf.TensorInfo; dy: tf.TensorInfo };
    backend: BackendWasm;
    attrs: ResizeBilinearGradAttrs;
  },
): tf.TensorInfo {
  const { inputs: { images, dy }, backend, attrs } = args;
  assertFloat32("ResizeBilinearGrad", { dy });
  const shape = images.shape;
  const dx = allocF32(backend, shape);
  const heap = heapF32(backend);
  const d0 = f32Offset(backend, dx);
  heap.fill(0, d0, d0 + shape.reduce((a, b) => a * b, 1));
  scatterResizeGrad(heap, f32Offset(backend, dy), heap, d0, shape, dy.shape.slice(1, 3), attrs);
  return dx;
}

/**
 * The same for the cpu backend, whose shipped kernel also ignores halfPixelCenters and
 * returns a [n, w, h, c] shape (so tf.grad fails on non-square images).
 */
export function resizeBilinearGradCpu(
  args: {
    inputs: { images: tf.TensorInfo; dy: tf.TensorInfo };
    backend: tf.KernelBackend;
    attrs: ResizeBilinearGradAttrs;
  },
): tf.TensorInfo {
  const { inputs: { images, dy }, backend, attrs } = args;
  const shape = images.shape;
  const read = backend.readSync(dy.dataId);
  const dyData = read instanceof Float32Array ? read : Float32Array.from(read as ArrayLike<number>);
  const dx = new Float32Array(shape.reduce((a, b) => a * b, 1));
  scatterResizeGrad(dyData, 0, dx, 0, shape, dy.shape.slice(1, 3), attrs);
  return (backend as unknown as CpuBackend).makeTensorInfo(shape, "float32", dx);
}

interface CpuBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}
