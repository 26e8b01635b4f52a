/**
 * The gate recursion on the smallest example that shows what a scan does: a square
 * single-channel image holding one impulse, a constant gate, each of the four directions.
 * `scanForward` (lib/ops/gate_rnn_cpu.ts, the reference loop) computes
 * h[t] = (1 - g) x[t] + g h[t-1] along the direction, so the impulse leaves (1 - g) g^n
 * n steps downstream of it, and nothing upstream or off its line.
 *
 * `backendDifference` runs the same inputs through the `gateRecurrent` op on the active
 * tfjs backend (wasm, WebGPU, native, cpu), to show the network's kernel computes the same.
 */
import * as tf from "@tensorflow/tfjs";
import { gateRecurrent } from "../ops/gate_rnn.ts";
import { scanForward } from "../ops/gate_rnn_cpu.ts";
import { type Direction, DIRECTIONS } from "../ops/gate_rnn_geometry.ts";

export interface ImpulseResponse {
  direction: Direction;
  /** Side of the square image; the impulse sits at (side >> 1, side >> 1). */
  side: number;
  gate: number;
  /** The scan's output, row-major side x side (shape [1, side, side, 1]). */
  data: Float32Array;
  /** The output along the impulse's row (x = 0..side-1) and along its column (y = 0..side-1). */
  row: number[];
  col: number[];
}

/** The unit impulse at the centre of a side x side single-channel image. */
export function impulseImage(side: number): Float32Array {
  if (!Number.isInteger(side) || side < 1) {
    throw new Error(`impulseImage: side must be a positive integer, got ${side}`);
  }
  const x = new Float32Array(side * side);
  x[(side >> 1) * side + (side >> 1)] = 1;
  return x;
}

/**
 * The response of one scan per direction (default all four) to the centre impulse, with the
 * constant gate `gate` (default 0.5), computed by `scanForward` itself.
 */
export function scanImpulseResponses(
  opts: { side?: number; gate?: number; directions?: readonly Direction[] } = {},
): ImpulseResponse[] {
  const side = opts.side ?? 7, gate = opts.gate ?? 0.5;
  if (!(Math.abs(gate) < 1)) throw new Error(`scanImpulseResponses: gate must be in (-1, 1)`);
  const x = impulseImage(side), g = new Float32Array(side * side).fill(gate);
  const c = side >> 1;
  return (opts.directions ?? DIRECTIONS).map((direction) => {
    const y = new Float32Array(side * side);
    scanForward(x, g, y, [1, side, side, 1], direction);
    return {
      direction,
      side,
      gate,
      data: y,
      row: Array.from(y.subarray(c * side, (c + 1) * side)),
      col: Array.from({ length: side }, (_, k) => y[k * side + c]),
    };
  });
}

/**
 * The largest absolute difference between `responses` and the `gateRecurrent` op on the
 * active tfjs backend for the same inputs.
 */
export function backendDifference(responses: ImpulseResponse[]): number {
  let worst = 0;
  for (const r of responses) {
    const got = tf.tidy(() => {
      const x = tf.tensor4d(impulseImage(r.side), [1, r.side, r.side, 1]);
      const g = tf.fill([1, r.side, r.side, 1], r.gate) as tf.Tensor4D;
      return gateRecurrent(x, g, r.direction).dataSync() as Float32Array;
    });
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - r.data[i]));
  }
  return worst;
}
