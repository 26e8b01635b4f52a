/**
 * The models: parameter counts (9,227,027 for the paper's SVRNN, 11,721,321 for Nah et
 * al.), layer names, the prototxt's wiring details (gate slice and concat orders, Caffe
 * padding, resize modes), any-size predict, gradients reaching every variable, no leaks,
 * seeded determinism, config validation. Gradients run on the cpu backend with the small
 * variants and tiny images; the full models run forward once on small images.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "#lib/backends/select.ts";
import { DIRECTIONS } from "#lib/ops/gate_rnn.ts";
import {
  conv,
  convSpec,
  createConv,
  padToMultiple,
  pixelShuffle,
  upsample2x,
} from "#lib/models/layers.ts";
import { isMultiScale } from "#lib/models/model.ts";
import { checkFields, fieldDefaults } from "#lib/models/fields.ts";
import {
  CNN_CONTROL_FIELDS,
  DEFAULT_CNN_CONTROL_CONFIG,
  validateCNNControlConfig,
} from "#lib/models/cnn_control.ts";
import { DEFAULT_NAH_CONFIG, NAH_FIELDS, validateNahConfig } from "#lib/models/deepdeblur.ts";
import { createModel, listModels, MODEL_NAMES, modelParamCount } from "#lib/models/registry.ts";
import {
  CONCAT_ORDER,
  DEFAULT_SVRNN_CONFIG,
  GATE_SLICE_ORDER,
  mergeDirections,
  SVRNN_FIELDS,
  type SVRNNConfig,
  validateSVRNNConfig,
} from "#lib/models/svrnn.ts";
import type { NahConfig } from "#lib/models/deepdeblur.ts";
import { ABLATION_VARIANTS } from "#lib/models/variants.ts";

const SMALL_NAMES = MODEL_NAMES.filter((n) => n !== "svrnn" && n !== "nah");

function image(shape: [number, number, number, number], seed = 1): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, "float32", seed) as tf.Tensor4D;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

Deno.test("svrnn (paper) has exactly 9,227,027 trainable parameters and the prototxt's layer names", async () => {
  await initBackend("cpu");
  const m = createModel("svrnn");
  try {
    assert.equal(m.paramCount(), 9_227_027);
    assert.equal(modelParamCount("svrnn"), 9_227_027);
    const convs = [
      "conve1_1",
      "conve1_2",
      "convg1_1",
      "convg1_2",
      "convg2_1",
      "convg2_2",
      "convg3_1",
      "convg3_2",
      "convg3_3",
      "convg4_1",
      "convg4_2",
      "convg4_3",
      "convgd1",
      "convgd1_2",
      "convgd2",
      "convgd2_2",
      "conv_rnn1",
      "conv_rnn2",
      "conv_rnn3",
      "conv_rnn4",
      "convd1_1",
      "convd1_2",
    ];
    assert.deepEqual(
      m.weights.map((w) => w.name),
      convs.flatMap((c) => [`${c}.weight`, `${c}.bias`]),
    );
    const shape = (n: string) => m.weights.find((w) => w.name === n)!.variable.shape;
    assert.deepEqual(shape("conve1_1.weight"), [11, 11, 3, 16]); // [kh,kw,in,out] in tfjs
    assert.deepEqual(shape("conve1_2.weight"), [7, 7, 16, 32]);
    assert.deepEqual(shape("convgd2_2.weight"), [3, 3, 256, 512]);
    assert.deepEqual(shape("conv_rnn3.weight"), [3, 3, 128, 32]);
    assert.deepEqual(shape("convd1_1.weight"), [9, 9, 64, 16]);
    assert.deepEqual(shape("convd1_2.weight"), [5, 5, 32, 3]);
    assert.equal(m.trainableVariables.length, 44);
    assert.ok(m.trainableVariables.every((v) => v.trainable));
  } finally {
    m.dispose();
  }
});

Deno.test("nah (paper) has exactly 11,721,321 trainable parameters and the PyTorch port's names", async () => {
  await initBackend("cpu");
  const m = createModel("nah");
  try {
    assert.equal(m.paramCount(), 11_721_321);
    assert.equal(modelParamCount("nah"), 11_721_321);
    const names = new Set(m.weights.map((w) => w.name));
    for (
      const n of [
        "body_models.2.body.0.weight", // coarsest head, 3 inputs
        "body_models.0.body.0.weight", // finest head, 6 inputs
        "body_models.1.body.19.body.2.bias",
        "body_models.0.body.20.weight",
        "conv_end_models.1.uppath.0.weight",
        "conv_end_models.2.uppath.0.weight",
      ]
    ) assert.ok(names.has(n), n);
    assert.ok(!names.has("conv_end_models.0.uppath.0.weight"));
    const shape = (n: string) => m.weights.find((w) => w.name === n)!.variable.shape;
    assert.deepEqual(shape("body_models.2.body.0.weight"), [5, 5, 3, 64]);
    assert.deepEqual(shape("body_models.0.body.0.weight"), [5, 5, 6, 64]);
    assert.deepEqual(shape("conv_end_models.1.uppath.0.weight"), [5, 5, 3, 12]);
    assert.equal(m.weights.length, 3 * 2 * (1 + 2 * 19 + 1) + 2 * 2);
  } finally {
    m.dispose();
  }
});

Deno.test("listModels: every registered name, a description, and the built model's count", async () => {
  await initBackend("cpu");
  const list = listModels();
  assert.deepEqual(list.map((m) => m.name), [...MODEL_NAMES]);
  for (const n of ["svrnn", "nah", "svrnn-small", "nah-small", "svrnn-mid", ...ABLATION_VARIANTS]) {
    assert.ok(MODEL_NAMES.includes(n), n);
  }
  for (const info of list) {
    assert.ok(info.description.length > 10 && !info.description.includes("\n"), info.name);
    if (info.name === "svrnn" || info.name === "nah") continue;
    const m = createModel(info.name);
    assert.equal(m.paramCount(), info.params, info.name);
    m.dispose();
  }
  const small = list.find((m) => m.name === "svrnn-small")!.params;
  assert.ok(small >= 100_000 && small <= 500_000, `svrnn-small has ${small}`);
  // svrnn-mid sits between the small preset and the paper's network.
  const mid = list.find((m) => m.name === "svrnn-mid")!.params;
  const paper = list.find((m) => m.name === "svrnn")!.params;
  assert.ok(mid > 3 * small && mid < paper / 4, `svrnn-mid has ${mid}`);
  const control = list.find((m) => m.name === "cnn-small")!.params;
  assert.ok(
    Math.abs(control - small) / small < 0.01,
    `cnn-small ${control} vs svrnn-small ${small}`,
  );
});

Deno.test("output shape equals input shape: 37x53 and 64x64, batch 1 and 2, tiny images (wasm)", async () => {
  await initBackend("wasm");
  const all: Array<[number, number, number, number]> = [
    [1, 37, 53, 3],
    [2, 37, 53, 3],
    [1, 64, 64, 3],
    [2, 64, 64, 3],
    [1, 1, 1, 3],
    [1, 3, 10, 3],
  ];
  for (const name of ["svrnn-small", "nah-small", "cnn-small", "svrnn-small-fixed"]) {
    const m = createModel(name);
    for (const shape of all) {
      const x = image(shape);
      const y = m.predict(x);
      assert.deepEqual(y.shape, shape, `${name} [${shape}]`);
      assert.ok(tf.tidy(() => tf.all(tf.isFinite(y)).dataSync()[0]) === 1, `${name} finite`);
      tf.dispose([x, y]);
    }
    m.dispose();
  }
});

Deno.test("predict crops what forward computes on the reflect-padded image", async () => {
  await initBackend("cpu");
  const m = createModel("svrnn-small");
  const x = image([1, 13, 21, 3], 3);
  const y = m.predict(x);
  const want = tf.tidy(() => {
    const padded = tf.mirrorPad(x, [[0, 0], [0, 3], [0, 3], [0, 0]], "reflect") as tf.Tensor4D;
    return m.forward(padded).slice([0, 0, 0, 0], [1, 13, 21, 3]);
  });
  assert.ok(maxAbsDiff(y, want) < 1e-6);
  assert.throws(() => m.forward(x), /multiples of 8/);
  assert.throws(() => m.predict(tf.zeros([1, 8, 8, 4]) as tf.Tensor4D), /\[N,H,W,3\]/);
  tf.dispose([x, y, want]);
  m.dispose();
});

Deno.test("padToMultiple: reflect, then symmetric, then edge for tiny sizes", async () => {
  await initBackend("cpu");
  const row = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
  const cases: Array<[number, number[]]> = [
    [4, [1, 2, 3, 2]], // reflect (pad 1 < 3)
    [8, [1, 2, 3, 3, 3, 3, 3, 3]], // pad 5 > 3: edge
    [6, [1, 2, 3, 3, 2, 1]], // pad 3 = size: symmetric
  ];
  for (const [mult, want] of cases) {
    const { padded, height, width } = padToMultiple(row, mult);
    assert.deepEqual([height, width], [1, 3]);
    assert.deepEqual(padded.shape, [1, mult, want.length, 1]);
    assert.deepEqual(
      Array.from(padded.slice([0, 0, 0, 0], [1, 1, want.length, 1]).dataSync()),
      want,
    );
    padded.dispose();
  }
  row.dispose();
});

Deno.test("every trainable variable of every small model gets a non-zero gradient from an L2 loss", async () => {
  await initBackend("cpu");
  const cases: Array<[string, Record<string, unknown>]> = [
    ...SMALL_NAMES.map((n): [string, Record<string, unknown>] => [n, {}]),
    ["svrnn-small", { fuse: false, unfusedMerge: "mean", resize: "caffe" }],
    ["svrnn-small", { directions: ["top-bottom", "bottom-top"], numBlocks: 5 }],
  ];
  for (const [name, overrides] of cases) {
    // Without the residual: its zero-initialised output conv blocks every other gradient at
    // step 0 by design (the next test).
    const m = createModel(name, { ...overrides, residual: false });
    const side = name === "svrnn-small" || name === "nah-small" ? 16 : 8;
    const x = image([2, side, side, 3], 5);
    const target = image([2, side, side, 3], 6);
    const { value, grads } = tf.variableGrads(
      () => tf.div(tf.sum(tf.square(tf.sub(m.forward(x), target))), 2) as tf.Scalar,
      m.trainableVariables,
    );
    assert.ok(Number.isFinite(value.dataSync()[0]));
    for (const w of m.weights) {
      const g = grads[w.variable.name];
      assert.ok(g, `${name} ${w.name}: no gradient`);
      const norm = tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]);
      assert.ok(norm > 0 && Number.isFinite(norm), `${name} ${w.name}: gradient norm ${norm}`);
    }
    assert.equal(Object.keys(grads).length, m.trainableVariables.length, name);
    tf.dispose([x, target, value, ...Object.values(grads)]);
    m.dispose();
  }
});

Deno.test("residual small models start as the identity, and one Adam step moves them off it", async () => {
  await initBackend("cpu");
  for (const name of ["svrnn-small", "nah-small", "cnn-small"]) {
    const m = createModel(name);
    assert.equal((m.config as { residual: boolean }).residual, true, name);
    const x = image([1, 16, 16, 3], 7);
    const target = image([1, 16, 16, 3], 8);
    const y0 = m.forward(x);
    assert.ok(maxAbsDiff(y0, x) < 1e-6, `${name}: output differs from input at init`);
    const opt = tf.train.adam(1e-3);
    opt.minimize(() => tf.sum(tf.square(tf.sub(m.forward(x), target))) as tf.Scalar);
    const y1 = m.forward(x);
    assert.ok(maxAbsDiff(y1, x) > 1e-5, `${name}: still the identity after one step`);
    tf.dispose([x, target, y0, y1]);
    opt.dispose();
    m.dispose();
  }
});

Deno.test("repeated predict and analyze leak no tensors", async () => {
  await initBackend("cpu");
  for (const name of ["svrnn-small", "nah-small", "cnn-small", "svrnn-small-invariant"]) {
    const m = createModel(name);
    const x = image([1, 13, 19, 3]);
    tf.dispose(m.predict(x)); // warm-up
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(m.predict(x));
      const a = m.analyze(x);
      tf.dispose([a.output, ...Object.values(a.intermediates)]);
    }
    assert.equal(tf.memory().numTensors, before, name);
    x.dispose();
    m.dispose();
  }
});

Deno.test("a seeded build is deterministic; another seed gives other weights", async () => {
  await initBackend("cpu");
  // Without the residual, whose zero-initialised output conv would hide the other weights.
  const a = createModel("svrnn-small", { residual: false });
  const b = createModel("svrnn-small", { residual: false });
  const c = createModel("svrnn-small", { residual: false, seed: 7 });
  for (let i = 0; i < a.weights.length; i++) {
    assert.equal(a.weights[i].name, b.weights[i].name);
    assert.equal(maxAbsDiff(a.weights[i].variable, b.weights[i].variable), 0, a.weights[i].name);
  }
  const x = image([1, 16, 24, 3]);
  const [ya, yb, yc] = [a.predict(x), b.predict(x), c.predict(x)];
  assert.equal(maxAbsDiff(ya, yb), 0);
  assert.ok(maxAbsDiff(ya, yc) > 1e-4);
  assert.ok(maxAbsDiff(a.weights[0].variable, c.weights[0].variable) > 0);
  // Caffe xavier: U(+-sqrt(3 / fan_in)), zero bias.
  const w = a.weights.find((w) => w.name === "conve1_1.weight")!.variable;
  const limit = Math.sqrt(3 / (3 * 11 * 11));
  const vals = w.dataSync();
  assert.ok(
    vals.every((v) => Math.abs(v) <= limit) && Math.max(...vals.map(Math.abs)) > 0.9 * limit,
  );
  assert.equal(tf.tidy(() => tf.sum(tf.abs(a.weights[1].variable)).dataSync()[0]), 0);
  tf.dispose([x, ya, yb, yc]);
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("conv pads k//2 on every side (Caffe), also for the stride-2 7x7 conv, unlike 'same'", async () => {
  await initBackend("cpu");
  const layer = createConv(convSpec("t", 2, 3, 7, 2), "glorot-uniform", 3, "conv-test/");
  layer.bias.assign(tf.tensor1d([0.1, -0.2, 0.3]));
  const x = image([1, 8, 10, 2], 9);
  const got = conv(x, layer, "lrelu", 0.1);
  const want = tf.tidy(() =>
    tf.leakyRelu(
      tf.add(
        tf.conv2d(tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]]), layer.weight, 2, "valid"),
        layer.bias,
      ),
      0.1,
    )
  );
  assert.deepEqual(got.shape, [1, 4, 5, 3]);
  assert.ok(maxAbsDiff(got, want) < 1e-5);
  const same = tf.tidy(() => tf.add(tf.conv2d(x, layer.weight, 2, "same"), layer.bias));
  assert.ok(maxAbsDiff(tf.leakyRelu(same, 0.1), want) > 1e-3, "'same' would shift the output");
  const t = conv(x, layer, "tanh");
  assert.ok(
    maxAbsDiff(
      t,
      tf.tanh(tf.add(tf.conv2d(x, layer.weight, 2, [[0, 0], [3, 3], [3, 3], [0, 0]]), layer.bias)),
    ) <
      1e-5,
  );
  tf.dispose([x, got, want, same, t, layer.weight, layer.bias]);
});

Deno.test("upsample2x: half-pixel equals tfjs halfPixelCenters; caffe samples dst/2 with zero past the edge", async () => {
  await initBackend("cpu");
  const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
  const caffe = upsample2x(x, "caffe");
  assert.deepEqual(caffe.shape, [1, 2, 6, 1]);
  // rows: row 0 = x, row 1 = (x + 0) / 2
  assert.deepEqual(Array.from(caffe.dataSync()), [
    1,
    1.5,
    2,
    2.5,
    3,
    1.5,
    0.5,
    0.75,
    1,
    1.25,
    1.5,
    0.75,
  ]);
  const half = upsample2x(x, "half-pixel");
  assert.deepEqual(Array.from(half.dataSync()), [
    1,
    1.25,
    1.75,
    2.25,
    2.75,
    3,
    1,
    1.25,
    1.75,
    2.25,
    2.75,
    3,
  ]);
  const big = image([2, 5, 4, 3]);
  const ref = tf.image.resizeBilinear(big, [10, 8], false, true);
  const got = upsample2x(big, "half-pixel");
  assert.equal(maxAbsDiff(got, ref), 0);
  const c2 = upsample2x(big, "caffe");
  assert.deepEqual(c2.shape, [2, 10, 8, 3]);
  const even = tf.tidy(() => tf.stridedSlice(c2, [0, 0, 0, 0], [2, 10, 8, 3], [1, 2, 2, 1]));
  assert.equal(maxAbsDiff(even, big), 0);
  tf.dispose([x, caffe, half, big, ref, got, c2, even]);
});

Deno.test("pixelShuffle follows PyTorch: channel c*4 + i*2 + j goes to (2h+i, 2w+j)", async () => {
  await initBackend("cpu");
  // one pixel, 2 output channels: input channels 0..7
  const x = tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 8]);
  const y = pixelShuffle(x, 2);
  assert.deepEqual(y.shape, [1, 2, 2, 2]);
  // y[0, i, j, c] = c*4 + i*2 + j
  assert.deepEqual(Array.from(y.dataSync()), [0, 4, 1, 5, 2, 6, 3, 7]);
  tf.dispose([x, y]);
});

Deno.test("svrnn gates are sliced x1,y1,x2,y2 and the scans concatenated x1,x2,y1,y2", async () => {
  await initBackend("cpu");
  assert.deepEqual([...GATE_SLICE_ORDER], ["left-right", "top-bottom", "right-left", "bottom-top"]);
  assert.deepEqual([...CONCAT_ORDER], ["left-right", "right-left", "top-bottom", "bottom-top"]);
  const m = createModel("svrnn-small", { numBlocks: 2 });
  const r = (m.config as SVRNNConfig).rnnChannels;
  const last = m.weights.find((w) => w.name === "convgd2_2.weight")!.variable;
  const lastBias = m.weights.find((w) => w.name === "convgd2_2.bias")!.variable;
  // Zero weights and a bias that tells every gate channel apart: gate = tanh(bias).
  const bias = Float32Array.from({ length: 2 * 4 * r }, (_, i) => (i - 4 * r) / (8 * r));
  last.assign(tf.zerosLike(last));
  lastBias.assign(tf.tensor1d(bias));
  const x = image([1, 16, 16, 3]);
  const a = m.analyze(x);
  for (let k = 1; k <= 2; k++) {
    GATE_SLICE_ORDER.forEach((d, j) => {
      const g = a.intermediates[`gate/${k}/${d}`];
      assert.deepEqual(g.shape, [1, 8, 8, r]);
      const offset = ((k - 1) * 4 + j) * r;
      const want = Array.from(bias.slice(offset, offset + r), Math.tanh);
      const got = Array.from(g.slice([0, 3, 5, 0], [1, 1, 1, r]).dataSync());
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `gate/${k}/${d}`));
    });
  }
  // Block 1's output is conv_rnn1 (LReLU) on the scans concatenated in CONCAT_ORDER.
  const convRnn = m.weights.find((w) => w.name === "conv_rnn1.weight")!.variable as tf.Tensor4D;
  const convRnnB = m.weights.find((w) => w.name === "conv_rnn1.bias")!.variable;
  const want = tf.tidy(() => {
    const cat = tf.concat(
      CONCAT_ORDER.map((d) => a.intermediates[`scan/1/${d}`]),
      3,
    ) as tf.Tensor4D;
    return tf.leakyRelu(
      tf.add(tf.conv2d(cat, convRnn, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), convRnnB),
      0.1,
    );
  });
  assert.ok(maxAbsDiff(a.intermediates["block/1"], want) < 1e-5);
  for (const key of ["e1", "e2", "block/2", ...DIRECTIONS.map((d) => `scan/2/${d}`)]) {
    assert.ok(a.intermediates[key], key);
  }
  tf.dispose([x, want, a.output, ...Object.values(a.intermediates)]);
  m.dispose();
});

Deno.test("svrnn ablation configs: gate sources, directions, blocks, fuse, resize, validation", async () => {
  await initBackend("cpu");
  // The gate sources of the variants (svrnn-small with these overrides, tests/variants_test.ts).
  const fixed = createModel("svrnn-small", { gate: "fixed" });
  const x = image([1, 8, 8, 3]);
  const a = fixed.analyze(x);
  assert.ok(a.intermediates["gate/1/left-right"].dataSync().every((v) => v === 0.5));
  assert.ok(!fixed.weights.some((w) => w.name.startsWith("convg")));
  tf.dispose([a.output, ...Object.values(a.intermediates)]);
  fixed.dispose();

  const inv = createModel("svrnn-small", { gate: "invariant" });
  const gates = inv.weights.filter((w) => w.name.endsWith(".gate")).map((w) => w.name);
  assert.equal(gates.length, 16);
  assert.ok(gates.includes("rnn1_1.gate") && gates.includes("rnn4_4.gate"));
  inv.dispose();

  // The other presets are svrnn-small with their declared overrides (tests/variants_test.ts).
  const zero = createModel("svrnn-small", { numBlocks: 0 });
  assert.ok(!zero.weights.some((w) => w.name.startsWith("convg") || w.name.startsWith("conv_rnn")));
  const y0 = zero.predict(image([1, 6, 6, 3]));
  assert.deepEqual(y0.shape, [1, 6, 6, 3]);
  tf.dispose(y0);
  zero.dispose();
  const five = createModel("svrnn-small", { numBlocks: 5, resize: "caffe" });
  assert.ok(five.weights.some((w) => w.name === "conv_rnn5.weight"));
  tf.dispose(five.predict(image([1, 8, 16, 3])));
  five.dispose();

  assert.throws(
    () => createModel("svrnn-small", { blocks: 2 }),
    /unknown config field blocks.*numBlocks/,
  );
  assert.throws(() => createModel("svrnn-small", { directions: ["up"] }), /directions/);
  assert.throws(() => createModel("svrnn-small", { gate: "dynamic" }), /gate must be one of/);
  assert.throws(() => createModel("svrnn-small", { gateValue: 1 }), /gateValue/);
  assert.throws(() => createModel("svrnn-small", { e1Kernel: 4 }), /odd/);
  assert.throws(() => createModel("svrnn-huge"), /unknown model "svrnn-huge"; known: svrnn, nah/);
  x.dispose();
});

Deno.test("config fields: each model's defaults and validator come from its one field list", () => {
  const families = [
    ["svrnn", SVRNN_FIELDS, DEFAULT_SVRNN_CONFIG, validateSVRNNConfig],
    ["nah", NAH_FIELDS, DEFAULT_NAH_CONFIG, validateNahConfig],
    ["cnn", CNN_CONTROL_FIELDS, DEFAULT_CNN_CONTROL_CONFIG, validateCNNControlConfig],
  ] as const;
  for (const [what, fields, defaults, validate] of families) {
    assert.ok(Object.isFrozen(defaults));
    assert.deepEqual(Object.keys(defaults), Object.keys(fields));
    assert.deepEqual({ ...defaults }, fieldDefaults(fields));
    (validate as (c: unknown) => void)({ ...defaults });
    for (const [k, f] of Object.entries(fields)) {
      assert.ok(f.doc.length > 0 && !f.doc.includes("\n"), `${what} ${k}: one line of doc`);
      // A value of the wrong type for every field: an Error naming the config and the field.
      const bad = { ...defaults, [k]: typeof f.default === "string" ? 7 : "seven" };
      assert.throws(
        () => (validate as (c: unknown) => void)(bad),
        new RegExp(`^Error: ${what} config ${k} `),
      );
    }
  }
  // The kinds: odd kernels, closed and open ranges, lists of distinct choices.
  const c = (o: Partial<SVRNNConfig>) => () =>
    validateSVRNNConfig({ ...DEFAULT_SVRNN_CONFIG, ...o });
  assert.throws(c({ d1Kernel: 8 }), /svrnn config d1Kernel must be odd, got 8/);
  assert.throws(c({ numBlocks: -1 }), /svrnn config numBlocks must be an integer >= 0, got -1/);
  assert.throws(c({ gateValue: -1 }), /svrnn config gateValue must be in \(-1, 1\), got -1/);
  assert.throws(c({ leakySlope: NaN }), /leakySlope must be a finite number, got NaN/);
  assert.throws(c({ directions: ["top-bottom", "top-bottom"] }), /directions has duplicates/);
  assert.throws(c({ directions: [] }), /directions must not be empty when numBlocks > 0/);
  c({ directions: [], numBlocks: 0 })();
  assert.throws(
    () => checkFields("nah", NAH_FIELDS, { ...DEFAULT_NAH_CONFIG, scales: 9 }),
    /nah config scales must be an integer in \[1, 8\], got 9/,
  );
});

Deno.test("mergeDirections equals a max or mean over the stacked scans, values and gradients", async () => {
  await initBackend("cpu");
  const scans = [0, 1, 2, 3].map((i) => tf.randomNormal([2, 5, 6, 3], 0, 1, "float32", 10 + i));
  const w = tf.randomNormal([2, 5, 6, 3], 0, 1, "float32", 99);
  for (const how of ["max", "mean"] as const) {
    const ref = (...s: tf.Tensor[]) => {
      const st = tf.stack(s, 0);
      return (how === "max" ? tf.max(st, 0) : tf.mean(st, 0)) as tf.Tensor4D;
    };
    const mine = (...s: tf.Tensor[]) => mergeDirections(s as tf.Tensor4D[], how);
    const loss = (f: typeof ref) => (...s: tf.Tensor[]) => tf.sum(tf.mul(f(...s), w)) as tf.Scalar;
    const [a, b] = [ref(...scans), mine(...scans)];
    const tol = how === "max" ? 0 : 1e-6;
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] <= tol, `${how} values`);
    const [ga, gb] = [tf.grads(loss(ref))(scans), tf.grads(loss(mine))(scans)];
    for (let i = 0; i < 4; i++) {
      assert.ok(tf.max(tf.abs(tf.sub(ga[i], gb[i]))).dataSync()[0] <= tol, `${how} gradient ${i}`);
    }
  }
  // One direction: a copy, not the same tensor (the caller may dispose its scans).
  const one = mergeDirections([scans[0] as tf.Tensor4D], "max");
  assert.notEqual(one, scans[0]);
  assert.deepEqual(one.dataSync(), scans[0].dataSync());
});

Deno.test("nah: three scales, finest first, pyramid by 2x2 averaging, mean shift", async () => {
  await initBackend("cpu");
  const m = createModel("nah-small");
  assert.ok(isMultiScale(m));
  assert.equal(m.multiple, 4);
  assert.equal((m.config as NahConfig).scales, 3);
  const x = image([2, 16, 24, 3]);
  const outs = m.predictScales(x);
  assert.deepEqual(outs.map((o) => o.shape), [[2, 16, 24, 3], [2, 8, 12, 3], [2, 4, 6, 3]]);
  const pyr = m.pyramid(x);
  assert.deepEqual(pyr.map((o) => o.shape), outs.map((o) => o.shape));
  const mean = tf.tidy(() => tf.mean(x.slice([0, 0, 0, 0], [1, 2, 2, 3]), [1, 2]).dataSync());
  const p1 = pyr[1].slice([0, 0, 0, 0], [1, 1, 1, 3]).dataSync();
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(mean[i] - p1[i]) < 1e-6);
  const y = m.predict(x);
  assert.ok(maxAbsDiff(y, outs[0]) < 1e-5);
  assert.throws(() => m.predictScales(image([1, 6, 8, 3])), /multiples of 4/);
  tf.dispose([x, y, ...outs, ...pyr]);
  m.dispose();
});

Deno.test("full svrnn and nah run forward on small images on wasm, and wasm agrees with cpu", async () => {
  await initBackend("wasm");
  for (const name of ["svrnn", "nah"]) {
    const m = createModel(name);
    const x = image([1, 21, 30, 3]);
    const y = m.predict(x);
    assert.deepEqual(y.shape, [1, 21, 30, 3]);
    assert.ok(tf.tidy(() => tf.all(tf.isFinite(y)).dataSync()[0]) === 1);
    tf.dispose([x, y]);
    m.dispose();
  }
  const outputs: Float32Array[] = [];
  for (const backend of ["wasm", "cpu"] as const) {
    await initBackend(backend);
    const m = createModel("svrnn-small", { resize: "caffe" });
    const x = image([1, 16, 24, 3], 11);
    const y = m.predict(x);
    outputs.push(y.dataSync() as Float32Array);
    tf.dispose([x, y]);
    m.dispose();
  }
  let err = 0;
  for (let i = 0; i < outputs[0].length; i++) {
    err = Math.max(err, Math.abs(outputs[0][i] - outputs[1][i]));
  }
  assert.ok(err < 1e-4, `wasm vs cpu max abs difference ${err}`);
});
