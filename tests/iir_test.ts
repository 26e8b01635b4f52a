/**
 * lib/analysis/iir.ts: roots, exact inverse filters, minimum-phase factorisation, the gate
 * recursion as a one-pole filter, and the learned gate-vs-FIR comparison (tiny budget).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as iir from "../lib/analysis/iir.ts";

const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

/** Sorted real parts (then imaginary) for comparing root sets. */
function sortC(r: iir.Complex[]): iir.Complex[] {
  return [...r].sort((a, b) => a.re - b.re || a.im - b.im);
}

Deno.test("polyRoots: roots of known polynomials", () => {
  // (z-1)(z-2)(z-3) = z^3 - 6z^2 + 11z - 6
  const r = sortC(iir.polyRoots([1, -6, 11, -6]));
  [1, 2, 3].forEach((v, i) => {
    close(r[i].re, v, 1e-12, "root");
    assert.equal(r[i].im, 0);
  });
  // z^2 + 1: +-i
  const c = sortC(iir.polyRoots([1, 0, 1]));
  close(c[0].re, 0, 1e-14);
  close(Math.abs(c[0].im), 1, 1e-14);
  assert.equal(c[0].im, -c[1].im, "conjugate pair");
  // z^8 - 1: the 8th roots of unity
  const u = iir.polyRoots([1, 0, 0, 0, 0, 0, 0, 0, -1]);
  assert.equal(u.length, 8);
  for (const z of u) close(iir.modulus(z), 1, 1e-13, "|root of unity|");
  // Trailing zeros are roots at 0, leading zeros are dropped.
  const z0 = sortC(iir.polyRoots([0, 2, -2, 0]));
  assert.deepEqual(z0.map((z) => z.re), [0, 1]);
  // Leading coefficient scaling does not matter.
  close(iir.polyRoots([5, -10])[0].re, 2, 1e-15);
});

Deno.test("polyRoots: degree 30 with known roots is exact to 1e-9", () => {
  // Roots: 15 conjugate pairs at radii 0.5..1.5 and spread angles.
  const roots: iir.Complex[] = [];
  for (let i = 0; i < 15; i++) {
    const r = 0.5 + i / 14, a = 0.2 + (2.8 * i) / 15;
    roots.push({ re: r * Math.cos(a), im: r * Math.sin(a) }, {
      re: r * Math.cos(a),
      im: -r * Math.sin(a),
    });
  }
  const coeffs = iir.polyFromRoots(roots, 0.7);
  const found = iir.polyRoots(coeffs);
  assert.equal(found.length, 30);
  for (const z of roots) {
    const best = Math.min(...found.map((f) => Math.hypot(f.re - z.re, f.im - z.im)));
    assert.ok(best < 1e-9, `root ${z.re},${z.im} found to ${best}`);
  }
  // polyFromRoots(polyRoots(c)) reproduces c.
  const back = iir.polyFromRoots(found, coeffs[0]);
  back.forEach((v, i) => close(v, coeffs[i], 1e-9 * Math.max(1, Math.abs(coeffs[i]))));
});

Deno.test("polyRoots: rejects the zero polynomial and non-finite coefficients", () => {
  assert.throws(() => iir.polyRoots([0, 0]), /zero polynomial/);
  assert.throws(() => iir.polyRoots([1, NaN]), /non-finite/);
});

Deno.test("convolve: causal, full and same modes", () => {
  const x = [1, 2, 3], k = [1, 1];
  assert.deepEqual(Array.from(iir.convolve(x, k, "full")), [1, 3, 5, 3]);
  assert.deepEqual(Array.from(iir.convolve(x, k)), [1, 3, 5]);
  assert.deepEqual(Array.from(iir.convolve(x, [1, 1, 1], "same")), [3, 6, 5]);
});

Deno.test("kernels: normalised, right length, deterministic random walk", () => {
  for (const k of [iir.boxKernel(5), iir.exponentialKernel(0.6, 7), iir.randomWalkKernel(9, 3)]) {
    close(k.reduce((a, b) => a + b, 0), 1, 1e-12, "sum");
    assert.ok(k.every((v) => v >= 0));
  }
  assert.deepEqual(iir.randomWalkKernel(9, 3), iir.randomWalkKernel(9, 3));
  assert.notDeepEqual(iir.randomWalkKernel(9, 3), iir.randomWalkKernel(9, 4));
  assert.throws(() => iir.boxKernel(0), /length/);
});

