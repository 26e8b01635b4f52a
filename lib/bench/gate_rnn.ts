/**
 * Benchmark of the gate-recurrent operator: the registered kernel on the current backend,
 * against (a) the plain TypeScript loop (gate_rnn_cpu.ts, run on Float32Arrays, the
 * fastest thing one can write without a kernel) and (b) the per-column loop of tfjs
 * slice / multiply / add / concat ops that a tfjs user would write without a custom
 * kernel. All four directions, forward and backward.
 */
import * as tf from "@tensorflow/tfjs";
import { type Direction, DIRECTIONS, gateRecurrent } from "../ops/gate_rnn.ts";
import { scanBackward, scanForward } from "../ops/gate_rnn_cpu.ts";
import { median } from "../eval/stats.ts";
import { syncBackend } from "../eval/timing.ts";

export interface GateRnnRecord {
  /** What ran: "kernel", "typescript-loop" or "tfjs-ops-loop". */
  implementation: string;
  /** tfjs backend (for the TypeScript loop: the host JS engine). */
  backend: string;
  pass: "forward" | "backward";
  shape: number[];
  /** Median wall time for all four directions, milliseconds. */
  ms: number;
  /** Effective memory bandwidth, counting 12 bytes per element per direction forward
   *  (x, g read, y written) and 28 backward (dy, x, g, y read; dx, dg written; one carry). */
  gbPerS: number;
  repetitions: number;
}

const BYTES = { forward: 12, backward: 28 } as const;

function record(
  implementation: string,
  backend: string,
  pass: "forward" | "backward",
  shape: number[],
  times: number[],
): GateRnnRecord {
  const ms = median(times);
  const bytes = BYTES[pass] * 4 * shape.reduce((a, b) => a * b);
  return {
    implementation,
    backend,
    pass,
    shape,
    ms,
    gbPerS: bytes / (ms * 1e6),
    repetitions: times.length,
  };
}

/** x uniform in [0, 1), g uniform in (-1, 1): the gate's range after tanh. */
function randomInputs(shape: number[]): [tf.Tensor4D, tf.Tensor4D] {
  const x: tf.Tensor = tf.randomUniform(shape);
  const g: tf.Tensor = tf.randomUniform(shape, -1, 1);
  return [x as tf.Tensor4D, g as tf.Tensor4D];
}

/** Wall times of `reps` runs of `fn` after one untimed warm-up; `fn` waits for the backend itself. */
export async function timeIt(fn: () => void | Promise<void>, reps: number): Promise<number[]> {
  await fn(); // warm-up: compiles shaders and grows heaps
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/** The registered kernel on the current tfjs backend. */
export async function benchKernel(shape: number[], reps: number): Promise<GateRnnRecord[]> {
  const backend = tf.getBackend();
  const [x, g] = randomInputs(shape);
  const ys = DIRECTIONS.map((d) => gateRecurrent(x, g, d));
  const forward = await timeIt(async () => {
    const out = DIRECTIONS.map((d) => gateRecurrent(x, g, d));
    await syncBackend();
    tf.dispose(out);
  }, reps);
  const backward = await timeIt(async () => {
    const out = DIRECTIONS.map((direction, i) =>
      tf.engine().runKernel("GateRecurrentGrad", { dy: x, x, g, y: ys[i] }, { direction })
    );
    await syncBackend();
    tf.dispose(out as tf.Tensor[]);
  }, reps);
  tf.dispose([x, g, ...ys]);
  return [
    record("kernel", backend, "forward", shape, forward),
    record("kernel", backend, "backward", shape, backward),
  ];
}

/** The plain TypeScript loops on Float32Arrays (no tfjs). */
export async function benchTypeScriptLoop(
  shape: number[],
  reps: number,
): Promise<GateRnnRecord[]> {
  const size = shape.reduce((a, b) => a * b);
  const x = Float32Array.from({ length: size }, () => Math.random());
  const g = Float32Array.from({ length: size }, () => Math.random() * 2 - 1);
  const ys = DIRECTIONS.map(() => new Float32Array(size));
  const dx = new Float32Array(size);
  const dg = new Float32Array(size);
  const forward = await timeIt(
    () => DIRECTIONS.forEach((d, i) => scanForward(x, g, ys[i], shape, d)),
    reps,
  );
  const backward = await timeIt(
    () => DIRECTIONS.forEach((d, i) => scanBackward(x, x, g, ys[i], dx, dg, shape, d)),
    reps,
  );
  return [
    record("typescript-loop", "js", "forward", shape, forward),
    record("typescript-loop", "js", "backward", shape, backward),
  ];
}

/** The recursion as a loop of tfjs ops over columns or rows, as one writes it without a kernel. */
export function opsLoopScan(x: tf.Tensor4D, g: tf.Tensor4D, direction: Direction): tf.Tensor4D {
  return tf.tidy(() => {
    const axis = direction === "left-right" || direction === "right-left" ? 2 : 1;
    const reverse = direction === "right-left" || direction === "bottom-top";
    const xs = tf.unstack(x, axis);
    const gs = tf.unstack(g, axis);
    const order = xs.map((_, i) => (reverse ? xs.length - 1 - i : i));
    const hs: tf.Tensor[] = new Array(xs.length);
    let h: tf.Tensor | null = null;
    for (const t of order) {
      const gx = tf.mul(tf.sub(1, gs[t]), xs[t]);
      h = h === null ? gx : tf.add(gx, tf.mul(gs[t], h));
      hs[t] = h;
    }
    return tf.stack(hs, axis) as tf.Tensor4D;
  });
}

/** The tfjs-ops loop on the current backend; backward through tf.grads of the same loop. */
export async function benchOpsLoop(shape: number[], reps: number): Promise<GateRnnRecord[]> {
  const backend = tf.getBackend();
  const [x, g] = randomInputs(shape);
  const forward = await timeIt(async () => {
    const out = DIRECTIONS.map((d) => opsLoopScan(x, g, d));
    await syncBackend();
    tf.dispose(out);
  }, reps);
  // tf.grads reruns the forward to build its tape: subtract the forward time measured above.
  const both = await timeIt(async () => {
    const out = DIRECTIONS.flatMap((d) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(opsLoopScan(a as tf.Tensor4D, b as tf.Tensor4D, d))
      )([x, g])
    );
    await syncBackend();
    tf.dispose(out);
  }, reps);
  tf.dispose([x, g]);
  const backward = both.map((t, i) => Math.max(t - forward[i], 0));
  return [
    record("tfjs-ops-loop", backend, "forward", shape, forward),
    record("tfjs-ops-loop", backend, "backward", shape, backward),
  ];
}
