/**
 * lib/analysis/receptive_field.ts: the effective receptive field of a known convolution,
 * a CNN's finite reach against an open-gate SVRNN's image-wide reach, a causal scan's
 * one-sided far field, the map statistics, and the gate-map statistics.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as rf from "../lib/analysis/receptive_field.ts";
import { initBackend } from "../lib/backends/select.ts";
import { createModel } from "../lib/models/registry.ts";
import type { DeblurModel } from "../lib/models/model.ts";
import type { RgbImage } from "../lib/data/image.ts";

const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

/** A deterministic test image (smooth plus texture), values in [0, 1]. */
function testImage(w: number, h: number): RgbImage {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        data[(y * w + x) * 3 + c] = 0.5 + 0.3 * Math.sin(0.3 * x + c) * Math.cos(0.21 * y - c);
      }
    }
  }
  return { width: w, height: h, data };
}

/** A stand-in model: one 3x3 convolution (each output channel = the sum of the inputs'). */
function convModel(kernel: number[][]): DeblurModel {
  const k = tf.tensor4d(
    Array.from({ length: 9 * 9 }, (_, i) => kernel[Math.floor(i / 27)][Math.floor(i / 9) % 3]),
    [3, 3, 3, 3],
  );
  return {
    name: "conv3x3",
    multiple: 1,
    forward: (x: tf.Tensor4D) => tf.conv2d(x, k, 1, "same"),
  } as unknown as DeblurModel;
}

Deno.test("ERF of a 3x3 convolution is its kernel around the pixel (tfjs convolves by correlation)", async () => {
  await initBackend("cpu");
  const kernel = [[1, 2, 0], [0, -4, 0], [0, 0, 0.5]];
  const m = convModel(kernel);
  const e = rf.effectiveReceptiveField(m, testImage(9, 7));
  assert.deepEqual(e.at, { x: 4, y: 3 });
  assert.equal(e.width, 9);
  assert.equal(e.height, 7);
  // d y(3,4) / d x(3+dy, 4+dx) = kernel[1+dy][1+dx] per (in, out) channel pair: 3 outputs
  // summed, 3 inputs summed in |.|: 9 |k|. Normalised by the peak (|-4| * 9).
  for (let y = 0; y < 7; y++) {
    for (let x = 0; x < 9; x++) {
      const dy = y - 3, dx = x - 4;
      const want = Math.abs(dy) <= 1 && Math.abs(dx) <= 1
        ? Math.abs(kernel[1 + dy][1 + dx]) / 4
        : 0;
      close(e.data[y * 9 + x], want, 1e-6, `(${x},${y})`);
    }
  }
  close(e.peak, 36, 1e-4, "peak");
  assert.equal(rf.extent(e).radius, 1);
  assert.deepEqual(rf.extent(e), { radius: 1, left: 1, right: 1, up: 1, down: 1 });
  const s = rf.erfSummary(e, { far: 1 });
  assert.equal(s.r50, 0);
  assert.equal(s.reachesBorder, false);
  // Far field (|dx| >= 1): left column holds |1| + |0| + |0|, right |0| + |0| + |0.5|.
  close(s.farLeftShare, 1 / 1.5, 1e-6, "far-field left share");
  // A batch averages the maps; a pixel off the centre moves the map.
  const e2 = rf.effectiveReceptiveField(m, [testImage(9, 7), testImage(9, 7)], {
    at: { x: 0, y: 0 },
  });
  assert.equal(e2.inputs, 2);
  close(e2.data[0], 1, 1e-6, "centre tap at the corner");
  close(e2.data[1 * 9 + 1], 0.5 / 4, 1e-6, "tap k[2][2]");
  assert.throws(
    () => rf.effectiveReceptiveField(m, testImage(9, 7), { at: { x: 9, y: 0 } }),
    /outside 9x7/,
  );
});