Deno.test("inverseCausal recovers the signal to 1e-9 for a minimum-phase kernel", () => {
  const x = iir.randomSignals(1, 300, "min-phase")[0];
  for (const k of [iir.exponentialKernel(0.6, 5), iir.randomWalkKernel(9, 1), [0.5, 0.3, 0.2]]) {
    assert.ok(iir.isMinimumPhase(k), `kernel ${Array.from(k)} should be minimum phase`);
    const y = iir.convolve(x, k);
    assert.ok(iir.maxAbsError(y, x) > 1e-2, "the blur changes the signal");
    assert.ok(iir.maxAbsError(iir.inverseCausal(y, k), x) < 1e-9);
  }
});

Deno.test("non-minimum-phase kernel: causal recursion explodes, causal + anti-causal recovers", () => {
  const x = iir.randomSignals(1, 200, "non-min-phase")[0];
  const k = [0.6, 1.48, 0.8].map((v) => v / 2.88); // zeros -0.8 and -1/0.6
  assert.equal(iir.isMinimumPhase(k), false);
  const zeros = iir.kernelZeros(k).map(iir.modulus).sort();
  close(zeros[0], 0.8, 1e-12);
  close(zeros[1], 1 / 0.6, 1e-12);
  const y = iir.convolve(x, k, "full");
  const causal = iir.inverseCausal(y, k).slice(0, x.length);
  assert.ok(iir.maxAbsError(causal, x) > 1e6, "the causal recursion must explode");
  const f = iir.factorMinMaxPhase(k);
  assert.equal(f.zerosInside.length, 1);
  assert.equal(f.zerosOutside.length, 1);
  const back = iir.convolve(f.min, f.max, "full");
  back.forEach((v, i) => close(v, k[i], 1e-14, "Kmin * Kmax = K"));
  assert.ok(iir.maxAbsError(iir.invertTwoPass(y, k), x) < 1e-9);
  // A longer mixed-phase random-walk kernel (zeros on both sides of the circle).
  const kr = iir.randomWalkKernel(9, 8);
  const fr = iir.factorMinMaxPhase(kr);
  assert.ok(fr.zerosInside.length > 0 && fr.zerosOutside.length > 0);
  assert.ok(iir.maxAbsError(iir.invertTwoPass(iir.convolve(x, kr, "full"), kr), x) < 1e-9);
});

Deno.test("inverseAntiCausal inverts a maximum-phase kernel right to left", () => {
  const x = iir.randomSignals(1, 120, "max-phase")[0];
  const k = [0.2, 0.3, 0.5]; // zeros outside the unit circle
  assert.ok(iir.kernelZeros(k).every((z) => iir.modulus(z) > 1));
  const y = iir.convolve(x, k, "full");
  assert.ok(iir.maxAbsError(iir.inverseAntiCausal(y, k), x) < 1e-12);
});

Deno.test("invertTwoPass refuses zeros on the unit circle", () => {
  assert.throws(() => iir.invertTwoPass([1, 2, 3, 4], iir.boxKernel(2)), /unit circle/);
});

Deno.test("stableInverseImpulseResponse is a two-sided inverse of k", () => {
  const k = [0.6, 1.48, 0.8].map((v) => v / 2.88);
  const { n, h } = iir.stableInverseImpulseResponse(k, 60, 60);
  assert.equal(n[0], -60);
  assert.equal(n.at(-1), 60);
  assert.ok(Math.abs(h[60 - 3]) > 1e-3, "taps at negative n");
  const d = iir.convolve(h, k, "full");
  for (let i = 10; i < 110; i++) close(d[i], i === 60 ? 1 : 0, 1e-9, `delta at ${i}`);
});

