/**
 * lib/ops/fused_conv.ts: conv + bias + ReLU / leaky ReLU as one FusedConv2D with a one-pass
 * activation gradient. Its value and its gradients (input, filter, bias) must equal tfjs's
 * unfused ops (conv2d, add, relu or leakyRelu) on every backend that trains, and the
 * composite fallback (for backends without the kernel) must equal the kernel.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { relError, values } from "./support/compare.ts";
import {
  ACTIVATION_GRAD,
  activationGrad,
  type FusableActivation,
  fusedConv2d,
} from "../lib/ops/fused_conv.ts";
import { nativeAvailable, registerNativeBackend } from "../lib/backends/native/backend.ts";
import { initBackend, probeWebGPU } from "../lib/backends/select.ts";
import "../lib/backends/wasm_train_kernels.ts";

const BACKENDS = ["cpu", "wasm", ...(nativeAvailable() ? ["native"] : [])];
if (BACKENDS.includes("native")) registerNativeBackend();
// webgpu has no SvrnnActivationGrad kernel: there the gradient is the composite fallback.
if (await probeWebGPU() !== null) BACKENDS.push("webgpu");
const TOLERANCE: Record<string, number> = { webgpu: 1e-4 };

type Case = { stride: 1 | 2; k: number; activation: FusableActivation };
const CASES: Case[] = [
  { stride: 1, k: 3, activation: "relu" },
  { stride: 1, k: 5, activation: "leakyrelu" },
  { stride: 2, k: 7, activation: "leakyrelu" },
  { stride: 2, k: 3, activation: "relu" },
];
const ALPHA = 0.1;

/** Value and gradients of sum(out * r) for a fixed random r, by the fused op or tfjs's ops. */
async function run(c: Case, fused: boolean): Promise<Record<string, Float32Array>> {
  const out = tf.tidy(() => {
    const [n, h, w, ci, co] = [2, 11, 9, 5, 6];
    const p = c.k >> 1;
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [p, p], [p, p], [0, 0]];
    const x = tf.tensor4d(values(n * h * w * ci, 1), [n, h, w, ci]);
    const f = tf.tensor4d(values(c.k * c.k * ci * co, 2), [c.k, c.k, ci, co]).mul(0.3);
    // Biases around zero put outputs on both sides of the kink.
    const b = tf.tensor1d(values(co, 3)).sub(0.5);
    const apply = (xa: tf.Tensor, fa: tf.Tensor, ba: tf.Tensor) => {
      if (fused) {
        return fusedConv2d({
          x: xa as tf.Tensor4D,
          filter: fa as tf.Tensor4D,
          bias: ba as tf.Tensor1D,
          strides: c.stride,
          pad,
          activation: c.activation,
          alpha: ALPHA,
        });
      }
      const z = tf.add(tf.conv2d(xa as tf.Tensor4D, fa as tf.Tensor4D, c.stride, pad), ba);
      return c.activation === "relu" ? tf.relu(z) : tf.leakyRelu(z, ALPHA);
    };
    const y = apply(x, f, b);
    const r = tf.tensor(values(y.size, 4), y.shape).sub(0.5);
    const [dx, df, db] = tf.grads((xa, fa, ba) => tf.sum(tf.mul(apply(xa, fa, ba), r)))([x, f, b]);
    return { y, dx, df, db };
  });
  // data(), not dataSync(): webgpu cannot read synchronously under Deno.
  const read: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(out)) read[k] = await t.data() as Float32Array;
  tf.dispose(Object.values(out));
  return read;
}

function assertClose(
  a: Record<string, Float32Array>,
  b: Record<string, Float32Array>,
  what: string,
  tolerance = 1e-5,
) {
  for (const key of Object.keys(b)) {
    const e = relError(a[key], b[key]);
    assert.ok(e < tolerance, `${what} [${key}]: relative error ${e.toExponential(2)}`);
  }
}

for (const backend of BACKENDS) {
  Deno.test({
    name: `fused conv: value and gradients equal tfjs's unfused ops on ${backend}`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      if (backend === "webgpu") await initBackend("webgpu");
      else assert.ok(await tf.setBackend(backend));
      for (const c of CASES) {
        const before = tf.memory().numTensors;
        const got = await run(c, true), want = await run(c, false);
        assert.equal(tf.memory().numTensors, before, "tensors leaked");
        assertClose(got, want, `${backend} ${JSON.stringify(c)}`, TOLERANCE[backend]);
        // Both sides of the kink were exercised.
        assert.ok(want.y.some((v) => v === 0) || c.activation === "leakyrelu");
        assert.ok(want.y.some((v) => v < 0) || c.activation === "relu");
      }
    },
  });
}

Deno.test({
  name: "fused conv: the composite fallback (backends without the kernel) equals the kernel",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    assert.ok(await tf.setBackend("cpu"));
    const config = tf.getKernel(ACTIVATION_GRAD, "cpu")!;
    const withKernel = await Promise.all(CASES.map((c) => run(c, true)));
    tf.unregisterKernel(ACTIVATION_GRAD, "cpu");
    try {
      for (const [i, c] of CASES.entries()) {
        assertClose(await run(c, true), withKernel[i], JSON.stringify(c));
      }
    } finally {
      tf.registerKernel(config);
    }
  },
});

Deno.test("activationGrad: dy where y > 0, slope * dy elsewhere (y = 0 included)", () => {
  const dy = Float32Array.from([1, 2, 3, 4, 5]);
  const y = Float32Array.from([0.5, 0, -1, 2, -0]);
  const out = new Float32Array(5);
  activationGrad(dy, y, 0.1, out);
  assert.deepEqual([...out], [1, 0.2, 0.3, 4, 0.5].map(Math.fround));
  activationGrad(dy, y, 0, out);
  assert.deepEqual([...out], [1, 0, 0, 4, 0]);
});
