/**
 * The WebGPU gate-recurrent kernels against a float64 reference and the cpu kernel's
 * loops. On GPU-less machines Deno offers Mesa's llvmpipe adapter, so these run in CI;
 * they are skipped only where navigator.gpu.requestAdapter() gives nothing.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import { initBackend, probeWebGPU } from "../lib/backends/select.ts";
import { type Direction, DIRECTIONS, gateRecurrent } from "../lib/ops/gate_rnn.ts";
import { scanBackward, scanForward } from "../lib/ops/gate_rnn_cpu.ts";

const FORWARD_ABS_TOL = 1e-5;
const GRAD_REL_TOL = 1e-4;

const adapter = await probeWebGPU();
const NEEDS = "(needs a WebGPU adapter)";

/** A test that runs on tfjs's webgpu backend, and is skipped where there is no adapter. */
function gpuTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `${name} ${NEEDS}`,
    ignore: adapter === null,
    fn: async () => {
      if (tf.getBackend() !== "webgpu") await initBackend("webgpu");
      await fn();
    },
  });
}

/** Deterministic uniform floats in (lo, hi), so a failure reproduces. */
function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = lo + (hi - lo) * u;
  }
  return out;
}

interface ScanResult<A> {
  y: A;
  dx: A;
  dg: A;
}

/**
 * The operator and the gradient of sum(y * r) written from
 * docs/paper.md#the-gate-recurrent-operator by (n, h, w, c) coordinates, independently of
 * gate_rnn_geometry.ts, in float64.
 */
function reference(
  x: Float32Array,
  g: Float32Array,
  r: Float32Array,
  shape: number[],
  direction: Direction,
): ScanResult<Float64Array> {
  const [N, H, W, C] = shape;
  const horizontal = direction === "left-right" || direction === "right-left";
  const reverse = direction === "right-left" || direction === "bottom-top";
  const steps = horizontal ? W : H;
  const across = horizontal ? H : W;
  const size = x.length;
  const y = new Float64Array(size);
  const dx = new Float64Array(size);
  const dg = new Float64Array(size);
  for (let n = 0; n < N; n++) {
    for (let a = 0; a < across; a++) {
      for (let c = 0; c < C; c++) {
        // Flat index of the k-th step of the recursion.
        const at = (k: number) => {
          const t = reverse ? steps - 1 - k : k;
          const [hh, ww] = horizontal ? [a, t] : [t, a];
          return ((n * H + hh) * W + ww) * C + c;
        };
        let h = 0;
        for (let k = 0; k < steps; k++) {
          const i = at(k);
          h = (1 - g[i]) * x[i] + g[i] * h;
          y[i] = h;
        }
        let carry = 0;
        for (let k = steps - 1; k >= 0; k--) {
          const i = at(k);
          const dh = r[i] + carry;
          const hPrev = k > 0 ? y[at(k - 1)] : 0;
          dx[i] = (1 - g[i]) * dh;
          dg[i] = dh * (hPrev - x[i]);
          carry = g[i] * dh;
        }
      }
    }
  }
  return { y, dx, dg };
}

/** The cpu kernel's float32 loops on the same data. */
function cpuKernel(
  x: Float32Array,
  g: Float32Array,
  r: Float32Array,
  shape: number[],
  direction: Direction,
): ScanResult<Float32Array> {
  const size = x.length;
  const y = new Float32Array(size);
  const dx = new Float32Array(size);
  const dg = new Float32Array(size);
  scanForward(x, g, y, shape, direction);
  scanBackward(r, x, g, y, dx, dg, shape, direction);
  return { y, dx, dg };
}

