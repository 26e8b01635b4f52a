/**
 * oneDNN convolutions (lib/backends/native/dnnl.ts, dnnl_conv.ts) against the OpenBLAS path
 * (conv.ts) and the tfjs cpu backend, on every conv the registered models run (their channel
 * counts, kernels and strides, found by running them at a small size with an observer on the
 * native backend's conv kernels), in each of oneDNN's three layouts: forward with every
 * post-op (none, bias, bias + relu, bias + leaky relu, and activations left to the epilogue),
 * the input gradient, the filter gradient with the bias gradient. Then the native backend's
 * kernels on oneDNN through tfjs, the per-shape choice rule and the fallbacks.
 *
 * Skipped, under a name that says why, when libdnnl or OpenBLAS cannot be opened here
 * (`apt-get install -y libdnnl2 libopenblas0-pthread`).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { gatedTest } from "./support/gated.ts";
import { describeBackend, initBackend } from "../lib/backends/select.ts";
import { assertClose, values } from "./support/compare.ts";
import {
  initNativeBackend,
  NATIVE_BACKEND,
  nativeAvailable,
  registerNativeBackend,
} from "../lib/backends/native/backend.ts";
import { convGeometry, nativeSettings } from "../lib/backends/native/kernels.ts";
import * as openblasConv from "../lib/backends/native/conv.ts";
import type { Activation, ConvGeometry, Epilogue } from "../lib/backends/native/conv.ts";
import * as dnnlConv from "../lib/backends/native/dnnl_conv.ts";
import {
  type ChoiceRow,
  ConvChoices,
  type ConvPass,
  DNNL_LAYOUTS,
  layerSignature,
  loadChoices,
} from "../lib/backends/native/dnnl_conv.ts";
import { dnnlAvailable, loadDnnl } from "../lib/backends/native/dnnl.ts";
import { loadBlas } from "../lib/backends/native/blas.ts";
import { createModel } from "../lib/models/registry.ts";
import type { DeblurModel } from "../lib/models/model.ts";
import { trainStep } from "../lib/train/step.ts";
import { RecipeAdam } from "../lib/train/adam.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/train/config.ts";
import { benchDnnlConv, CHOICE_MARGIN } from "../lib/bench/dnnl_conv.ts";

const HAVE_BLAS = nativeAvailable();
const AVAILABLE = HAVE_BLAS && dnnlAvailable();
const SKIP = "oneDNN: SKIPPED, libdnnl or OpenBLAS not available " +
  "(apt-get install -y libdnnl2 libopenblas0-pthread; run with --allow-ffi)";

if (HAVE_BLAS) registerNativeBackend();

const dnnlTest = gatedTest(AVAILABLE, "oneDNN", SKIP);

// ---------------------------------------------------------------------------------------
// The shapes.

interface Shape {
  pass: ConvPass;
  g: ConvGeometry;
  activation: Activation | null;
  bias: boolean;
  from: string;
}

/**
 * Runs a training step of each model at batch 2 of 16x16 and records every conv pass: the
 * models' channels, kernels and strides at a size tfjs's cpu kernels check in seconds.
 */
async function modelShapes(): Promise<Shape[]> {
  await initNativeBackend();
  const seen = new Map<string, Shape>();
  const saved = { conv: nativeSettings.conv, onConv: nativeSettings.onConv };
  nativeSettings.conv = "openblas";
  try {
    for (const name of ["svrnn-small", "cnn-small", "svrnn"]) {
      const model = createModel(name) as DeblurModel;
      const cfg = { ...DEFAULT_TRAIN_CONFIG, model: name, batchSize: 2, patchSize: 16 };
      const opt = new RecipeAdam(1e-4, cfg.beta1, cfg.beta2, cfg.epsilon);
      nativeSettings.onConv = (pass, g, d) => {
        // Same layer at another size is the same case here: channels, kernel, stride.
        const key = `${pass} ${layerSignature(g)} ${d.activation} ${d.bias}`;
        if (!seen.has(key)) seen.set(key, { pass, g: { ...g }, ...d, from: name });
      };
      const x = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 1) as tf.Tensor4D;
      const y = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 2) as tf.Tensor4D;
      try {
        await trainStep(model, opt, x, y, cfg, 1e-4);
      } finally {
        nativeSettings.onConv = null;
        tf.dispose([x, y]);
        opt.dispose();
        model.dispose();
      }
    }
  } finally {
    Object.assign(nativeSettings, saved);
    await tf.setBackend("cpu");
  }
  return [...seen.values()];
}

