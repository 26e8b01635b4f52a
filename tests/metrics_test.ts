// PSNR and SSIM against hand-derived values and against scikit-image.
import { gainByGroup, gainByInputPsnr } from "#lib/eval/evaluate.ts";
import { median } from "#lib/eval/stats.ts";
import assert from "node:assert/strict";
import { createImage, type RgbImage } from "#lib/data/image.ts";
import { readImage } from "#lib/data/image_io.ts";
import { Rng } from "#lib/data/prng.ts";
import { gaussianTaps, mse, psnr, scores, ssim } from "#lib/eval/metrics.ts";

const FIX = new URL("../data/fixtures/", import.meta.url).pathname;
const TOL = 1e-4;

function close(actual: number, expected: number, what: string, tol = TOL) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

function random(w: number, h: number, seed: number): RgbImage {
  const r = new Rng(seed), img = createImage(w, h);
  for (let i = 0; i < img.data.length; i++) img.data[i] = r.uniform();
  return img;
}

Deno.test("identical images: PSNR is +Infinity, SSIM is 1", () => {
  const a = random(32, 20, 1);
  assert.equal(psnr(a, a), Infinity);
  close(ssim(a, a), 1, "ssim", 1e-12);
  assert.equal(mse(a, a), 0);
});

Deno.test("PSNR of a constant offset d is 20 log10(1/d); data range and crop follow the formula", () => {
  const a = createImage(20, 16, 0.25);
  for (const d of [0.5, 0.1, 0.01, 1 / 255]) {
    const b = createImage(20, 16, 0.25 + d);
    close(psnr(a, b), 20 * Math.log10(1 / d), `d=${d}`, 1e-5);
  }
  const b = createImage(20, 16, 0.35);
  close(psnr(a, b, { dataRange: 255 }), 20 * Math.log10(255 / 0.1), "range 255", 1e-4);
  // crop: an error only in the border band does not count
  const c = createImage(20, 16, 0.25);
  for (let x = 0; x < 20; x++) c.data[x * 3] = 1; // top row, red
  assert.equal(psnr(a, c, { crop: 1 }), Infinity);
  // mse = 20 values of 0.75^2 over 20*16*3 values
  close(mse(a, c), (20 * 0.5625) / (20 * 16 * 3), "mse", 1e-12);
});

Deno.test("SSIM of constant images is (2ab + C1) / (a^2 + b^2 + C1)", () => {
  const C1 = (0.01 * 1) ** 2;
  for (const [x, y] of [[0.2, 0.6], [0.5, 0.5], [0, 1], [0.9, 0.85]]) {
    const a = createImage(15, 13, x), b = createImage(15, 13, y);
    const [fx, fy] = [Math.fround(x), Math.fround(y)]; // images store float32
    close(ssim(a, b), (2 * fx * fy + C1) / (fx * fx + fy * fy + C1), `${x} vs ${y}`, 1e-9);
  }
});

Deno.test("SSIM structure term: x vs (1 - x) on a zero-mean-contrast pattern", () => {
  // Per window, y = 1 - x gives mu_y = 1 - mu_x, var_y = var_x, cov = -var_x, so
  // S = l * (C2 - 2 v) / (2 v + C2) with l = (2 mu (1 - mu) + C1) / (mu^2 + (1 - mu)^2 + C1).
  // With a checkerboard of 0.4/0.6 every full window has mu = 0.5 (up to the Gaussian's
  // odd-size asymmetry), so the result is close to (C2 - 2v)/(2v + C2), v = 0.01.
  const a = createImage(41, 41), b = createImage(41, 41);
  for (let y = 0; y < 41; y++) {
    for (let x = 0; x < 41; x++) {
      const v = (x + y) % 2 ? 0.6 : 0.4;
      for (let c = 0; c < 3; c++) {
        a.data[(y * 41 + x) * 3 + c] = v;
        b.data[(y * 41 + x) * 3 + c] = 1 - v;
      }
    }
  }
  const C2 = 0.03 ** 2;
  const s = ssim(a, b);
  assert.ok(s < 0, `anti-correlated images should score below 0, got ${s}`);
  close(s, (C2 - 0.02) / (0.02 + C2), "checkerboard", 0.01);
});

Deno.test("Gaussian window: 11 taps, sigma 1.5, sums to 1, symmetric", () => {
  const t = gaussianTaps(1.5, 3.5);
  assert.equal(t.length, 11);
  close(t.reduce((s, v) => s + v, 0), 1, "sum", 1e-15);
  for (let i = 0; i < 5; i++) assert.equal(t[i], t[10 - i]);
  close(t[5] / t[4], Math.exp(0.5 / 2.25), "ratio", 1e-12);
});

