/**
 * MaxPoolGrad for the wasm backend. The shipped one drops the gradient of every window
 * whose values are all negative (its running maximum starts at 0, not -Infinity), so
 * maxPool trains wrongly on wasm wherever it is not fed by a ReLU.
 *
 * Each dy value goes to the first maximum of its window in row-major order, as on the
 * cpu backend and in TensorFlow. Memory-bound; a loop over the heap suffices.
 */
import * as tf from "@tensorflow/tfjs";
import {
  allocF32,
  assertFloat32,
  type BackendWasm,
  f32Offset,
  heapF32,
} from "../../ops/wasm_heap.ts";

export interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

export function maxPoolGradWasm(
  args: {
    inputs: { dy: tf.TensorInfo; input: tf.TensorInfo; output: tf.TensorInfo };
    backend: BackendWasm;
    attrs: MaxPoolGradAttrs;
  },
): tf.TensorInfo {
  const { inputs: { dy, input }, backend, attrs } = args;
  assertFloat32("MaxPoolGrad", { dy, input });
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const [fh, fw] = [info.effectiveFilterHeight, info.effectiveFilterWidth];
  const { top, left } = info.padInfo;

  const dx = allocF32(backend, [n, h, w, c]);
  const heap = heapF32(backend);
  const x0 = f32Offset(backend, input);
  const dx0 = f32Offset(backend, dx);
  heap.fill(0, dx0, dx0 + n * h * w * c);
  let g = f32Offset(backend, dy);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      const y0 = Math.max(0, y * sh - top), y1 = Math.min(h, y * sh - top + fh);
      for (let xo = 0; xo < ow; xo++) {
        const xa = Math.max(0, xo * sw - left), xb = Math.min(w, xo * sw - left + fw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = xa; ix < xb; ix++) {
            const p = ((b * h + iy) * w + ix) * c;
            for (let k = 0; k < c; k++) {
              const v = heap[x0 + p + k];
              if (v > best[k]) {
                best[k] = v;
                where[k] = p + k;
              }
            }
          }
        }
        for (let k = 0; k < c; k++, g++) {
          if (where[k] >= 0) heap[dx0 + where[k]] += heap[g];
        }
      }
    }
  }
  return dx;
}