/** Cases the models do not have: dilation, odd sizes under stride 2, "valid" leftovers. */
const EXTRA: ConvGeometry[] = [
  geometryOf([1, 15, 13, 6], [3, 3, 6, 4], 1, 2, [[0, 0], [2, 2], [2, 2], [0, 0]]),
  geometryOf([2, 12, 14, 5], [3, 3, 5, 3], 1, 2, [[0, 0], [0, 0], [0, 0], [0, 0]]),
  geometryOf([2, 15, 13, 5], [3, 3, 5, 7], 2, 1, [[0, 0], [0, 0], [0, 0], [0, 0]]),
  geometryOf([1, 17, 11, 16], [7, 7, 16, 9], 2, 1, [[0, 0], [3, 3], [3, 3], [0, 0]]),
  geometryOf([2, 9, 10, 40], [1, 1, 40, 33], 1, 1, [[0, 0], [0, 0], [0, 0], [0, 0]]),
];

type Explicit = tf.backend_util.ExplicitPadding;

function geometryOf(
  x: number[],
  w: number[],
  stride: number,
  dilation: number,
  pad: Explicit,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    w as [number, number, number, number],
    stride,
    dilation,
    pad,
    undefined,
    false,
    "channelsLast",
  );
  return convGeometry(info);
}

/** tfjs's explicit padding that gives this geometry (bottom and right as tfjs would need). */
function explicitPad(g: ConvGeometry): Explicit {
  const after = (inn: number, out: number, k: number, s: number, d: number, before: number) =>
    Math.max(0, (out - 1) * s + (k - 1) * d + 1 - inn - before);
  return [
    [0, 0],
    [g.padTop, after(g.inH, g.outH, g.kH, g.strideH, g.dilH, g.padTop)],
    [g.padLeft, after(g.inW, g.outW, g.kW, g.strideW, g.dilW, g.padLeft)],
    [0, 0],
  ];
}

function describe(g: ConvGeometry): string {
  return `${layerSignature(g)} x [${g.batch},${g.inH},${g.inW}] pad ${g.padTop},${g.padLeft}`;
}

// ---------------------------------------------------------------------------------------
// References.

interface Data {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  bias: Float32Array;
}

function dataFor(g: ConvGeometry, seed: number): Data {
  return {
    x: values(g.batch * g.inH * g.inW * g.inC, seed),
    w: values(g.kH * g.kW * g.inC * g.outC, seed + 1),
    dy: values(g.batch * g.outH * g.outW * g.outC, seed + 2),
    bias: values(g.outC, seed + 3),
  };
}

const xShape = (g: ConvGeometry) => [g.batch, g.inH, g.inW, g.inC];
const wShape = (g: ConvGeometry) => [g.kH, g.kW, g.inC, g.outC];
const yShape = (g: ConvGeometry) => [g.batch, g.outH, g.outW, g.outC];