// Expected values computed once with scikit-image 0.19.3 (Debian bookworm python3-skimage,
// numpy 1.24.2, scipy 1.10.1) by data/fixtures/golden/skimage_reference.py:
//   peak_signal_noise_ratio(x, y, data_range=1)
//   structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
//                         use_sample_covariance=False, data_range=1, channel_axis=-1)
// on the 8-bit PNGs read with skimage.io as float64 / 255 (grey stacked to RGB), after
// cropping `crop` pixels from each side when crop > 0.
const SKIMAGE: [string, string, number, number, number][] = [
  ["astronaut.png", "camera.png", 0, 7.700368070114809, 0.22548650553829355],
  ["rocket.png", "coffee.png", 0, 8.205017787402085, 0.2388262466026413],
  [
    "golden/chelsea_sharp_seed1.png",
    "golden/chelsea_blur_seed1.png",
    0,
    28.163082883971008,
    0.8132702853215706,
  ],
  [
    "golden/chelsea_sharp_seed1.png",
    "golden/chelsea_blur_seed1.png",
    8,
    27.80972646711124,
    0.803707035611516,
  ],
  ["golden/small_a.png", "golden/small_b.png", 0, 26.660171481122372, 0.553932464893629],
  ["gravel.png", "camera.png", 10, 9.734600416798283, 0.07973457559802954],
];

Deno.test("PSNR and SSIM equal scikit-image's values to 1e-4", async () => {
  for (const [fa, fb, crop, p, s] of SKIMAGE) {
    const a = await readImage(FIX + fa), b = await readImage(FIX + fb);
    const r = scores(a, b, { crop });
    close(r.psnr, p, `PSNR ${fa} vs ${fb} crop ${crop}`);
    close(r.ssim, s, `SSIM ${fa} vs ${fb} crop ${crop}`);
  }
});

Deno.test("metric inputs are checked", () => {
  const a = random(20, 20, 1);
  assert.throws(() => psnr(a, random(20, 19, 2)), /differ in size \(20x20 vs 20x19\)/);
  assert.throws(() => ssim(random(10, 30, 1), random(10, 30, 2)), /at least 11x11/);
  assert.throws(() => ssim(a, a, { crop: 5 }), /at least 11x11 .* got 10x10/);
  assert.throws(() => psnr(a, a, { crop: 10 }), /leaves nothing/);
  assert.throws(() => psnr(a, a, { crop: -1 }), /non-negative integer/);
  // smallest legal size works and symmetric in its arguments
  const b = random(11, 11, 3), c = random(11, 11, 4);
  close(ssim(b, c), ssim(c, b), "symmetry", 1e-12);
});

Deno.test("median: middle value, mean of the middle two, NaN when empty; input untouched", () => {
  const v = [5, 1, 4];
  assert.equal(median(v), 4);
  assert.deepEqual(v, [5, 1, 4]);
  assert.equal(median([3, -1, 10, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("gainByInputPsnr: bands by input PSNR, open ends, empty bands left out", () => {
  const img = (inputPsnr: number, gain: number) => ({ inputPsnr, psnr: inputPsnr + gain });
  const bands = gainByInputPsnr(
    [img(18, 1), img(19.9, 3), img(20, 0.5), img(27, -1), img(45, -2), img(41, 1)],
    [20, 25, 40],
  );
  assert.deepEqual(bands.map((b) => [b.band, b.images, b.improved]), [
    ["< 20", 2, 2],
    ["[20, 25)", 1, 1],
    ["[25, 40)", 1, 0],
    [">= 40", 2, 1],
  ]);
  assert.equal(bands[0].meanGain, 2);
  assert.equal(bands[0].medianGain, 2);
  assert.equal(bands[3].meanGain, -0.5);
  assert.throws(() => gainByInputPsnr([img(20, 1)], [25, 20]), /edges must ascend/);
});

Deno.test("gainByGroup: gains per label, sorted, unlabelled images left out", () => {
  const img = (label: string | undefined, gain: number) => ({
    label,
    inputPsnr: 30,
    psnr: 30 + gain,
  });
  const groups = gainByGroup(
    [img("shake", -1), img("box", 2), img(undefined, 9), img("box", 0), img("shake", -3)],
    (p) => p.label,
  );
  assert.deepEqual(groups.map((g) => [g.value, g.images, g.meanGain, g.medianGain, g.improved]), [
    ["box", 2, 1, 1, 1],
    ["shake", 2, -2, -2, 0],
  ]);
});
