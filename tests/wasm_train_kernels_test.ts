/**
 * The wasm training kernels (lib/backends/wasm_train_kernels.ts) against the cpu backend, plus
 * a small conv net that trains on wasm with Adam.
 *
 * Tensors do not move between backends, so every comparison builds its inputs from plain
 * arrays on each backend in turn and reads the results back as arrays.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { relError, sizeOf, values } from "./support/compare.ts";
import "@tensorflow/tfjs-backend-wasm";
import { shippedConv2DBackpropInput } from "../lib/backends/wasm_train_kernels.ts";
import { axisTaps } from "../lib/backends/wasm_train/resize_bilinear_grad.ts";
import { currentWasmBackend } from "../lib/ops/wasm_heap.ts";

type Pad = "same" | "valid" | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

const TOLERANCE = 1e-4;

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  const e = relError(actual, expected);
  assert.ok(e <= TOLERANCE, `${what}: relative error ${e.toExponential(2)} > ${TOLERANCE}`);
}

/** Runs f on a backend and returns what it read back; checks it leaked nothing. */
async function on<T>(backend: "wasm" | "cpu", f: () => T): Promise<T> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} failed to start`);
  await tf.ready();
  const before = tf.memory().numTensors;
  const dataIds = backend === "wasm" ? currentWasmBackend().numDataIds() : 0;
  const out = f();
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  if (backend === "wasm") {
    assert.equal(currentWasmBackend().numDataIds(), dataIds, "wasm: kernel buffers leaked");
  }
  return out;
}

async function onBoth<T>(f: () => T): Promise<{ wasm: T; cpu: T }> {
  const wasm = await on("wasm", f);
  const cpu = await on("cpu", f);
  await tf.setBackend("wasm");
  return { wasm, cpu };
}

/** Gradients of sum(conv2d(x, w) * dy) for x and w, read back as arrays. */
function convGrads(xShape: Shape4, fShape: Shape4, stride: number, pad: Pad) {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(sizeOf(xShape), 1), xShape);
    const w = tf.tensor4d(values(sizeOf(fShape), 2), fShape);
    const y = tf.conv2d(x, w, stride, pad);
    const dy = tf.tensor(values(y.size, 3), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).mul(dy).sum()
    )([x, w]);
    return { dx: dx.dataSync().slice(), dw: dw.dataSync().slice(), dxShape: dx.shape };
  });
}

const PADS: Pad[] = [
  "same",
  "valid",
  1,
  [[0, 0], [1, 2], [2, 1], [0, 0]],
  // Wider than kernel-1 for small kernels: dx then sees dy only partially (cropped).
  [[0, 0], [4, 3], [0, 6], [0, 0]],
];

Deno.test("conv2d gradients on wasm equal cpu: strides 1/2, all pads, kernels 3..11", async () => {
  await tf.setBackend("wasm");
  const cases: Array<[Shape4, number, number]> = [
    [[2, 13, 17, 3], 3, 4],
    [[2, 16, 16, 8], 8, 16],
  ];
  for (const [xShape, ci, co] of cases) {
    for (const k of [3, 5, 7, 9, 11]) {
      for (const stride of [1, 2]) {
        for (const pad of PADS) {
          const fShape: Shape4 = [k, k, ci, co];
          const what = `x ${xShape} k${k} ${ci}->${co} s${stride} pad ${JSON.stringify(pad)}`;
          const { wasm, cpu } = await onBoth(() => convGrads(xShape, fShape, stride, pad));
          assert.deepEqual(wasm.dxShape, xShape, what);
          assertClose(wasm.dx, cpu.dx, `${what}: dx`);
          assertClose(wasm.dw, cpu.dw, `${what}: dw`);
        }
      }
    }
  }
});

Deno.test("conv2d filter gradient, folded path (few output channels): equals cpu", async () => {
  // cout <= 16 with kh*cin >= 128 takes the folded product; cover its stride phases too.
  const cases: Array<[Shape4, number, number, number]> = [
    [[2, 13, 17, 32], 5, 3, 1],
    [[2, 13, 17, 32], 5, 3, 2],
    [[2, 12, 14, 16], 9, 16, 1],
    [[2, 12, 14, 16], 9, 16, 2],
    [[1, 11, 9, 48], 3, 7, 2],
  ];
  for (const [xShape, k, co, stride] of cases) {
    for (const pad of PADS) {
      const fShape: Shape4 = [k, k, xShape[3], co];
      const what = `x ${xShape} f ${fShape} s${stride} pad ${JSON.stringify(pad)}`;
      const { wasm, cpu } = await onBoth(() => convGrads(xShape, fShape, stride, pad));
      assertClose(wasm.dx, cpu.dx, `${what}: dx`);
      assertClose(wasm.dw, cpu.dw, `${what}: dw`);
    }
  }
});

Deno.test("conv2d gradients: even and non-square kernels, stride 3, 1x1", async () => {
  const cases: Array<[Shape4, Shape4, number | [number, number], Pad]> = [
    [[1, 9, 11, 2], [2, 2, 2, 3], 1, "same"],
    [[2, 12, 10, 3], [4, 4, 3, 5], 2, "same"],
    [[2, 12, 10, 3], [4, 6, 3, 5], [2, 1], "valid"],
    [[1, 10, 14, 4], [3, 5, 4, 2], 3, [[0, 0], [1, 1], [2, 2], [0, 0]]],
    [[2, 8, 8, 6], [1, 1, 6, 7], 2, "same"],
    [[1, 5, 5, 2], [5, 5, 2, 2], 2, "valid"],
  ];
  for (const [xShape, fShape, stride, pad] of cases) {
    const what = `x ${xShape} f ${fShape} s${stride} pad ${JSON.stringify(pad)}`;
    const { wasm, cpu } = await onBoth(() => convGrads(xShape, fShape, stride as number, pad));
    assertClose(wasm.dx, cpu.dx, `${what}: dx`);
    assertClose(wasm.dw, cpu.dw, `${what}: dw`);
  }
});

Deno.test("Conv2DBackpropInput replacement equals the shipped wasm kernel", async () => {
  await tf.setBackend("wasm");
  const backend = currentWasmBackend() as unknown as tf.KernelBackend;
  shippedConv2DBackpropInput.setupFunc?.(backend);
  const dy = tf.tensor4d(values(2 * 8 * 8 * 6, 4), [2, 8, 8, 6]);
  const filter = tf.tensor4d(values(5 * 5 * 4 * 6, 5), [5, 5, 4, 6]);
  const attrs = { strides: 2, pad: "same", dataFormat: "NHWC", inputShape: [2, 16, 16, 4] };
  const ours = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, attrs) as tf.Tensor;
  const shipped = shippedConv2DBackpropInput.kernelFunc({
    inputs: { dy, filter },
    backend,
    attrs,
  }) as tf.TensorInfo;
  const shippedValues = backend.readSync(shipped.dataId) as Float32Array;
  assertClose(ours.dataSync(), shippedValues, "dx");
  backend.disposeData(shipped.dataId);
  tf.dispose([dy, filter, ours]);
});

/** The gradient of sum(op(x) * dy) for x, on the current backend, as an array. */
function gradOf(xShape: number[], op: (x: tf.Tensor) => tf.Tensor, seed = 7) {
  return tf.tidy(() => {
    const x = tf.tensor(values(sizeOf(xShape), seed), xShape);
    const y = op(x);
    const dy = tf.tensor(values(y.size, seed + 1), y.shape);
    return tf.grad((a: tf.Tensor) => op(a).mul(dy).sum())(x).dataSync().slice();
  });
}

/** TensorFlow's ResizeBilinearGrad as plain float64 loops, from the shared source grid. */
function resizeGradReference(
  [n, h, w, c]: number[],
  [oh, ow]: number[],
  dy: Float32Array,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Float64Array {
  const rows = axisTaps(h, oh, alignCorners, halfPixelCenters);
  const cols = axisTaps(w, ow, alignCorners, halfPixelCenters);
  const dx = new Float64Array(n * h * w * c);
  let s = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const fy = rows.frac[y], fx = cols.frac[x];
        for (let k = 0; k < c; k++) {
          const v = dy[s++];
          const at = (r: number, q: number) => ((b * h + r) * w + q) * c + k;
          dx[at(rows.lo[y], cols.lo[x])] += v * (1 - fy) * (1 - fx);
          dx[at(rows.lo[y], cols.hi[x])] += v * (1 - fy) * fx;
          dx[at(rows.hi[y], cols.lo[x])] += v * fy * (1 - fx);
          dx[at(rows.hi[y], cols.hi[x])] += v * fy * fx;
        }
      }
    }
  }
  return dx;
}

Deno.test("ResizeBilinearGrad honours halfPixelCenters and alignCorners", async () => {
  const xShape = [2, 5, 7, 3];
  for (const [oh, ow] of [[10, 14], [9, 4], [5, 7]]) {
    for (const [alignCorners, halfPixelCenters] of [[false, true], [false, false], [true, false]]) {
      const what = `${xShape} -> ${oh}x${ow} ac=${alignCorners} hpc=${halfPixelCenters}`;
      const resize = (x: tf.Tensor) =>
        tf.image.resizeBilinear(x as tf.Tensor4D, [oh, ow], alignCorners, halfPixelCenters);
      const { wasm, cpu } = await onBoth(() => {
        const grad = gradOf(xShape, resize, 11);
        const forward = tf.tidy(() =>
          resize(tf.tensor(values(sizeOf(xShape), 11), xShape)).dataSync().slice()
        );
        return { grad, forward };
      });
      const x = values(sizeOf(xShape), 11);
      const dy = values(xShape[0] * oh * ow * xShape[3], 12);
      const expected = resizeGradReference(xShape, [oh, ow], dy, alignCorners, halfPixelCenters);
      assertClose(wasm.forward, cpu.forward, `${what}: forward`);
      assertClose(wasm.grad, expected, `${what}: wasm vs reference`);
      assertClose(cpu.grad, expected, `${what}: cpu vs reference`);
      // The adjoint identity <resize(x), dy> = <x, grad> checks the reference itself.
      const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let acc = 0;
        for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
        return acc;
      };
      const lhs = dot(cpu.forward, dy), rhs = dot(expected, x);
      assert.ok(Math.abs(lhs - rhs) <= 1e-5 * Math.abs(lhs) + 1e-6, `${what}: adjoint`);
    }
  }
});

Deno.test("other training gradients on wasm equal cpu", async () => {
  const ops: Record<string, [number[], (x: tf.Tensor) => tf.Tensor]> = {
    leakyRelu: [[2, 6, 6, 3], (x) => tf.leakyRelu(x, 0.1)],
    relu: [[2, 6, 6, 3], (x) => tf.relu(x)],
    tanh: [[2, 6, 6, 3], (x) => tf.tanh(x)],
    // Values in [-0.5, 0.5): windows of all-negative values included.
    maxPool: [[2, 8, 6, 3], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, "valid")],
    maxPoolReluFed: [[2, 8, 6, 3], (x) => tf.maxPool(tf.relu(x) as tf.Tensor4D, 2, 2, "valid")],
    maxPoolSame3x3: [[1, 7, 9, 2], (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, "same")],
    concat: [[2, 4, 4, 3], (x) => tf.concat([x, x.mul(2), x.slice([0, 0, 0, 1], [2, 4, 4, 2])], 3)],
    slice: [[2, 6, 6, 5], (x) => x.slice([1, 1, 2, 1], [1, 4, 3, 3])],
    depthToSpace: [[2, 3, 4, 8], (x) => tf.depthToSpace(x as tf.Tensor4D, 2)],
    mean: [[2, 4, 4, 3], (x) => x.mean([1, 2], true).mul(x)],
    split: [[2, 4, 4, 6], (x) => tf.split(x, [2, 4], 3)[1].mul(2)],
    pad: [[2, 4, 5, 3], (x) => tf.pad(x, [[0, 0], [1, 2], [3, 0], [0, 0]])],
    sigmoid: [[2, 4, 4, 3], (x) => tf.sigmoid(x)],
    // Runs Conv2DBackpropInput forward, and Conv2D plus Conv2DBackpropFilter backward.
    conv2dTranspose: [[2, 5, 6, 4], (x) =>
      tf.conv2dTranspose(
        x as tf.Tensor4D,
        tf.tensor4d(values(3 * 3 * 2 * 4, 31), [3, 3, 2, 4]),
        [2, 10, 12, 2],
        2,
        "same",
      )],
    fusedConvLeakyRelu: [[2, 8, 8, 4], (x) =>
      tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: tf.tensor4d(values(3 * 3 * 4 * 6, 32), [3, 3, 4, 6]),
        strides: 2,
        pad: "same",
        bias: tf.tensor1d(values(6, 33)),
        activation: "leakyrelu",
        leakyreluAlpha: 0.1,
      })],
    sum: [[2, 4, 4, 3], (x) => x.sum(3).square()],
  };
  for (const [name, [shape, op]] of Object.entries(ops)) {
    const { wasm, cpu } = await onBoth(() => gradOf(shape, op));
    assertClose(wasm, cpu, name);
  }
});

Deno.test("depthToSpace gradient is space-to-depth", async () => {
  await tf.setBackend("wasm");
  const grad = tf.tidy(() => {
    const x = tf.zeros([1, 1, 1, 8]);
    const dy = tf.tensor4d(Float32Array.from({ length: 8 }, (_, i) => i), [1, 2, 2, 2]);
    return tf.grad((a: tf.Tensor) => tf.depthToSpace(a as tf.Tensor4D, 2).mul(dy).sum())(x)
      .dataSync().slice();
  });
  // dy[0, i, j, c] goes to channel (i*2 + j)*2 + c, which here is its own flat index.
  assert.deepEqual(Array.from(grad), [0, 1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("a small conv net trains on wasm with Adam, without leaking", async () => {
  await tf.setBackend("wasm");
  const init = (shape: number[], seed: number) => {
    const fanIn = shape[0] * shape[1] * shape[2];
    return tf.variable(tf.tensor(values(sizeOf(shape), seed), shape).mul(Math.sqrt(6 / fanIn)));
  };
  const w1 = init([3, 3, 3, 8], 21), w2 = init([3, 3, 8, 8], 22), w3 = init([5, 5, 8, 3], 23);
  const b1 = tf.variable(tf.zeros([8])), b3 = tf.variable(tf.zeros([3]));
  const x = tf.tensor4d(values(2 * 16 * 16 * 3, 24), [2, 16, 16, 3]).add<tf.Tensor4D>(0.5);
  // A smooth, learnable target: a blurred, channel-mixed copy of the input.
  const target = tf.tidy(() =>
    tf.avgPool(x as tf.Tensor4D, 3, 1, "same").reverse(3).mul(0.8).add(0.1)
  );
  const net = () => {
    const e1 = tf.leakyRelu(tf.conv2d(x, w1 as tf.Tensor4D, 1, "same").add(b1), 0.1);
    const e2 = tf.relu(tf.conv2d(e1 as tf.Tensor4D, w2 as tf.Tensor4D, 2, "same"));
    const up = tf.image.resizeBilinear(e2 as tf.Tensor4D, [16, 16], false, true);
    return tf.conv2d(up, w3 as tf.Tensor4D, 1, "same").add(b3);
  };
  const optimizer = tf.train.adam(1e-2);
  const losses: number[] = [];
  let tensorsAfterFirst = -1;
  for (let step = 0; step < 50; step++) {
    const loss = optimizer.minimize(() => net().sub(target).square().mean() as tf.Scalar, true)!;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
    else assert.equal(tf.memory().numTensors, tensorsAfterFirst, `tensors leaked at ${step}`);
  }
  assert.ok(losses.every(Number.isFinite), "loss must stay finite");
  assert.ok(
    losses[49] < 0.5 * losses[0],
    `loss should fall: ${losses[0].toFixed(4)} -> ${losses[49].toFixed(4)}`,
  );
  optimizer.dispose();
  tf.dispose([w1, w2, w3, b1, b3, x, target]);
});