/** The tfjs cpu backend's answer for each pass (tensors built from the same arrays). */
function cpuForward(g: ConvGeometry, d: Data, ep: Epilogue | null): Float32Array {
  return tf.tidy(() => {
    const y = tf.fused.conv2d({
      x: tf.tensor4d(d.x, xShape(g) as [number, number, number, number]),
      filter: tf.tensor4d(d.w, wShape(g) as [number, number, number, number]),
      strides: [g.strideH, g.strideW],
      pad: explicitPad(g),
      dilations: [g.dilH, g.dilW],
      bias: ep?.bias ? tf.tensor1d(ep.bias) : undefined,
      activation: ep?.activation ?? "linear",
      leakyreluAlpha: ep?.alpha,
      preluActivationWeights: ep?.prelu ? tf.tensor1d(ep.prelu) : undefined,
    });
    return y.dataSync().slice() as Float32Array;
  });
}

function cpuInputGrad(g: ConvGeometry, d: Data): Float32Array {
  return tf.tidy(() =>
    tf.engine().runKernel(tf.Conv2DBackpropInput, {
      dy: tf.tensor4d(d.dy, yShape(g) as [number, number, number, number]),
      filter: tf.tensor4d(d.w, wShape(g) as [number, number, number, number]),
    }, {
      strides: [g.strideH, g.strideW],
      pad: explicitPad(g),
      dataFormat: "NHWC",
      inputShape: xShape(g),
    }) as tf.Tensor
  ).dataSync().slice() as Float32Array;
}

function cpuFilterGrad(g: ConvGeometry, d: Data): Float32Array {
  return tf.tidy(() =>
    tf.engine().runKernel(tf.Conv2DBackpropFilter, {
      x: tf.tensor4d(d.x, xShape(g) as [number, number, number, number]),
      dy: tf.tensor4d(d.dy, yShape(g) as [number, number, number, number]),
    }, {
      strides: [g.strideH, g.strideW],
      pad: explicitPad(g),
      dataFormat: "NHWC",
      filterShape: wShape(g),
    }) as tf.Tensor
  ).dataSync().slice() as Float32Array;
}

function biasGrad(g: ConvGeometry, dy: Float32Array): Float32Array {
  const db = new Float64Array(g.outC);
  for (let i = 0; i < dy.length; i++) db[i % g.outC] += dy[i];
  return Float32Array.from(db);
}

/** The forward epilogues each shape is checked with: none, each fused post-op, fallbacks. */
function epilogues(d: Data, activation: Activation | null): [string, Epilogue | null][] {
  const ep = (a: Activation, bias: Float32Array | null): Epilogue => ({
    bias,
    activation: a,
    alpha: 0.1,
    prelu: a === "prelu" ? d.bias.map((v) => v * 0.5) : null,
  });
  const list: [string, Epilogue | null][] = [
    ["no bias", null],
    ["bias", ep("linear", d.bias)],
    ["bias + relu", ep("relu", d.bias)],
    ["bias + leaky relu", ep("leakyrelu", d.bias)],
  ];
  if (activation && !["linear", "relu", "leakyrelu"].includes(activation)) {
    list.push([`bias + ${activation}`, ep(activation, d.bias)]);
  }
  return list;
}

// ---------------------------------------------------------------------------------------
// The passes on every shape, in every layout.

