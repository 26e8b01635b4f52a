/**
 * The "native" backend (lib/backends/native: tfjs cpu backend + OpenBLAS through Deno's FFI)
 * against the cpu backend: every kernel it overrides, gradients through tf.grad, and the
 * svrnn-small model (forward against cpu and wasm, gradients against cpu).
 *
 * Skipped, under a name that says why, when OpenBLAS cannot be opened here
 * (`apt-get install libopenblas0-pthread`). Tensors do not move between backends, so
 * every comparison builds its inputs from plain arrays on each backend in turn.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { gatedTest } from "./support/gated.ts";
import { assertClose, sizeOf, values } from "./support/compare.ts";
import "@tensorflow/tfjs-backend-wasm";
import {
  bufferPool,
  initNativeBackend,
  JS_KERNEL_NAMES,
  NATIVE_BACKEND,
  NATIVE_KERNEL_NAMES,
  nativeAvailable,
  registerNativeBackend,
} from "../lib/backends/native/backend.ts";
import { BufferPool } from "../lib/backends/native/pool.ts";
import { nativeSettings } from "../lib/backends/native/kernels.ts";
import {
  convForward,
  type ConvGeometry,
  convThreads,
  releaseScratch,
} from "../lib/backends/native/conv.ts";
import { loadBlas } from "../lib/backends/native/blas.ts";
import { createModel } from "../lib/models/registry.ts";
import { trainStep } from "../lib/train/step.ts";
import { RecipeAdam } from "../lib/train/adam.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/train/config.ts";

type Pad = "same" | "valid" | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];
type Backend = "cpu" | "native" | "wasm";

const AVAILABLE = nativeAvailable();
const SKIP = "native backend: SKIPPED, OpenBLAS not available " +
  "(apt-get install -y libopenblas0-pthread; run with --allow-ffi)";

if (AVAILABLE) registerNativeBackend();

const nativeTest = gatedTest(AVAILABLE, "native", SKIP);

/** Runs f on a backend and returns what it read back; checks it leaked no tensors. */
async function on<T>(backend: Backend, f: () => T): Promise<T> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} failed to start`);
  await tf.ready();
  const before = tf.memory().numTensors;
  const out = f();
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return out;
}

/** f's arrays on cpu and native, compared entry by entry. */
async function compare(
  what: string,
  f: () => Record<string, ArrayLike<number>>,
  backends: Backend[] = ["cpu", NATIVE_BACKEND as Backend],
): Promise<void> {
  const results: Record<string, ArrayLike<number>>[] = [];
  for (const b of backends) results.push(await on(b, f));
  const [ref, ...others] = results;
  await tf.setBackend("cpu");
  for (const [i, got] of others.entries()) {
    for (const key of Object.keys(ref)) {
      assertClose(got[key], ref[key], `${what} [${key}] ${backends[i + 1]} vs ${backends[0]}`);
    }
  }
}

function t4(shape: Shape4, seed: number): tf.Tensor4D {
  return tf.tensor4d(values(sizeOf(shape), seed), shape);
}

function read(t: tf.Tensor): Float32Array {
  return t.dataSync().slice() as Float32Array;
}

// ---------------------------------------------------------------------------------------
// Set-up and detection.

Deno.test({
  name: AVAILABLE ? "native: OpenBLAS opens and the backend starts" : SKIP,
  ignore: !AVAILABLE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const info = await initNativeBackend();
    assert.equal(tf.getBackend(), NATIVE_BACKEND);
    assert.match(info.library, /openblas/);
    assert.ok(info.threads >= 1);
    for (const k of tf.getKernelsForBackend("cpu")) {
      assert.ok(tf.getKernel(k.kernelName, NATIVE_BACKEND), `no native ${k.kernelName}`);
    }
    for (const k of [...NATIVE_KERNEL_NAMES, ...JS_KERNEL_NAMES, "GateRecurrent"]) {
      assert.ok(tf.getKernel(k, NATIVE_BACKEND), `no native ${k}`);
    }
    await tf.setBackend("cpu");
  },
});

const ROOT = new URL("..", import.meta.url);

/** Runs a snippet in a fresh Deno (nothing cached) with the given flags; returns stderr. */
async function denoRun(code: string, flags: string[], env: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-native-test-" });
  try {
    const file = `${dir}/snippet.ts`;
    await Deno.writeTextFile(file, code);
    const cmd = new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", new URL("deno.json", ROOT).pathname, ...flags, file],
      env,
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT.pathname,
    });
    const r = await cmd.output();
    return { code: r.code, err: new TextDecoder().decode(r.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const INIT_SNIPPET = `import { initNativeBackend } from "${
  new URL("lib/backends/native/backend.ts", ROOT).href
}";
try { await initNativeBackend(); console.error("STARTED"); }
catch (e) { console.error("ERROR " + e.name + ": " + e.message); }`;

Deno.test({
  name: "native: a missing OpenBLAS gives one clear Error with the install command",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { err } = await denoRun(INIT_SNIPPET, ["-A"], {
      SVRNN_OPENBLAS: "libopenblas-not-installed.so.0",
    });
    assert.match(err, /ERROR NativeUnavailableError: native backend: cannot open OpenBLAS/);
    assert.match(err, /apt-get install -y libopenblas0-pthread/);
    assert.doesNotMatch(err, /STARTED/);
  },
});

nativeTest(
  "OpenBLAS threads follow $OPENBLAS_NUM_THREADS, else the CPUs this process may use",
  async () => {
    const snippet = `import { initNativeBackend } from "${
      new URL("lib/backends/native/backend.ts", ROOT).href
    }";