Deno.test("ERF: the CNN control stops at its receptive field, open-gate scans reach the border", async () => {
  await initBackend("wasm");
  const img = testImage(96, 96);
  // Without the small presets' residual: its zero-initialised output conv starts as the identity.
  const cnn = createModel("cnn-small", { residual: false });
  const svOpen = createModel("svrnn-small-fixed", {
    gateValue: 0.9,
    numBlocks: 2,
    residual: false,
  });
  const causal = createModel("svrnn-small-fixed", {
    residual: false,
    gateValue: 0.9,
    numBlocks: 2,
    directions: ["left-right"],
  });
  try {
    const eCnn = rf.effectiveReceptiveField(cnn, img);
    const eOpen = rf.effectiveReceptiveField(svOpen, img);
    const eCausal = rf.effectiveReceptiveField(causal, img);
    // The CNN's gradient is exactly zero beyond its theoretical receptive field.
    const cnnReach = rf.extent(eCnn, 0).radius;
    assert.ok(cnnReach > 10 && cnnReach < 45, `cnn-small reach ${cnnReach}`);
    assert.equal(eCnn.data[0], 0, "corner of the CNN's map is exactly zero");
    assert.equal(rf.erfSummary(eCnn, { threshold: 1e-7 }).reachesBorder, false);
    // Two blocks of four open scans reach every pixel, corners included.
    assert.ok(eOpen.data[0] > 0 && eOpen.data[95] > 0 && eOpen.data[95 * 96] > 0);
    assert.equal(rf.erfSummary(eOpen, { threshold: 1e-7 }).reachesBorder, true);
    assert.ok(rf.massBeyond(eOpen, 40) > rf.massBeyond(eCnn, 40));
    // One left-to-right scan: the far field is on the left, nothing far to the right.
    const far = rf.erfSummary(eCausal, { far: 40 });
    assert.ok(far.farLeftShare > 0.99, `causal far-field left share ${far.farLeftShare}`);
    const row = rf.profile(eCausal, "row");
    assert.ok(row[2] > 0, "sees the far left");
    assert.equal(row[95], 0, "does not see the far right");
    assert.equal(rf.profile(eCausal, "col").length, 96);
  } finally {
    cnn.dispose();
    svOpen.dispose();
    causal.dispose();
  }
  assert.throws(
    () => rf.effectiveReceptiveField(createModel("svrnn-small-1block"), testImage(20, 20)),
    /multiples of 8/,
  );
});

Deno.test("exactReach: each 3x3 conv at half resolution adds 2 px to the CNN's reach", async () => {
  await initBackend("wasm");
  const reach = (depth: number) => {
    const m = createModel("cnn-small", { residual: false, depth });
    try {
      return rf.exactReach(m, 128);
    } finally {
      m.dispose();
    }
  };
  const r8 = reach(8), r9 = reach(9), r4 = reach(4);
  assert.equal(r9 - r8, 2);
  assert.equal(r8 - r4, 8);
  // the skeleton around the stack (11x11, 7x7 /2, 9x9 at half resolution, 5x5) reaches past
  // 16 px on its own, so a 97-px box is out of cnn-small's reach and a 33-px one inside it
  assert.ok(r8 > 33 / 2 && 2 * r8 + 1 < 97, `cnn-small reach ${r8}`);
});