async function checkShape(t: Deno.TestContext, s: Shape | { g: ConvGeometry }, i: number) {
  const g = s.g;
  const gemm = loadBlas().sgemm;
  const d = dataFor(g, 100 + 7 * i);
  const pass = "pass" in s ? s.pass : null;
  const ny = d.dy.length;
  await t.step(`${pass ?? "all passes"}: ${describe(g)}`, async () => {
    await tf.setBackend("cpu");
    if (pass === null || pass === "forward") {
      for (const [name, ep] of epilogues(d, "activation" in s ? s.activation : null)) {
        const want = new Float32Array(ny);
        openblasConv.convForward(g, d.x, d.w, want, ep, { gemm });
        const cpu = cpuForward(g, d, ep);
        assertClose(want, cpu, `forward ${name}: OpenBLAS vs cpu (the references agree)`);
        for (const layout of DNNL_LAYOUTS) {
          const got = new Float32Array(ny).fill(Number.NaN);
          dnnlConv.convForward(g, d.x, d.w, got, ep, { layout });
          assertClose(got, want, `forward ${name} ${layout} vs OpenBLAS`);
          assertClose(got, cpu, `forward ${name} ${layout} vs cpu`);
        }
      }
      // A scalar bias broadcasts.
      const scalar: Epilogue = {
        bias: d.bias.subarray(0, 1),
        activation: "relu",
        alpha: 0,
        prelu: null,
      };
      const want = new Float32Array(ny), got = new Float32Array(ny);
      openblasConv.convForward(g, d.x, d.w, want, scalar, { gemm });
      dnnlConv.convForward(g, d.x, d.w, got, scalar, { layout: "weights" });
      assertClose(got, want, "forward scalar bias + relu vs OpenBLAS");
    }
    const dilated = g.dilH > 1 || g.dilW > 1; // tfjs has no conv gradients with dilation
    if (pass === null || pass === "input") {
      const want = new Float32Array(d.x.length);
      openblasConv.convBackpropInput(g, d.dy, d.w, want, { gemm });
      const cpu = dilated ? null : cpuInputGrad(g, d);
      if (cpu) assertClose(want, cpu, "input gradient: OpenBLAS vs cpu");
      for (const layout of DNNL_LAYOUTS) {
        const got = new Float32Array(d.x.length).fill(Number.NaN);
        dnnlConv.convBackpropInput(g, d.dy, d.w, got, { layout });
        assertClose(got, want, `input gradient ${layout} vs OpenBLAS`);
        if (cpu) assertClose(got, cpu, `input gradient ${layout} vs cpu`);
      }
    }
    if (pass === null || pass === "filter") {
      const want = new Float32Array(d.w.length);
      openblasConv.convBackpropFilter(g, d.x, d.dy, want, { gemm });
      const cpu = dilated ? null : cpuFilterGrad(g, d);
      if (cpu) assertClose(want, cpu, "filter gradient: OpenBLAS vs cpu");
      const dbWant = biasGrad(g, d.dy);
      for (const layout of DNNL_LAYOUTS) {
        const got = new Float32Array(d.w.length).fill(Number.NaN);
        dnnlConv.convBackpropFilter(g, d.x, d.dy, got, { layout });
        assertClose(got, want, `filter gradient ${layout} vs OpenBLAS`);
        if (cpu) assertClose(got, cpu, `filter gradient ${layout} vs cpu`);
        const withBias = new Float32Array(d.w.length).fill(Number.NaN);
        const db = new Float32Array(g.outC).fill(Number.NaN);
        dnnlConv.convBackpropFilter(g, d.x, d.dy, withBias, { layout }, db);
        assertClose(withBias, want, `filter gradient (with bias gradient) ${layout} vs OpenBLAS`);
        assertClose(db, dbWant, `bias gradient ${layout} vs the sum of dy`);
      }
    }
  });
}

const SHAPES = AVAILABLE ? await modelShapes() : [];

dnnlTest(
  `every conv pass of svrnn-small, cnn-small and svrnn (${SHAPES.length} shapes) equals ` +
    "OpenBLAS and cpu, in every layout",
  async (t) => {
    assert.ok(SHAPES.length >= 40, `only ${SHAPES.length} shapes found`);
    for (const pass of ["forward", "input", "filter"] as ConvPass[]) {
      assert.ok(SHAPES.some((s) => s.pass === pass), `no ${pass} pass recorded`);
    }
    assert.ok(SHAPES.some((s) => s.g.strideH === 2), "the stride-2 conv is among them");
    for (const [i, s] of SHAPES.entries()) await checkShape(t, s, i);
  },
);

dnnlTest("dilation, stride 2 on odd sizes, 'valid' leftovers and 1x1 convs", async (t) => {
  for (const [i, g] of EXTRA.entries()) await checkShape(t, { g }, 1000 + i);
});