const info = await initNativeBackend();
console.error("THREADS " + info.threads + " CPUS " + navigator.hardwareConcurrency);`;
    const one = await denoRun(snippet, ["-A"], { OPENBLAS_NUM_THREADS: "1" });
    assert.match(one.err, /THREADS 1 CPUS/, one.err);
    const bad = await denoRun(snippet, ["-A"], { OPENBLAS_NUM_THREADS: "lots" });
    const m = bad.err.match(/THREADS (\d+) CPUS (\d+)/);
    assert.ok(m, bad.err);
    assert.equal(m[1], m[2], "an unusable value falls back to the CPU count");
  },
);

Deno.test({
  name: "native: without --allow-ffi the Error says so",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { err } = await denoRun(INIT_SNIPPET, ["--allow-read", "--allow-env", "--allow-sys"]);
    assert.match(err, /ERROR NativeUnavailableError: .*--allow-ffi/);
  },
});

// ---------------------------------------------------------------------------------------
// Convolution kernels.

interface ConvCase {
  x: Shape4;
  k: number;
  inC: number;
  outC: number;
  stride: number;
  pad: Pad;
  dilation?: number;
}

const PADS: Pad[] = ["same", "valid", [[0, 0], [1, 2], [3, 0], [0, 0]]];

function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  let i = 0;
  for (const k of [1, 3, 5, 7, 9, 11]) {
    for (const stride of [1, 2]) {
      for (const pad of PADS) {
        const batch = 1 + (i % 2);
        // Odd sizes, large enough for "valid" with the biggest kernel.
        cases.push({
          x: [batch, k + 4 + (i % 3) * 2, k + 6 + (i % 2) * 3, 3 + (i % 4) * 4],
          k,
          inC: 3 + (i % 4) * 4,
          outC: 5 + (i % 3) * 6,
          stride,
          pad,
        });
        i++;
      }
    }
  }
  // Wider channels (the padded-width path without any gathering) and dilation.
  cases.push({ x: [2, 9, 11, 40], k: 3, inC: 40, outC: 33, stride: 1, pad: "same" });
  cases.push({ x: [1, 13, 9, 36], k: 5, inC: 36, outC: 7, stride: 1, pad: PADS[2] });
  cases.push({ x: [1, 15, 13, 6], k: 3, inC: 6, outC: 4, stride: 1, pad: "same", dilation: 2 });
  cases.push({ x: [2, 12, 14, 5], k: 3, inC: 5, outC: 3, stride: 1, pad: "valid", dilation: 2 });
  return cases.map((c) => ({ ...c, x: [c.x[0], c.x[1], c.x[2], c.inC] as Shape4 }));
}

function caseName(c: ConvCase): string {
  const pad = typeof c.pad === "string" ? c.pad : JSON.stringify(c.pad);
  return `x [${c.x}] k ${c.k} ${c.inC}->${c.outC} stride ${c.stride} pad ${pad}` +
    (c.dilation ? ` dilation ${c.dilation}` : "");
}

const ACTS = ["linear", "relu", "leakyrelu", "prelu", "relu6", "elu", "sigmoid"] as const;

nativeTest("Conv2D and FusedConv2D (bias + every activation) equal cpu", async () => {
  for (const [i, c] of convCases().entries()) {
    const act = ACTS[i % ACTS.length];
    await compare(`${caseName(c)} ${act}`, () =>
      tf.tidy(() => {
        const x = t4(c.x, 1 + i);
        const w = t4([c.k, c.k, c.inC, c.outC], 2 + i);
        const bias = tf.tensor1d(values(c.outC, 3 + i));
        const alpha = tf.tensor1d(values(c.outC, 4 + i));
        const d = c.dilation ?? 1;
        const plain = tf.conv2d(x, w, c.stride, c.pad, "NHWC", d);
        const fused = tf.fused.conv2d({
          x,
          filter: w,
          strides: c.stride,
          pad: c.pad,
          dilations: d,
          bias,
          activation: act,
          preluActivationWeights: act === "prelu" ? alpha : undefined,
          leakyreluAlpha: 0.1,
        });
        const scalarBias = tf.fused.conv2d({
          x,
          filter: w,
          strides: c.stride,
          pad: c.pad,
          dilations: d,
          bias: tf.scalar(0.25),
          activation: "relu",
        });
        return { plain: read(plain), fused: read(fused), scalarBias: read(scalarBias) };
      }));
  }
});

nativeTest(
  "Conv2DBackpropInput and Conv2DBackpropFilter (tf.grad of conv2d) equal cpu",
  async () => {
    for (const [i, c] of convCases().entries()) {
      if (c.dilation) continue; // tfjs has no conv gradients with dilation
      await compare(caseName(c), () =>
        tf.tidy(() => {
          const x = t4(c.x, 10 + i);
          const w = t4([c.k, c.k, c.inC, c.outC], 20 + i);
          const y = tf.conv2d(x, w, c.stride, c.pad);
          const dy = tf.tensor(values(y.size, 30 + i), y.shape);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad).mul(dy).sum()
          )([x, w]);
          // The kernels called directly too (conv2dTranspose is Conv2DBackpropInput).
          const tr = tf.conv2dTranspose(dy as tf.Tensor4D, w, c.x, c.stride, c.pad);
          return { dx: read(dx), dw: read(dw), transpose: read(tr) };
        }));
    }
  },
);

nativeTest("gradients through fused conv2d (bias, relu and leaky relu) equal cpu", async () => {
  const cases: ConvCase[] = [
    { x: [2, 11, 13, 5], k: 3, inC: 5, outC: 7, stride: 1, pad: "same" },
    { x: [1, 15, 9, 4], k: 7, inC: 4, outC: 6, stride: 2, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
    { x: [2, 10, 12, 33], k: 5, inC: 33, outC: 3, stride: 1, pad: "valid" },
  ];
  for (const [i, c] of cases.entries()) {
    for (const activation of ["linear", "relu", "leakyrelu"] as const) {
      await compare(`${caseName(c)} ${activation}`, () =>
        tf.tidy(() => {
          const x = t4(c.x, 40 + i);
          const w = t4([c.k, c.k, c.inC, c.outC], 50 + i);
          const b = tf.tensor1d(values(c.outC, 60 + i));
          const f = (xa: tf.Tensor, wa: tf.Tensor, ba: tf.Tensor) =>
            tf.fused.conv2d({
              x: xa as tf.Tensor4D,
              filter: wa as tf.Tensor4D,
              strides: c.stride,
              pad: c.pad,
              bias: ba,
              activation,
              leakyreluAlpha: 0.1,
            }).square().sum();
          const [dx, dw, db] = tf.grads(f)([x, w, b]);
          return { dx: read(dx), dw: read(dw), db: read(db) };
        }));
    }
  }
});

nativeTest("conv core: every gather level, im2col and tiny chunks agree", () => {
  const blas = loadBlas();
  const g: ConvGeometry = {
    batch: 3,
    inH: 9,
    inW: 7,
    inC: 6,
    outH: 9,
    outW: 7,
    outC: 5,
    kH: 3,
    kW: 5,
    strideH: 1,
    strideW: 1,
    dilH: 1,
    dilW: 1,
    padTop: 1,
    padLeft: 2,
  };
  const x = values(3 * 9 * 7 * 6, 70), w = values(3 * 5 * 6 * 5, 71);
  const run = (opts: Record<string, unknown>) => {
    const y = new Float32Array(3 * 9 * 7 * 5);
    convForward(g, x, w, y, null, { gemm: blas.sgemm, ...opts });
    return y;
  };
  const ref = run({ im2col: true });
  for (
    const opts of [
      { gather: "none" },
      { gather: "kw" },
      { gather: "all" },
      { chunkBytes: 4096 },
      { transposedOutput: true },
    ]
  ) {
    assertClose(run(opts), ref, JSON.stringify(opts));
  }
  releaseScratch();
});

nativeTest(
  "conv passes with small products drop to one OpenBLAS thread and restore it",
  async () => {
    const geom = (inC: number, outC: number, k: number): ConvGeometry => ({
      batch: 2,
      inH: 12,
      inW: 12,
      inC,
      outH: 12,
      outW: 12,
      outC,
      kH: k,
      kW: k,
      strideH: 1,
      strideW: 1,
      dilH: 1,
      dilW: 1,
      padTop: k >> 1,
      padLeft: k >> 1,
    });
    // The policy: per-tap [64, 16] filter products and 16-channel outputs serial; wide ones not.
    assert.equal(convThreads(geom(64, 16, 9), "filter", 2), 1);
    assert.equal(convThreads(geom(3, 16, 11), "filter", 2), 1);
    assert.equal(convThreads(geom(256, 512, 3), "filter", 2), 2);
    assert.equal(convThreads(geom(64, 16, 9), "forward", 2), 1);
    assert.equal(convThreads(geom(64, 32, 3), "forward", 2), 2);
    assert.equal(convThreads(geom(64, 16, 9), "input", 2), 2);
    assert.equal(convThreads(geom(64, 16, 9), "filter", 1), 1);
    // The kernels follow it, and leave the process's thread count as it was.
    const blas = nativeSettings.blas!;
    const saved = blas.threads(), setThreads = blas.setThreads;
    const calls: number[] = [];
    blas.setThreads(2);
    blas.setThreads = (n: number) => {
      calls.push(n);
      setThreads(n);
    };
    try {
      await compare("9x9 conv to 16 channels, value and gradients", () =>
        tf.tidy(() => {
          const x = t4([2, 12, 12, 64], 80), w = t4([9, 9, 64, 16], 81);
          const f = (a: tf.Tensor, b: tf.Tensor) =>
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same").square().sum();
          const [dx, dw] = tf.grads(f)([x, w]);
          return { y: read(tf.conv2d(x, w, 1, "same")), dx: read(dx), dw: read(dw) };
        }));
      assert.equal(blas.threads(), 2);
      assert.ok(calls.length >= 4 && calls.includes(1), `thread changes: ${calls}`);
      assert.deepEqual(calls.filter((_, i) => i % 2 === 1), calls.filter((n) => n === 2));
    } finally {
      blas.setThreads = setThreads;
      blas.setThreads(saved);
    }
  },
);

// ---------------------------------------------------------------------------------------
// Matrix products.

nativeTest("BatchMatMul and _FusedMatMul equal cpu (transposes, batch broadcast)", async () => {
  // tfjs's BatchMatMul gradient does not reduce broadcast batch dimensions (on any
  // backend), so gradients are compared only where both batches match.
  const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
    { a: [7, 5], b: [5, 9], ta: false, tb: false },
    { a: [5, 7], b: [5, 9], ta: true, tb: false },
    { a: [7, 5], b: [9, 5], ta: false, tb: true },
    { a: [5, 7], b: [9, 5], ta: true, tb: true },
    { a: [3, 4, 6], b: [3, 6, 2], ta: false, tb: false },
    { a: [3, 4, 6], b: [1, 6, 2], ta: false, tb: false },
    { a: [1, 6, 4], b: [2, 3, 2, 6], ta: true, tb: true },
    { a: [33, 65], b: [65, 17], ta: false, tb: false },
  ];
  for (const [i, c] of cases.entries()) {
    const act = ACTS[i % ACTS.length];
    await compare(`matMul [${c.a}] x [${c.b}] ${c.ta}/${c.tb} ${act}`, () =>
      tf.tidy(() => {
        const a = tf.tensor(values(sizeOf(c.a), 80 + i), c.a);
        const b = tf.tensor(values(sizeOf(c.b), 90 + i), c.b);
        const plain = tf.matMul(a, b, c.ta, c.tb);
        const n = plain.shape[plain.rank - 1];
        const fused = tf.fused.matMul({
          a,
          b,
          transposeA: c.ta,
          transposeB: c.tb,
          bias: tf.tensor1d(values(n, 100 + i)),
          activation: act,
          preluActivationWeights: act === "prelu" ? tf.tensor1d(values(n, 110 + i)) : undefined,
          leakyreluAlpha: 0.15,
        });
        const out: Record<string, Float32Array> = { plain: read(plain), fused: read(fused) };
        if (tf.util.arraysEqual(c.a.slice(0, -2), c.b.slice(0, -2))) {
          const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
            tf.matMul(p, q, c.ta, c.tb).square().sum()
          )([a, b]);
          out.da = read(da);
          out.db = read(db);
        }
        return out;
      }));
  }
});

// ---------------------------------------------------------------------------------------
// The TypeScript kernels (element-wise, reductions, slicing, padding, pooling).

nativeTest(
  "element-wise kernels equal cpu (same shape, scalar and trailing broadcast)",
  async () => {
    const shapes: Array<[number[], number[]]> = [
      [[4, 5, 6], [4, 5, 6]],
      [[4, 5, 6], []],
      [[], [3, 7]],
      [[2, 3, 4, 6], [6]],
      [[6], [2, 3, 4, 6]],
      [[2, 3, 4, 6], [1, 4, 6]],
      [[2, 3, 4, 6], [3, 1, 6]], // general broadcast: the cpu kernel
    ];
    for (const [i, [sa, sb]] of shapes.entries()) {
      await compare(`binary [${sa}] and [${sb}]`, () =>
        tf.tidy(() => {
          const a = tf.tensor(values(sizeOf(sa), 120 + i), sa);
          const b = tf.tensor(values(sizeOf(sb), 130 + i), sb).add(0.75);
          const out: Record<string, Float32Array> = {
            add: read(tf.add(a, b)),
            sub: read(tf.sub(a, b)),
            mul: read(tf.mul(a, b)),
            div: read(tf.div(a, b)),
            max: read(tf.maximum(a, b)),
            min: read(tf.minimum(a, b)),
            sqd: read(tf.squaredDifference(a, b)),
            gt: read(tf.greater(a, b).cast("float32")),
            ge: read(tf.greaterEqual(a, b).cast("float32")),
            lt: read(tf.less(a, b).cast("float32")),
            le: read(tf.lessEqual(a, b).cast("float32")),
          };
          return out;
        }));
    }
    await compare("unary", () =>
      tf.tidy(() => {
        const x = tf.tensor(values(3 * 5 * 7, 140), [3, 5, 7]).mul(6);
        return {
          sqrt: read(tf.sqrt(tf.abs(x))),
          square: read(tf.square(x)),
          neg: read(tf.neg(x)),
          exp: read(tf.exp(x)),
          tanh: read(tf.tanh(x)),
          sigmoid: read(tf.sigmoid(x)),
          relu: read(tf.relu(x)),
          lrelu: read(tf.leakyRelu(x, 0.1)),
          step: read(tf.step(x, 0.3)),
          where: read(tf.where(tf.greater(x, 0.2), x, tf.mul(x, 0.1))),
          int: read(tf.add(tf.tensor1d([1, 2, 3], "int32"), 2).cast("float32")),
        };
      }));
  },
);

nativeTest("Sum, Slice, SplitV, PadV2, MaxPool and MaxPoolGrad equal cpu", async () => {
  await compare("reductions and boxes", () =>
    tf.tidy(() => {
      const x = tf.tensor(values(2 * 5 * 6 * 7, 150), [2, 5, 6, 7]);
      return {
        sumLead: read(tf.sum(x, [0, 1, 2])),
        sumLeadKeep: read(tf.sum(x, [0, 1], true)),
        sumTrail: read(tf.sum(x, [2, 3])),
        sumAll: read(tf.sum(x)),
        sumMiddle: read(tf.sum(x, [1, 3])),
        slice: read(tf.slice(x, [1, 1, 2, 3], [1, 3, 4, 2])),
        sliceC: read(tf.slice(x, [0, 0, 0, 2], [-1, -1, -1, 3])),
        sliceInt: read(tf.slice(x.cast("int32"), [0, 1, 0, 1], [2, 2, 6, 5]).cast("float32")),
        split: read(tf.concat(tf.split(x, [2, 4, 1], 3).map((t) => t.reshape([-1])))),
        splitH: read(tf.concat(tf.split(x, [2, 3], 1).map((t) => t.reshape([-1])))),
        pad: read(tf.pad(x, [[0, 1], [2, 0], [1, 3], [0, 2]], 0.5)),
        padZero: read(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])),
      };
    }));
  for (
    const [pool, stride, pad] of [[2, 2, "valid"], [3, 2, "same"], [3, 1, "same"], [
      2,
      1,
      "valid",
    ]] as const
  ) {
    await compare(`maxPool ${pool}/${stride} ${pad}`, () =>
      tf.tidy(() => {
        const x = t4([2, 9, 7, 5], 160 + pool + stride);
        const y = tf.maxPool(x, pool, stride, pad);
        const dy = tf.tensor(values(y.size, 170), y.shape);
        const dx = tf.grad((a: tf.Tensor) =>
          tf.maxPool(a as tf.Tensor4D, pool, stride, pad).mul(dy).sum()
        )(x);
        return { y: read(y), dx: read(dx) };
      }));
  }
});

// ---------------------------------------------------------------------------------------
// The model.

nativeTest("svrnn-small: native output equals cpu and wasm, gradients equal cpu", async () => {
  const xShape: Shape4 = [2, 21, 27, 3]; // odd: predict pads to a multiple of 8 and crops
  const trainShape: Shape4 = [2, 16, 24, 3];
  const forward = () =>
    tf.tidy(() => {
      const model = createModel("svrnn-small");
      try {
        return { y: read(model.predict(t4(xShape, 200).add(0.5) as tf.Tensor4D)) };
      } finally {
        model.dispose();
      }
    });
  await compare("svrnn-small predict", forward, ["cpu", NATIVE_BACKEND as Backend, "wasm"]);

  const grads = () => {
    const model = createModel("svrnn-small");
    try {
      return tf.tidy(() => {
        const x = t4(trainShape, 210).add(0.5) as tf.Tensor4D;
        const gt = t4(trainShape, 220).add(0.5) as tf.Tensor4D;
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.squaredDifference(model.forward(x), gt)) as tf.Scalar,
          model.trainableVariables,
        );
        const out: Record<string, Float32Array> = { loss: read(value) };
        for (const w of model.weights) out[w.name] = read(grads[w.variable.name]);
        return out;
      });
    } finally {
      model.dispose();
    }
  };
  await compare("svrnn-small gradients", grads);
});

nativeTest("a small chunk budget gives the same svrnn-small output", async () => {
  const run = () =>
    tf.tidy(() => {
      const model = createModel("svrnn-small");
      try {
        return { y: read(model.forward(t4([1, 16, 24, 3], 230).add(0.5) as tf.Tensor4D)) };
      } finally {
        model.dispose();
      }
    });
  const ref = await on(NATIVE_BACKEND as Backend, run);
  const saved = nativeSettings.chunkBytes;
  nativeSettings.chunkBytes = 8192;
  try {
    const small = await on(NATIVE_BACKEND as Backend, run);
    assertClose(small.y, ref.y, "chunkBytes 8192");
  } finally {
    nativeSettings.chunkBytes = saved;
  }
  await tf.setBackend("cpu");
});

// ---------------------------------------------------------------------------------------
// Buffer reuse.

nativeTest("freed buffers are reused, but never ones still visible to anyone", async () => {
  await tf.setBackend(NATIVE_BACKEND);
  const n = 1 << 16;
  const av = values(n, 300), bv = values(n, 301);
  const a = tf.tensor1d(av), b = tf.tensor1d(bv);
  const expected = av.map((v, i) => v + bv[i]);
  // A freed kernel output is handed out again.
  bufferPool.resetStats();
  tf.add(a, b).dispose();
  const reusedBefore = bufferPool.stats().reused;
  tf.add(a, b).dispose();
  assert.equal(bufferPool.stats().reused, reusedBefore + 1, "freed output was not reused");

  // dataSync() returns the stored array itself: it must never be recycled.
  const y = tf.add(a, b);
  const seen = y.dataSync();
  y.dispose();
  tf.mul(a, b).dispose();
  tf.sub(a, b).dispose();
  assertClose(seen, expected, "array read with dataSync() after more kernels ran");

  // A contiguous slice shares its parent's buffer: the parent is not recycled under it.
  const parent = tf.add(a, b);
  const view = tf.slice(parent, [0], [n / 2]);
  parent.dispose();
  const other = tf.mul(a, b);
  assertClose(view.dataSync(), expected.subarray(0, n / 2), "slice view after parent freed");
  other.dispose();
  view.dispose();

  // An array the user handed to tf.tensor is never taken.
  const mine = values(n, 302);
  const copy = mine.slice();
  tf.tensor1d(mine).dispose();
  tf.add(a, b).dispose();
  assertClose(mine, copy, "user array after its tensor was freed");
  tf.dispose([a, b]);
  await tf.setBackend("cpu");
});

Deno.test("buffer pool: training mode keeps a step's freed arrays for the next step", () => {
  const MiB = 1 << 20, n = MiB / 4, K = 12;
  /** Allocate K arrays as a forward pass would, then free them all as its backward does. */
  const step = (pool: BufferPool) => {
    pool.resetStats();
    const arrays = Array.from({ length: K }, () => pool.alloc(n));
    for (const a of arrays) pool.stored(a);
    for (const a of arrays) pool.deleted(a);
    return pool.stats();
  };
  for (const peakFraction of [0, 1]) {
    const pool = new BufferPool(MiB, 0.25);
    pool.peakFraction = peakFraction;
    step(pool);
    const s = step(pool);
    if (peakFraction === 0) {
      // Bounded by the live bytes, which fall to zero: only the 1 MiB floor survives.
      assert.equal(s.reused, 1);
      assert.equal(s.pooledBytes, MiB);
    } else {
      assert.equal(s.reused, K, "the second step should allocate nothing new");
      assert.equal(s.pooledBytes, K * MiB);
      // Leaving training mode gives the memory back down to the floor.
      pool.peakFraction = 0;
      pool.resetPeak();
      assert.equal(pool.stats().pooledBytes, MiB);
    }
  }
});

nativeTest("three Adam steps of svrnn-small give the same weights as on cpu", async () => {
  const steps = async () => {
    const model = createModel("svrnn-small");
    const x = tf.tidy(() => t4([2, 16, 24, 3], 310).add(0.5) as tf.Tensor4D);
    const gt = tf.tidy(() => t4([2, 16, 24, 3], 311).add(0.5) as tf.Tensor4D);
    const cfg = { ...DEFAULT_TRAIN_CONFIG, batchSize: 2, patchSize: 16 };
    const opt = new RecipeAdam(1e-3, cfg.beta1, cfg.beta2, cfg.epsilon);
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push((await trainStep(model, opt, x, gt, cfg, 1e-3)).loss);
    const out: Record<string, Float32Array> = { loss: Float32Array.from(losses) };
    for (const w of model.weights) out[w.name] = read(w.variable);
    opt.dispose();
    tf.dispose([x, gt]);
    model.dispose();
    return out;
  };
  const results: Record<string, Float32Array>[] = [];
  for (const b of ["cpu", NATIVE_BACKEND]) {
    await tf.setBackend(b);
    const before = tf.memory().numTensors;
    results.push(await steps());
    assert.equal(tf.memory().numTensors, before, `${b}: tensors leaked`);
  }
  // Adam's step m / sqrt(v) does not shrink with the gradient, so float rounding in a
  // near-zero gradient (a bias) becomes a difference of order 1e-7 * lr-sized steps: the
  // weights get a looser bound than single kernels. A stale recycled buffer would show as
  // an error of order 1.
  for (const key of Object.keys(results[0])) {
    assertClose(results[1][key], results[0][key], `after 3 steps [${key}]`, 2e-3);
  }
  assertClose(results[1].loss, results[0].loss, "losses of the 3 steps");
  await tf.setBackend("cpu");
});