Deno.test("inverseImpulseResponse decays like the largest zero; effectiveLength", () => {
  const h = iir.inverseImpulseResponse([1, 0.9], 100); // 1/(1 + 0.9 z^-1): (-0.9)^n
  for (let i = 0; i < 100; i++) close(h[i], (-0.9) ** i, 1e-12);
  const len = iir.effectiveLength(h, 1e-3);
  assert.equal(len, Math.floor(Math.log(1e-3) / Math.log(0.9)) + 1);
});

Deno.test("gate recursion: impulse response is (1-p) p^n", () => {
  for (const p of [0.8, 0.3, -0.6]) {
    const h = iir.gateImpulseResponse(p, 40);
    for (let n = 0; n < 40; n++) close(h[n], (1 - p) * p ** n, 1e-15, `p=${p} n=${n}`);
  }
});

Deno.test("gate recursion exactly inverts [1, -p]/(1-p) and is inverted by it", () => {
  const x = iir.randomSignals(1, 200, "gate")[0];
  for (const p of [0.8, -0.7]) {
    const k = iir.gateInverseKernel(p);
    assert.ok(iir.maxAbsError(iir.gateRecursion(iir.convolve(x, k), p), x) < 1e-12);
    // The gate recursion is the exponential blur (1-p) p^n ...
    const expKernel = Array.from({ length: 200 }, (_, n) => (1 - p) * p ** n);
    const blurred = iir.gateRecursion(x, p);
    assert.ok(iir.maxAbsError(blurred, iir.convolve(x, expKernel)) < 1e-12);
    // ... and the 2-tap FIR undoes it.
    assert.ok(iir.maxAbsError(iir.convolve(blurred, k), x) < 1e-12);
  }
  // A reversed (right-to-left) scan is the anti-causal one-pole filter.
  const rev = iir.gateRecursion(x, 0.5, true);
  const flipped = iir.gateRecursion([...x].reverse(), 0.5).reverse();
  assert.ok(iir.maxAbsError(rev, flipped) < 1e-15);
  // Per-sample gates.
  const g = Float64Array.from(x, (_, i) => (i % 2 ? 0.3 : -0.2));
  const h = iir.gateRecursion(x, g);
  close(h[1], 0.7 * x[1] + 0.3 * (1.2 * x[0]), 1e-15);
});

Deno.test("leastSquaresFir finds the exact FIR when one exists", () => {
  // y = gateRecursion(x, p) is undone by the 2-tap FIR [1, -p]/(1-p), which a centred
  // 5-tap FIR holds exactly: out[n] = sum_j w[j] y[n + j - 2], so w[2] = 1/(1-p) and
  // w[1] = -p/(1-p).
  const xs = iir.randomSignals(8, 100, "ls");
  const ys = xs.map((x) => iir.gateRecursion(x, 0.6));
  const w = iir.leastSquaresFir(ys, xs, 5);
  const expect = [0, -0.6 / 0.4, 1 / 0.4, 0, 0];
  w.forEach((v, i) => close(v, expect[i], 1e-6, `tap ${i}`));
});

Deno.test({
  name: "compareGateVsFir: the two-pass gate model learns the exact poles; FIR cannot match it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await tf.setBackend("cpu");
    const before = tf.memory().numTensors;
    const res = await iir.compareGateVsFir({
      steps: 300,
      trainSignals: 16,
      testSignals: 4,
      length: 96,
      firTaps: [5, 9],
    });
    assert.equal(tf.memory().numTensors, before, "no leaked tensors");
    const two = res.rows.find((r) => r.model.includes("anti-causal"))!;
    const one = res.rows.find((r) => r.family === "gate" && !r.model.includes("anti-causal"))!;
    const fir5 = res.rows.find((r) => r.family === "fir-ls" && r.params === 5)!;
    assert.equal(two.params, 5);
    assert.equal(fir5.params, 5);
    const [g1, g2] = two.gates!;
    close(g1, -0.8, 0.05, "causal gate");
    close(g2, -0.6, 0.05, "anti-causal gate");
    assert.ok(two.testRmse < fir5.testRmse / 10, `${two.testRmse} vs FIR ${fir5.testRmse}`);
    assert.ok(two.testRmse < one.testRmse / 10, "the anti-causal scan is needed");
    assert.equal(res.example.x.length, 96);
    for (const r of res.rows) assert.ok(res.example.outputs[r.model], r.model);
  },
});