dnnlTest("a primitive is built once per shape and layout, then reused", () => {
  const g = EXTRA[0];
  const d = dataFor(g, 5);
  const y = new Float32Array(d.dy.length);
  dnnlConv.convForward(g, d.x, d.w, y, null, { layout: "any" });
  const first = dnnlConv.lastPlan();
  const before = dnnlConv.cachedPlans().size;
  dnnlConv.convForward(g, d.x, d.w, y, null, { layout: "any" });
  assert.equal(dnnlConv.lastPlan(), first);
  assert.equal(dnnlConv.cachedPlans().size, before);
  assert.ok(first!.impl.length > 0, "oneDNN names its implementation");
  assert.ok(first!.reorders >= 1, "the all-blocked layout reorders");
});

dnnlTest("library: version 2.x, CPU engine, OpenMP threads settable", () => {
  const d = loadDnnl();
  assert.match(d.version, /^2\.\d+\.\d+$/);
  if (d.threads() !== null) {
    const was = d.threads()!;
    d.setThreads(1);
    assert.equal(d.threads(), 1);
    d.setThreads(was);
  }
  assert.throws(
    () => d.memoryDesc([1, 2, 3, 4], 99999),
    /oneDNN: dnnl_memory_desc_init_by_tag.*failed: dnnl_invalid_arguments/,
  );
});

// ---------------------------------------------------------------------------------------
// Through tfjs: the native backend's kernels on oneDNN.

async function nativeVsCpu(what: string, f: () => Record<string, Float32Array>) {
  const results: Record<string, Float32Array>[] = [];
  for (const b of ["cpu", NATIVE_BACKEND]) {
    await tf.setBackend(b);
    results.push(f());
  }
  await tf.setBackend("cpu");
  for (const key of Object.keys(results[0])) {
    assertClose(results[1][key], results[0][key], `${what} [${key}] native (oneDNN) vs cpu`);
  }
}

dnnlTest(
  "native kernels on oneDNN: fused conv, its gradients and svrnn-small equal cpu",
  async () => {
    const saved = nativeSettings.conv;
    nativeSettings.conv = "dnnl";
    try {
      for (const [i, act] of (["relu", "leakyrelu", "elu", "prelu", "linear"] as const).entries()) {
        await nativeVsCpu(`fused conv2d ${act}`, () =>
          tf.tidy(() => {
            const x = tf.tensor4d(values(2 * 11 * 13 * 5, i), [2, 11, 13, 5]);
            const w = tf.tensor4d(values(3 * 3 * 5 * 7, i + 1), [3, 3, 5, 7]);
            const b = tf.tensor1d(values(7, i + 2));
            const alpha = tf.tensor1d(values(7, i + 3));
            const f = (xa: tf.Tensor, wa: tf.Tensor) =>
              tf.fused.conv2d({
                x: xa as tf.Tensor4D,
                filter: wa as tf.Tensor4D,
                strides: 1 + (i % 2),
                pad: "same",
                bias: b,
                activation: act,
                leakyreluAlpha: 0.1,
                preluActivationWeights: act === "prelu" ? alpha : undefined,
              });
            const y = f(x, w);
            const [dx, dw] = tf.grads((xa: tf.Tensor, wa: tf.Tensor) =>
              tf.conv2d(xa as tf.Tensor4D, wa as tf.Tensor4D, 1 + (i % 2), "same").square().sum()
            )([x, w]);
            const read = (t: tf.Tensor) => t.dataSync().slice() as Float32Array;
            return { y: read(y), dx: read(dx), dw: read(dw) };
          }));
      }
      await nativeVsCpu("svrnn-small forward and gradients", () =>
        tf.tidy(() => {
          const model = createModel("svrnn-small", { seed: 3 }) as DeblurModel;
          const x = tf.tensor4d(values(1 * 32 * 32 * 3, 9).map((v) => v + 0.5), [1, 32, 32, 3]);
          const { value, grads } = tf.variableGrads(
            () => model.forward(x).square().mean() as tf.Scalar,
            model.trainableVariables,
          );
          const out: Record<string, Float32Array> = {
            loss: value.dataSync().slice() as Float32Array,
          };
          // By position: variable names carry a per-instance suffix.
          model.trainableVariables.forEach((v, i) => {
            out[`grad ${i}`] = grads[v.name].dataSync().slice() as Float32Array;
          });
          model.dispose();
          return out;
        }));
    } finally {
      nativeSettings.conv = saved;
    }
  },
);