Deno.test("map statistics: cumulative mass, radii, sides, downsampling, rows", () => {
  // Mass 1 at the centre, 3 at distance 2 on the left, 0 elsewhere.
  const data = new Float32Array(25);
  data[2 * 5 + 2] = 1;
  data[2 * 5 + 0] = 3;
  const e: rf.ReceptiveField = {
    model: "t",
    width: 5,
    height: 5,
    at: { x: 2, y: 2 },
    data,
    peak: 3,
    inputs: 1,
  };
  const c = rf.cumulativeMass(e);
  assert.deepEqual(c.radius, [0, 1, 2, 3]);
  assert.deepEqual(c.fraction, [0.25, 0.25, 1, 1]);
  assert.equal(rf.massRadius(e, 0.2), 0);
  assert.equal(rf.massRadius(e, 0.5), 2);
  assert.equal(rf.massBeyond(e, 1), 0.75);
  assert.deepEqual(rf.sideMass(e), { left: 0.75, right: 0, up: 0, down: 0 });
  assert.deepEqual(rf.sideMass(e, 3), { left: 0, right: 0, up: 0, down: 0 });
  assert.deepEqual(rf.extent(e), { radius: 2, left: 2, right: 0, up: 0, down: 0 });
  assert.deepEqual(Array.from(rf.profile(e, "row")), [3, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(rf.profile(e, "col")), [0, 0, 1, 0, 0]);
  const d = rf.downsampleMap({ width: 3, height: 2, data: Float32Array.of(1, 2, 3, 4, 5, 6) }, 2);
  assert.deepEqual([d.width, d.height, ...d.data], [2, 1, 3, 4.5]);
  assert.throws(() => rf.downsampleMap(d, 0), /positive integer/);
  assert.deepEqual(rf.mapRows(d, (v) => v * 2), [[6, 9]]);
});

Deno.test("gate statistics: memory length, stats, maps from analyze intermediates", () => {
  close(rf.memoryLength(Math.exp(-1)), 1, 1e-12);
  close(rf.memoryLength(-Math.exp(-0.5)), 2, 1e-12, "sign ignored");
  assert.equal(rf.memoryLength(0), 0);
  assert.equal(rf.memoryLength(1), Infinity);
  const s = rf.gateStats([0.5, -0.95, 0.1, 0.92]);
  close(s.meanAbs, (0.5 + 0.95 + 0.1 + 0.92) / 4, 1e-7);
  close(s.fracAbove09, 0.5, 0);
  close(s.fracNegative, 0.25, 0);
  close(s.p90Abs, 0.95, 1e-6);
  close(s.p90Memory, rf.memoryLength(0.95), 1e-4);

  // Fake intermediates: 2 blocks x 2 directions, 1x2x3 pixels, 2 channels.
  const inter: Record<string, tf.Tensor4D> = {};
  const fill = (a: number, b: number) =>
    tf.tensor4d(Array.from({ length: 12 }, (_, i) => (i % 2 ? b : a)), [1, 2, 3, 2]);
  inter["gate/2/left-right"] = fill(0.2, -0.4);
  inter["gate/1/right-left"] = fill(0.9, 0.9);
  inter["gate/1/left-right"] = fill(0.5, 0.5);
  inter["scan/1/left-right"] = fill(9, 9);
  inter["block/1"] = fill(9, 9);
  const maps = rf.gateMaps(inter);
  assert.deepEqual(maps.map((m) => m.key), [
    "gate/1/left-right",
    "gate/1/right-left",
    "gate/2/left-right",
  ]);
  assert.deepEqual([maps[2].block, maps[2].direction, maps[2].width, maps[2].height], [
    2,
    "left-right",
    3,
    2,
  ]);
  close(maps[2].data[0], 0.3, 1e-6, "mean |g|");
  close(maps[2].mean[0], -0.1, 1e-6, "mean g");
  close(maps[2].stats.fracNegative, 0.5, 0);
  const mem = rf.memoryMap(maps);
  close(mem.data[0], rf.memoryLength((0.5 + 0.9 + 0.3) / 3), 1e-5);
  close(rf.memoryMap(maps, 0.1).data[0], 0.1, 1e-7, "capped");
  assert.throws(() => rf.memoryMap([]), /no gate maps/);
  tf.dispose(Object.values(inter));
});

Deno.test("edge map and correlation", () => {
  close(rf.correlation([1, 2, 3], [2, 4, 6]), 1, 1e-12);
  close(rf.correlation([1, 2, 3], [3, 2, 1]), -1, 1e-12);
  assert.ok(Number.isNaN(rf.correlation([1, 1, 1], [1, 2, 3])));
  assert.throws(() => rf.correlation([1], [1, 2]), /lengths differ/);
  // A vertical step edge: strong gradient at the step's columns only.
  const w = 8, h = 4;
  const img: RgbImage = { width: w, height: h, data: new Float32Array(w * h * 3) };
  for (let y = 0; y < h; y++) {
    for (let x = 4; x < w; x++) img.data.fill(1, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  const e = rf.edgeMap(img, 1);
  close(e.data[3], 0.5, 1e-6, "left of the step");
  close(e.data[4], 0.5, 1e-6, "right of the step");
  assert.equal(e.data[0], 0);
  const half = rf.edgeMap(img, 2, 3, 2);
  assert.deepEqual([half.width, half.height], [3, 2]);
  close(half.data[1], 0.25, 1e-6, "block (2..3) averages 0 and 0.5");
  close(half.data[2], 0.25, 1e-6, "block (4..5)");
});

Deno.test("profileDecay: geometric factor per gate step on each side, exact zeros; brightnessMap", () => {
  const n = 65, c = 32;
  const e: rf.ReceptiveField = {
    width: n,
    height: 3,
    at: { x: c, y: 1 },
    data: new Float32Array(n * 3),
  } as rf.ReceptiveField;
  for (let x = 0; x < n; x++) {
    const d = x - c;
    e.data[n + x] = d < 0 ? 0.8 ** (-d / 2) : d > 20 ? 0 : 0.5 ** (d / 2);
  }
  const d = rf.profileDecay(e, { from: 10 });
  close(d.before.factor, 0.8, 1e-4, "left");
  assert.equal(d.before.zeroFrom, null);
  assert.equal(d.after.zeroFrom, 21);
  assert.ok(Number.isNaN(d.after.factor), "more than half zero: ended");
  const near = rf.profileDecay(e, { from: 4, to: 20 });
  close(near.after.factor, 0.5, 1e-4, "right, before the zeros");
  close(
    rf.profileDecay(e, { from: 4, to: 20, step: 1 }).after.factor,
    Math.SQRT1_2,
    1e-4,
    "per px",
  );
  const col = rf.profileDecay(e, { along: "col", from: 1 });
  assert.ok(Number.isNaN(col.before.factor) && col.before.zeroFrom === 1, "column: only zeros");

  const img = testImage(8, 6);
  const b = rf.brightnessMap(img, 2);
  assert.deepEqual([b.width, b.height], [4, 3]);
  const luma = (i: number) =>
    0.299 * img.data[3 * i] + 0.587 * img.data[3 * i + 1] + 0.114 * img.data[3 * i + 2];
  close(b.data[0], (luma(0) + luma(1) + luma(8) + luma(9)) / 4, 1e-6, "block mean of luma");
  const fitted = rf.brightnessMap(img, 2, 5, 2);
  assert.deepEqual([fitted.width, fitted.height, fitted.data[4]], [5, 2, 0], "cut and padded");
  assert.equal(fitted.data[1], b.data[1]);
});
