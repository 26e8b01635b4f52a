/**
 * The linear ceiling (lib/analysis/reach.ts, lib/study/linear_reach.ts): the fitted row filter
 * is the least-squares one on the scored columns, a box of L px is undone only by filters
 * spanning about L px, and the study command writes what it measured.
 */
import assert from "node:assert/strict";
import { type ImagePair, interiorPsnr, linearReach } from "#lib/analysis/reach.ts";
import { solveSpd } from "#lib/analysis/iir.ts";
import { Rng } from "#lib/data/prng.ts";
import type { RgbImage } from "#lib/data/image.ts";
import type { Study } from "#lib/study/study.ts";
import { linearReachPath, studyLinearReach } from "#lib/study/linear_reach.ts";
import { provenance } from "#lib/records/provenance.ts";
import { checkLinearReachFile } from "#lib/records/formats.ts";

/** Rows of a piecewise-constant signal in [0, 1], a new level at about one pixel in seven. */
function signalRows(rng: Rng, width: number, rows: number): Float64Array[] {
  return Array.from({ length: rows }, () => {
    const x = new Float64Array(width);
    let v = rng.uniform();
    for (let i = 0; i < width; i++) {
      if (rng.uniform() < 0.15) v = rng.uniform();
      x[i] = v;
    }
    return x;
  });
}

function grey(rows: Float64Array[], from: number, width: number): RgbImage {
  const data = new Float32Array(rows.length * width * 3);
  rows.forEach((r, y) => {
    for (let x = 0; x < width; x++) {
      data.fill(r[from + x], (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  });
  return { width, height: rows.length, data };
}

/** Pairs blurred by a centred box of `length` px, cropped so the blur saw real pixels. */
function boxPairs(seed: number, length: number, count: number, width: number): ImagePair[] {
  const rng = new Rng(seed), h = (length - 1) / 2, margin = h + 1;
  return Array.from({ length: count }, () => {
    const rows = signalRows(rng, width + 2 * margin, 8);
    const blurred = rows.map((x) => {
      const y = new Float64Array(x.length);
      for (let i = h; i < x.length - h; i++) {
        let s = 0;
        for (let j = -h; j <= h; j++) s += x[i + j];
        y[i] = Math.round((s / length) * 255) / 255; // 8-bit, as stored pairs are
      }
      return y;
    });
    return { blurred: grey(blurred, margin, width), sharp: grey(rows, margin, width) };
  });
}

Deno.test("linearReach: each width's filter is the least-squares one on the scored columns", () => {
  const pairs = boxPairs(1, 5, 4, 40);
  const taps = [3, 7, 11];
  const h = 5;
  const got = linearReach(pairs, pairs, taps);
  for (const r of got) {
    // brute force: the normal equations built sample by sample on columns h..W-1-h
    const t = r.taps >> 1, n = r.taps;
    const A = new Float64Array(n * n), b = new Float64Array(n);
    for (const p of pairs) {
      const W = p.blurred.width;
      for (let row = 0; row < p.blurred.height; row++) {
        for (let c = 0; c < 3; c++) {
          for (let x = h; x < W - h; x++) {
            const at = (dx: number, img: RgbImage) => img.data[(row * W + x + dx) * 3 + c];
            for (let i = 0; i < n; i++) {
              b[i] += at(i - t, p.blurred) * at(0, p.sharp);
              for (let j = 0; j <= i; j++) {
                A[i * n + j] += at(i - t, p.blurred) * at(j - t, p.blurred);
              }
            }
          }
        }
      }
    }
    const want = solveSpd(A, b, n);
    want.forEach((w, i) => assert.ok(Math.abs(w - r.weights[i]) < 1e-6, `taps ${n}[${i}]`));
  }
});

Deno.test("linearReach: a box of L px is undone only by filters spanning about L px", () => {
  const L = 15;
  const train = boxPairs(2, L, 12, 120), test = boxPairs(3, L, 6, 120);
  const [narrow, short, wide] = linearReach(train, test, [1, 9, 49]);
  assert.equal(narrow.taps, 1);
  assert.ok(short.meanGainDb < 1, `9 taps on a 15-px box: ${short.meanGainDb.toFixed(2)} dB`);
  assert.ok(wide.meanGainDb > short.meanGainDb + 3, `49 taps: ${wide.meanGainDb.toFixed(2)} dB`);
  assert.equal(wide.gainsDb.length, test.length);
  // scored on the same columns as the input: the identity filter's PSNR is the input's there
  const p = test[0], identity = interiorPsnr(p, new Float64Array([1]), 24);
  assert.ok(Math.abs(identity - interiorPsnr(p, wide.weights, 24) + wide.gainsDb[0]) < 1e-9);
  assert.throws(() => linearReach(train, test, [8]), /odd/);
  assert.throws(() => linearReach(train, test, [121]), /no column/);
});

Deno.test("study --linear-reach: every cell and width, scored columns, provenance", async () => {
  const root = await Deno.makeTempDir();
  const study: Study = {
    name: "tiny-reach",
    title: "tiny",
    question: "how far must a filter see",
    benchmark: {
      families: ["box"],
      angle: "horizontal",
      layouts: ["uniform"],
      crop: 48,
      trainPerPhoto: 2,
      testPerPhoto: 1,
    },
    cells: [{ name: "L5", benchmark: { length: 5 } }, { name: "L9", benchmark: { length: 9 } }],
    variants: [{ name: "a", model: "svrnn-small" }, { name: "b", model: "cnn-small" }],
    budget: { steps: 1, batchSize: 1, patchSize: 16, learningRate: 1e-3, lrPower: 0 },
    seeds: [0],
    claims: [{ claim: "a beats b", prediction: "whatever", cell: "L5", a: "a", b: "b" }],
  };
  const prov = await provenance("test");
  try {
    const file = await studyLinearReach(study, [1, 5, 13], prov, { root, preferFixtures: true });
    const read = checkLinearReachFile(
      JSON.parse(await Deno.readTextFile(linearReachPath("tiny-reach", root))),
      "linear-reach.json",
    );
    assert.deepEqual(read.rows, file.rows);
    assert.equal(read.scoredColumns, 48 - 12);
    assert.deepEqual(read.rows.map((r) => `${r.cell}:${r.taps}`), [
      "L5:1",
      "L5:5",
      "L5:13",
      "L9:1",
      "L9:5",
      "L9:13",
    ]);
    for (const r of read.rows) assert.ok(r.images > 0 && r.improved <= r.images);
    await assert.rejects(
      () => studyLinearReach(study, [1, 49], prov, { root, preferFixtures: true }),
      /49 taps leave no column of a 48-px crop/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
