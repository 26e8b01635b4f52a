/**
 * Gate-recurrent kernels for tfjs's pure-JS cpu backend. Also the plain TypeScript
 * reference loops the benchmark compares against (`scanForward`, `scanBackward`).
 */
import * as tf from "@tensorflow/tfjs";
import type { Direction } from "./gate_rnn_geometry.ts";
import { scanGeometry } from "./gate_rnn_geometry.ts";
import { GATE_RECURRENT, GATE_RECURRENT_GRAD } from "./gate_rnn_names.ts";

/** h[t] = (1 - g[t]) x[t] + g[t] h[t-1] along the direction, h[-1] = 0. */
export function scanForward(
  x: Float32Array,
  g: Float32Array,
  y: Float32Array,
  shape: readonly number[],
  direction: Direction,
): void {
  const { outer, outerStride, steps, stepStride, inner, reverse } = scanGeometry(shape, direction);
  for (let o = 0; o < outer; o++) {
    const block = o * outerStride;
    for (let s = 0; s < steps; s++) {
      const t = reverse ? steps - 1 - s : s;
      const base = block + t * stepStride;
      if (s === 0) {
        for (let i = base; i < base + inner; i++) y[i] = (1 - g[i]) * x[i];
      } else {
        const prev = reverse ? base + stepStride : base - stepStride;
        for (let i = 0; i < inner; i++) {
          const j = base + i;
          y[j] = (1 - g[j]) * x[j] + g[j] * y[prev + i];
        }
      }
    }
  }
}

/**
 * Backward of `scanForward`, walking the recursion from its last step to its first:
 * dh[t] = dy[t] + g[t+1] dh[t+1], dx[t] = (1 - g[t]) dh[t], dg[t] = dh[t] (h[t-1] - x[t]).
 * `carry` holds g[t+1] dh[t+1] for one step's slice (length `inner`).
 */
export function scanBackward(
  dy: Float32Array,
  x: Float32Array,
  g: Float32Array,
  y: Float32Array,
  dx: Float32Array,
  dg: Float32Array,
  shape: readonly number[],
  direction: Direction,
): void {
  const { outer, outerStride, steps, stepStride, inner, reverse } = scanGeometry(shape, direction);
  const carry = new Float32Array(inner);
  for (let o = 0; o < outer; o++) {
    const block = o * outerStride;
    carry.fill(0);
    for (let s = steps - 1; s >= 0; s--) {
      const t = reverse ? steps - 1 - s : s;
      const base = block + t * stepStride;
      const prev = reverse ? base + stepStride : base - stepStride;
      for (let i = 0; i < inner; i++) {
        const j = base + i;
        const dh = dy[j] + carry[i];
        const hPrev = s === 0 ? 0 : y[prev + i];
        dx[j] = (1 - g[j]) * dh;
        dg[j] = dh * (hPrev - x[j]);
        carry[i] = g[j] * dh;
      }
    }
  }
}

type CpuBackend = {
  readSync(dataId: unknown): Float32Array;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
};

function values(backend: CpuBackend, t: tf.TensorInfo): Float32Array {
  return backend.readSync(t.dataId) as Float32Array;
}

tf.registerKernel({
  kernelName: GATE_RECURRENT,
  backendName: "cpu",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, g } = inputs as { x: tf.TensorInfo; g: tf.TensorInfo };
    const cpu = backend as unknown as CpuBackend;
    const y = new Float32Array(tf.util.sizeFromShape(x.shape));
    scanForward(values(cpu, x), values(cpu, g), y, x.shape, attrs!.direction as Direction);
    return cpu.makeTensorInfo(x.shape, "float32", y);
  },
});

tf.registerKernel({
  kernelName: GATE_RECURRENT_GRAD,
  backendName: "cpu",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x, g, y } = inputs as Record<string, tf.TensorInfo>;
    const cpu = backend as unknown as CpuBackend;
    const size = tf.util.sizeFromShape(x.shape);
    const dx = new Float32Array(size);
    const dg = new Float32Array(size);
    scanBackward(
      values(cpu, dy),
      values(cpu, x),
      values(cpu, g),
      values(cpu, y),
      dx,
      dg,
      x.shape,
      attrs!.direction as Direction,
    );
    return [
      cpu.makeTensorInfo(x.shape, "float32", dx),
      cpu.makeTensorInfo(x.shape, "float32", dg),
    ];
  },
});