/** y, and the gradients of sum(y * r) with respect to x and g, computed on WebGPU. */
async function webgpu(
  x: Float32Array,
  g: Float32Array,
  r: Float32Array,
  shape: number[],
  direction: Direction,
): Promise<ScanResult<Float32Array>> {
  const size = x.length;
  // One read-back per case: on llvmpipe each synchronisation costs more than the kernels.
  const all = tf.tidy(() => {
    const [xt, gt, rt] = [x, g, r].map((v) =>
      tf.tensor4d(v, shape as [number, number, number, number])
    );
    const y = gateRecurrent(xt, gt, direction);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      gateRecurrent(a as tf.Tensor4D, b as tf.Tensor4D, direction).mul(rt).sum();
    const [dx, dg] = tf.grads(loss)([xt, gt]);
    return tf.concat([y.flatten(), dx.flatten(), dg.flatten()]);
  });
  const v = await all.data() as Float32Array;
  all.dispose();
  return { y: v.subarray(0, size), dx: v.subarray(size, 2 * size), dg: v.subarray(2 * size) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max |a - b| / max |b|: elementwise relative error is meaningless where dg cancels to 0. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / Math.max(scale, Number.MIN_VALUE);
}

/** Runs one case and asserts it against both the float64 reference and the cpu kernel. */
async function checkCase(shape: number[], direction: Direction, seed: number): Promise<void> {
  const size = shape.reduce((p, d) => p * d, 1);
  const x = uniform(size, -1, 1, seed);
  const g = uniform(size, -1, 1, seed + 1);
  const r = uniform(size, -1, 1, seed + 2);
  const got = await webgpu(x, g, r, shape, direction);
  const label = `${direction} [${shape}]`;
  for (
    const [name, want] of [
      ["float64 reference", reference(x, g, r, shape, direction)],
      ["cpu kernel", cpuKernel(x, g, r, shape, direction)],
    ] as const
  ) {
    const yErr = maxAbsDiff(got.y, want.y);
    assert.ok(yErr <= FORWARD_ABS_TOL, `${label}: y differs from ${name} by ${yErr}`);
    const dxErr = relError(got.dx, want.dx);
    assert.ok(dxErr <= GRAD_REL_TOL, `${label}: dx relative error ${dxErr} vs ${name}`);
    const dgErr = relError(got.dg, want.dg);
    assert.ok(dgErr <= GRAD_REL_TOL, `${label}: dg relative error ${dgErr} vs ${name}`);
  }
}

for (const [d, direction] of DIRECTIONS.entries()) {
  gpuTest(`gateRecurrent webgpu ${direction}: y, dx, dg match float64 and cpu`, async () => {
    let seed = 1000 * (d + 1);
    for (const n of [1, 2]) {
      for (const c of [1, 3, 32]) {
        for (const h of [1, 7, 64]) {
          for (const w of [1, 7, 64]) {
            await checkCase([n, h, w, c], direction, seed);
            seed += 3;
          }
        }
      }
    }
  });
}

gpuTest("gateRecurrent webgpu: more lanes than one dispatch dimension holds", async () => {
  const device = (tf.backend() as WebGPUBackend).device;
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  // The kernels run 64-thread workgroups; one lane more than fits in a 1D dispatch makes
  // runWebGPUProgram fold it into 2D, where the global index comes from workgroup ids.
  const lanes = maxGroups * 64 + 1;
  if (lanes > 8_000_000) return; // a huge limit never folds; nothing to test here
  // Vertical scans have one lane per (w, c), and two steps keep llvmpipe quick.
  await checkCase([1, 2, 1, lanes], "bottom-top", 7);
});

gpuTest("gateRecurrent webgpu: forward and backward leak no tensors or buffers", async () => {
  const shape: [number, number, number, number] = [2, 7, 5, 3];
  const size = 2 * 7 * 5 * 3;
  const x = tf.tensor4d(uniform(size, -1, 1, 1), shape);
  const g = tf.tensor4d(uniform(size, -1, 1, 2), shape);
  const step = async () => {
    for (const direction of DIRECTIONS) {
      const out = tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          gateRecurrent(a as tf.Tensor4D, b as tf.Tensor4D, direction).square().sum();
        const { value, grads } = tf.valueAndGrads(f)([x, g]);
        return tf.stack([value, grads[0].sum(), grads[1].sum()]);
      });
      await out.data();
      out.dispose();
    }
  };
  await step(); // first call compiles pipelines and fills caches
  const backend = tf.backend();
  const tensors = tf.memory().numTensors;
  // The stacked [dx; dg] intermediate is backend data without a tf.Tensor, so only the
  // backend's count would show it leaking.
  const dataIds = backend.numDataIds();
  for (let i = 0; i < 3; i++) await step();
  assert.equal(tf.memory().numTensors, tensors, "tf.memory().numTensors grew");
  assert.equal(backend.numDataIds(), dataIds, "backend data ids grew");
  x.dispose();
  g.dispose();
});