// ---------------------------------------------------------------------------------------
// The choice and the fallbacks (no oneDNN needed).

const G: ConvGeometry = geometryOf([8, 64, 64, 3], [11, 11, 3, 16], 1, 1, [[0, 0], [5, 5], [
  5,
  5,
], [0, 0]]);

function row(g: ConvGeometry, pass: ConvPass, threads: number, dnnl: boolean): ChoiceRow {
  return {
    pass,
    geometry: g,
    threads,
    choice: dnnl ? "dnnl" : "openblas",
    layout: dnnl ? "weights" : null,
  };
}

Deno.test("oneDNN choice: the nearest measured size of the same layer, pass and threads", () => {
  const big = { ...G, batch: 1, inH: 256, inW: 256, outH: 256, outW: 256 }; // 2x the pixels
  const choices = new ConvChoices([
    row(G, "forward", 1, true),
    row(big, "forward", 1, false),
    row(G, "filter", 2, true),
  ]);
  assert.equal(choices.choose(G, "forward", 1), "weights");
  assert.equal(choices.choose(big, "forward", 1), null, "the nearer row chose OpenBLAS");
  assert.equal(choices.choose({ ...G, batch: 6 }, "forward", 1), "weights");
  assert.equal(choices.choose(G, "forward", 2), null, "not measured at 2 threads");
  assert.equal(choices.choose(G, "input", 1), null, "pass not measured");
  assert.equal(choices.choose(G, "filter", 2), "weights");
  assert.equal(choices.choose({ ...G, outC: 17 }, "forward", 1), null, "another layer");
  const far = { ...G, batch: 64 }; // 8x the pixels of the nearest row
  assert.equal(choices.choose(far, "forward", 1), null, "too far from any measured size");
  assert.equal(choices.choose({ ...G, padTop: -1 }, "forward", 1), null, "unsupported");
});

Deno.test("oneDNN choice: no table, no oneDNN", () => {
  const none = loadChoices(new URL("file:///nonexistent/dnnl_conv.json"));
  assert.equal(none.rows.length, 0);
  assert.equal(none.choose(G, "forward", 1), null);
});

Deno.test("oneDNN choice: the committed table parses and every row names its choice", () => {
  const table = loadChoices();
  for (const r of table.rows) {
    assert.ok(r.choice === "openblas" || DNNL_LAYOUTS.includes(r.layout!), JSON.stringify(r));
  }
});

const ROOT = new URL("..", import.meta.url);

async function denoRun(code: string, env: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-dnnl-test-" });
  try {
    const file = `${dir}/snippet.ts`;
    await Deno.writeTextFile(file, code);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", new URL("deno.json", ROOT).pathname, "-A", file],
      env,
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT.pathname,
    }).output();
    return new TextDecoder().decode(r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "oneDNN: a missing libdnnl gives one clear Error, and the native backend stays on OpenBLAS",
  ignore: !HAVE_BLAS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lib = (p: string) => new URL(p, ROOT).href;
    const err = await denoRun(
      `import * as tf from "@tensorflow/tfjs";
import { loadDnnl } from "${lib("lib/backends/native/dnnl.ts")}";
import { initNativeBackend } from "${lib("lib/backends/native/backend.ts")}";
try { loadDnnl(); console.error("OPENED"); }
catch (e) { console.error("ERROR " + e.name + ": " + e.message); }
await initNativeBackend();
const x = tf.ones([1, 8, 8, 3]), w = tf.ones([3, 3, 3, 2]);
console.error("SUM " + tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same").sum().dataSync()[0]);`,
      { SVRNN_DNNL: "libdnnl-not-installed.so.2", SVRNN_CONV: "dnnl" },
    );
    assert.match(err, /ERROR DnnlUnavailableError: oneDNN: cannot open libdnnl/);
    assert.match(err, /apt-get install -y libdnnl2/);
    assert.doesNotMatch(err, /OPENED/);
    // Ones through a 3x3 "same" conv: each output counts its taps inside the 8x8 image,
    // 22 x 22 summed over the positions, times 3 input and 2 output channels.
    assert.match(err, /SUM 2904\b/, err);
  },
});

