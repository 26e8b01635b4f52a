/**
 * gateRecurrent on cpu and wasm against a float64 reference, its gradients against
 * central finite differences, and its argument checks. (WebGPU: gate_rnn_webgpu_test.ts.)
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "#lib/backends/select.ts";
import { type Direction, DIRECTIONS, gateRecurrent } from "#lib/ops/gate_rnn.ts";
import { mulberry32, referenceScan } from "./support/gate_reference.ts";

const BACKENDS = ["cpu", "wasm"] as const;

function randomArray(n: number, lo: number, hi: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

for (const backend of BACKENDS) {
  Deno.test(`gateRecurrent ${backend}: equals the float64 reference (all directions, N, C, H, W)`, async () => {
    await initBackend(backend);
    const rand = mulberry32(1);
    let cases = 0;
    for (const n of [1, 2]) {
      for (const c of [1, 3, 32]) {
        for (const h of [1, 7, 64]) {
          for (const w of [1, 7, 64]) {
            const shape: [number, number, number, number] = [n, h, w, c];
            const size = n * h * w * c;
            const xs = randomArray(size, -1, 1, rand);
            const gs = randomArray(size, -0.999, 0.999, rand);
            const x = tf.tensor4d(xs, shape);
            const g = tf.tensor4d(gs, shape);
            for (const direction of DIRECTIONS) {
              const y = gateRecurrent(x, g, direction);
              const got = await y.data();
              y.dispose();
              const want = referenceScan(xs, gs, shape, direction);
              let err = 0;
              for (let i = 0; i < size; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
              assert.ok(err <= 1e-5, `${direction} [${shape}]: max abs error ${err}`);
              cases++;
            }
            tf.dispose([x, g]);
          }
        }
      }
    }
    assert.equal(cases, 4 * 2 * 3 * 3 * 3);
  });

  Deno.test(`gateRecurrent ${backend}: gradients equal central finite differences`, async () => {
    await initBackend(backend);
    const rand = mulberry32(2);
    for (const shape of [[1, 5, 6, 3], [2, 4, 3, 4]] as [number, number, number, number][]) {
      const size = shape.reduce((a, b) => a * b);
      const xs = randomArray(size, -1, 1, rand);
      const gs = randomArray(size, -0.9, 0.9, rand);
      const rs = randomArray(size, -1, 1, rand); // loss = sum(r * y): every output matters
      for (const direction of DIRECTIONS) {
        const loss = (xv: Float32Array, gv: Float32Array) => {
          const y = referenceScan(xv, gv, shape, direction);
          let s = 0;
          for (let i = 0; i < size; i++) s += rs[i] * y[i];
          return s;
        };
        const [dx, dg] = tf.tidy(() => {
          const x = tf.tensor4d(xs, shape);
          const g = tf.tensor4d(gs, shape);
          const r = tf.tensor(rs, shape);
          return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(gateRecurrent(a as tf.Tensor4D, b as tf.Tensor4D, direction), r))
          )([x, g]);
        });
        const analytic = { x: await dx.data(), g: await dg.data() };
        tf.dispose([dx, dg]);
        for (const which of ["x", "g"] as const) {
          const eps = 1e-3;
          let num = 0, den = 0;
          for (let i = 0; i < size; i++) {
            const plus = Float32Array.from(which === "x" ? xs : gs);
            const minus = Float32Array.from(plus);
            plus[i] += eps;
            minus[i] -= eps;
            const fd = which === "x"
              ? (loss(plus, gs) - loss(minus, gs)) / (2 * eps)
              : (loss(xs, plus) - loss(xs, minus)) / (2 * eps);
            num += (fd - analytic[which][i]) ** 2;
            den += fd ** 2;
          }
          const rel = Math.sqrt(num / den);
          assert.ok(rel <= 1e-3, `d/d${which} ${direction} [${shape}]: relative error ${rel}`);
        }
      }
    }
  });

  Deno.test(`gateRecurrent ${backend}: no tensor leaks over forward and backward`, async () => {
    await initBackend(backend);
    const x = tf.randomUniform([1, 8, 8, 4]) as tf.Tensor4D;
    const g = tf.randomUniform([1, 8, 8, 4], -1, 1) as tf.Tensor4D;
    const step = (d: Direction) => {
      const [dx, dg] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(gateRecurrent(a as tf.Tensor4D, b as tf.Tensor4D, d))
      )([x, g]);
      tf.dispose([dx, dg]);
    };
    DIRECTIONS.forEach(step);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) DIRECTIONS.forEach(step);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, g]);
  });
}

Deno.test("gateRecurrent: bad arguments throw an Error naming the shapes", async () => {
  await initBackend("cpu");
  const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
  assert.throws(
    () => gateRecurrent(x, tf.zeros([1, 4, 5, 2]) as tf.Tensor4D, "left-right"),
    /same shape.*\[1,4,4,2\].*\[1,4,5,2\]/,
  );
  assert.throws(
    () => gateRecurrent(tf.zeros([4, 4, 2]) as unknown as tf.Tensor4D, x, "left-right"),
    /rank-4.*\[4,4,2\]/,
  );
  assert.throws(
    () => gateRecurrent(tf.zeros([1, 4, 4, 2], "int32") as tf.Tensor4D, x, "top-bottom"),
    /float32.*int32/,
  );
  assert.throws(
    () => gateRecurrent(x, x, "diagonal" as Direction),
    /direction must be one of/,
  );
});

Deno.test("gateRecurrent: one step of memory matches the recursion by hand", async () => {
  // x = [1, 2, 3], g = [0.5, 0.5, -0.5] left to right: h0 = 0.5, h1 = 1.25, h2 = 4.5 - 0.625
  await initBackend("cpu");
  const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
  const g = tf.tensor4d([0.5, 0.5, -0.5], [1, 1, 3, 1]);
  const y = await gateRecurrent(x, g, "left-right").data();
  assert.deepEqual(Array.from(y), [0.5, 1.25, 3.875]);
  const r = await gateRecurrent(x, g, "right-left").data();
  // right to left: h2 = 1.5 * 3 = 4.5, h1 = 1 + 0.5 * 4.5 = 3.25, h0 = 0.5 + 0.5 * 3.25
  assert.deepEqual(Array.from(r), [2.125, 3.25, 4.5]);
});
