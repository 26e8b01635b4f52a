/**
 * The gate-recurrent operator of SVRNN (docs/paper.md#the-gate-recurrent-operator): for every
 * channel independently, along W or H, forward or reversed,
 *
 *   h[t] = (1 - g[t]) * x[t] + g[t] * h[t-1],   h[-1] = 0.
 *
 * It is a first-order IIR filter whose pole g changes per pixel. x and g are NHWC
 * float32 tensors of one shape. Each backend registers its own forward and backward scan
 * kernels (gate_rnn_cpu.ts, gate_rnn_wasm.ts, gate_rnn_webgpu.ts); the gradient is
 * registered here once, for all of them.
 */
import * as tf from "@tensorflow/tfjs";
import { type Direction, DIRECTIONS, isDirection } from "./gate_rnn_geometry.ts";
import { GATE_RECURRENT, GATE_RECURRENT_GRAD } from "./gate_rnn_names.ts";
import "./gate_rnn_cpu.ts";
import "./gate_rnn_wasm.ts";
import "./gate_rnn_webgpu.ts";

export { type Direction, DIRECTIONS };
export { GATE_RECURRENT, GATE_RECURRENT_GRAD };

/**
 * Runs the gate recursion of `g` over `x` in `direction`. Differentiable with respect to
 * both inputs on every backend. Throws an Error naming the shapes if x and g are not
 * float32 rank-4 tensors of equal shape.
 */
export function gateRecurrent(x: tf.Tensor4D, g: tf.Tensor4D, direction: Direction): tf.Tensor4D {
  validate(x, g, direction);
  return tf.engine().runKernel(GATE_RECURRENT, { x, g }, { direction }) as tf.Tensor4D;
}

function validate(x: tf.Tensor, g: tf.Tensor, direction: unknown): void {
  const shapes = `x [${x.shape}] (${x.dtype}), g [${g.shape}] (${g.dtype})`;
  if (x.rank !== 4 || g.rank !== 4) {
    throw new Error(`gateRecurrent: x and g must be rank-4 NHWC tensors, got ${shapes}`);
  }
  if (!tf.util.arraysEqual(x.shape, g.shape)) {
    throw new Error(`gateRecurrent: x and g must have the same shape, got ${shapes}`);
  }
  if (x.dtype !== "float32" || g.dtype !== "float32") {
    throw new Error(`gateRecurrent: x and g must be float32, got ${shapes}`);
  }
  if (!isDirection(direction)) {
    throw new Error(
      `gateRecurrent: direction must be one of ${DIRECTIONS.join(", ")}, got ${
        JSON.stringify(direction)
      }`,
    );
  }
}

tf.registerGradient({
  kernelName: GATE_RECURRENT,
  inputsToSave: ["x", "g"],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, g, y] = saved;
    const [dx, dg] = tf.engine().runKernel(
      GATE_RECURRENT_GRAD,
      { dy: dy as tf.Tensor, x, g, y },
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor[];
    return { x: () => dx, g: () => dg };
  },
});