Deno.test({
  name: "oneDNN: $SVRNN_CONV must name a mode",
  ignore: !HAVE_BLAS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const err = await denoRun(
      `import "${new URL("lib/backends/native/kernels.ts", ROOT).href}";`,
      { SVRNN_CONV: "fastest" },
    );
    assert.match(err, /\$SVRNN_CONV must be one of table,openblas,dnnl, got "fastest"/);
  },
});

dnnlTest("the benchmark writes both paths' times, a choice and sums per workload", async () => {
  const workload = {
    name: "svrnn-small train b1 16x16",
    model: "svrnn-small",
    kind: "train" as const,
    batch: 1,
    height: 16,
    width: 16,
  };
  const r = await benchDnnlConv({ workloads: [workload], reps: 1, threads: [1] });
  assert.ok(r.records.length >= 40, `${r.records.length} rows`);
  for (const row of r.records) {
    assert.ok(row.openblasMs > 0 && Number.isFinite(row.openblasMs));
    assert.ok(row.bestLayout !== null, `${row.pass} ${row.layer}: no oneDNN layout ran`);
    assert.ok(row.dnnlMs[row.bestLayout]! > 0);
    assert.equal(row.choice === "dnnl", row.ratio! >= CHOICE_MARGIN);
    assert.equal(row.calls[workload.name] >= 1, true);
  }
  assert.equal(r.totals.length, 1);
  const t = r.totals[0];
  assert.ok(t.chosenMs <= t.openblasMs * 1.0001, "the chosen paths are never slower in the sums");
  assert.equal(r.endToEnd.length, 1);
  assert.ok(r.endToEnd[0].openblasMs > 0 && r.endToEnd[0].tableMs > 0);
  await tf.setBackend("cpu");
});

// The training step through the chosen paths runs and gives a finite loss.
dnnlTest("a training step of svrnn-small with the table's choices", async () => {
  await initNativeBackend();
  const model = createModel("svrnn-small") as DeblurModel;
  const cfg = { ...DEFAULT_TRAIN_CONFIG, model: "svrnn-small", batchSize: 2, patchSize: 32 };
  const opt = new RecipeAdam(1e-4, cfg.beta1, cfg.beta2, cfg.epsilon);
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  try {
    const r = await trainStep(model, opt, x, x, cfg, 1e-4);
    assert.ok(Number.isFinite(r.loss));
  } finally {
    tf.dispose(x);
    opt.dispose();
    model.dispose();
    await tf.setBackend("cpu");
  }
});

dnnlTest("the backend's one-line description names the convolution library in use", async () => {
  const saved = nativeSettings.conv;
  const line = async (mode: typeof saved) => {
    nativeSettings.conv = mode;
    return describeBackend(await initBackend("native"));
  };
  try {
    assert.match(await line("table"), /; convs: oneDNN by measured shape\)$/);
    assert.match(await line("dnnl"), /; convs: oneDNN\)$/);
    assert.doesNotMatch(await line("openblas"), /convs/);
  } finally {
    nativeSettings.conv = saved;
    await tf.setBackend("cpu");
  }
});
