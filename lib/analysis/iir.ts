/**
 * Why a recurrent network deblurs: 1-D signals, blur kernels and their inverse filters
 * (docs/paper.md#the-iir-argument).
 *
 * Conventions. A kernel `k` of length M+1 is the polynomial K(z) = sum_m k[m] z^-m; blurring
 * is the causal convolution y[n] = sum_m k[m] x[n-m] (x[n] = 0 for n < 0). Solving for x
 * gives the M-th order recursion x[n] = (y[n] - sum_{m>=1} k[m] x[n-m]) / k[0], the IIR
 * filter 1/K(z). Its poles are the zeros of K(z), i.e. the roots of
 * k[0] z^M + k[1] z^(M-1) + ... + k[M]. The causal recursion is stable iff every root lies
 * inside the unit circle (K is minimum phase); roots outside are inverted stably by an
 * anti-causal (right-to-left) recursion instead, so any kernel without roots on the unit
 * circle is inverted by one causal pass and one anti-causal pass (`invertTwoPass`).
 *
 * The gate recursion of SVRNN, h[n] = (1-p) x[n] + p h[n-1], is the one-pole filter
 * (1-p) / (1 - p z^-1): its impulse response is the exponential (1-p) p^n, and it is the
 * exact inverse of the 2-tap kernel [1, -p] / (1-p) (`gateInverseKernel`).
 *
 * Everything here is plain TypeScript on Float64Array (browser-safe); the learned
 * comparison at the end (`compareGateVsFir`) uses tfjs and the kit's gate-recurrent op on
 * whatever backend is active (cpu is fastest for these tiny 1-D problems).
 */
import * as tf from "@tensorflow/tfjs";
import { gateRecurrent } from "../ops/gate_rnn.ts";
import { Rng } from "../data/prng.ts";

/** A complex number. */
export interface Complex {
  re: number;
  im: number;
}

const cAbs = (a: Complex) => Math.hypot(a.re, a.im);

// ---------------------------------------------------------------------------------------
// Signals, kernels, convolution

/**
 * Convolution of `x` with kernel `k`.
 * - "causal" (default): y[n] = sum_m k[m] x[n-m] for n in [0, x.length), x[n<0] = 0;
 * - "full": the whole result, length x.length + k.length - 1;
 * - "same": centred, y[n] = full[n + floor((k.length-1)/2)], length x.length.
 */
export function convolve(
  x: ArrayLike<number>,
  k: ArrayLike<number>,
  mode: "causal" | "full" | "same" = "causal",
): Float64Array {
  const n = x.length, m = k.length;
  if (m === 0) throw new Error("convolve: empty kernel");
  const full = new Float64Array(n + m - 1);
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    for (let j = 0; j < m; j++) full[i + j] += xi * k[j];
  }
  if (mode === "full") return full;
  const off = mode === "same" ? Math.floor((m - 1) / 2) : 0;
  return full.slice(off, off + n);
}

/** Uniform (box) kernel of `length` taps summing to 1: linear motion at constant speed. */
export function boxKernel(length: number): Float64Array {
  checkLength(length, "boxKernel");
  return new Float64Array(length).fill(1 / length);
}

/**
 * Truncated exponential kernel k[n] proportional to p^n, n < length, summing to 1: motion
 * that decelerates (or a decaying exposure). `length` Infinity is not allowed; for the
 * untruncated one see `gateImpulseResponse`.
 */
export function exponentialKernel(p: number, length: number): Float64Array {
  checkLength(length, "exponentialKernel");
  const k = new Float64Array(length);
  let s = 0;
  for (let i = 0; i < length; i++) s += k[i] = Math.pow(p, i);
  for (let i = 0; i < length; i++) k[i] /= s;
  return k;
}

/**
 * 1-D camera shake: a particle whose velocity performs a random walk (seeded), its
 * positions accumulated (with linear interpolation) into `length` bins, summing to 1. The
 * 1-D analogue of the random-walk trajectories used to synthesise camera-shake kernels.
 */
export function randomWalkKernel(
  length: number,
  seed: number | string = 0,
  opts: { steps?: number; jitter?: number } = {},
): Float64Array {
  checkLength(length, "randomWalkKernel");
  const rng = new Rng(seed);
  const steps = opts.steps ?? 64 * length;
  const jitter = opts.jitter ?? 0.6;
  const pos: number[] = [];
  let p = 0, v = rng.normal(0, 1);
  for (let t = 0; t < steps; t++) {
    pos.push(p);
    v += rng.normal(0, jitter);
    p += v / steps;
  }
  const lo = Math.min(...pos), hi = Math.max(...pos);
  const k = new Float64Array(length);
  const scale = hi > lo ? (length - 1) / (hi - lo) : 0;
  for (const q of pos) {
    const u = (q - lo) * scale, i = Math.floor(u), f = u - i;
    k[i] += 1 - f;
    if (f > 0 && i + 1 < length) k[i + 1] += f;
  }
  const s = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < length; i++) k[i] /= s;
  return k;
}

/** The 2-tap kernel [1, -p] / (1-p) whose exact inverse is the gate recursion with gate p. */
export function gateInverseKernel(p: number): Float64Array {
  if (!(p !== 1)) throw new Error(`gateInverseKernel: p must not be 1, got ${p}`);
  return Float64Array.of(1 / (1 - p), -p / (1 - p));
}

function checkLength(length: number, fn: string): void {
  if (!Number.isInteger(length) || length < 1) {
    throw new Error(`${fn}: length must be an integer >= 1, got ${length}`);
  }
}

// ---------------------------------------------------------------------------------------
// Inverse filters as recursions

/**
 * The causal inverse of `k`: x[n] = (y[n] - sum_{m=1..M} k[m] x[n-m]) / k[0], n ascending.
 * Exact inverse of `convolve(x, k, "causal")`; stable only for a minimum-phase `k`.
 */
export function inverseCausal(y: ArrayLike<number>, k: ArrayLike<number>): Float64Array {
  const m = k.length;
  if (m === 0 || k[0] === 0) throw new Error("inverseCausal: k[0] must be non-zero");
  const x = new Float64Array(y.length);
  for (let n = 0; n < y.length; n++) {
    let s = y[n];
    for (let j = 1; j < m && j <= n; j++) s -= k[j] * x[n - j];
    x[n] = s / k[0];
  }
  return x;
}

/**
 * The anti-causal inverse of `k` (degree M = k.length - 1), run right to left: given
 * `u = convolve(x, k, "full")` (or any u whose samples past `n + M` are those of a signal
 * that is zero from `n` on), returns x[0..n) by x[j] = (u[j+M] - sum_{m<M} k[m] x[j+M-m]) / k[M].
 * Stable iff every zero of K(z) lies outside the unit circle (maximum phase).
 * `n` defaults to u.length - M.
 */
export function inverseAntiCausal(
  u: ArrayLike<number>,
  k: ArrayLike<number>,
  n = u.length - (k.length - 1),
): Float64Array {
  const M = k.length - 1;
  if (M < 0 || k[M] === 0) throw new Error("inverseAntiCausal: the last tap must be non-zero");
  const x = new Float64Array(Math.max(0, n));
  for (let j = n - 1; j >= 0; j--) {
    let s = j + M < u.length ? u[j + M] : 0;
    for (let m = 0; m < M; m++) {
      const i = j + M - m;
      if (i < n) s -= k[m] * x[i];
    }
    x[j] = s / k[M];
  }
  return x;
}

/** The first `n` taps of the impulse response of 1/K(z) run causally (explodes if K is not minimum phase). */
export function inverseImpulseResponse(k: ArrayLike<number>, n: number): Float64Array {
  const d = new Float64Array(n);
  if (n > 0) d[0] = 1;
  return inverseCausal(d, k);
}

/**
 * The gate recursion h[n] = (1 - p[n]) x[n] + p[n] h[n-1], h[-1] = 0; `p` a constant or one
 * gate per sample; `reverse` runs it right to left (h[n] depends on h[n+1]).
 */
export function gateRecursion(
  x: ArrayLike<number>,
  p: number | ArrayLike<number>,
  reverse = false,
): Float64Array {
  const n = x.length;
  const h = new Float64Array(n);
  const gate = (i: number) => (typeof p === "number" ? p : p[i]);
  let prev = 0;
  for (let t = 0; t < n; t++) {
    const i = reverse ? n - 1 - t : t;
    const g = gate(i);
    prev = h[i] = (1 - g) * x[i] + g * prev;
  }
  return h;
}

/** Impulse response of the gate recursion: (1-p) p^n, n < length (computed by the recursion). */
export function gateImpulseResponse(p: number, length: number): Float64Array {
  const d = new Float64Array(length);
  if (length > 0) d[0] = 1;
  return gateRecursion(d, p);
}

// ---------------------------------------------------------------------------------------
// Polynomials and roots

function cmul(a: Complex, b: Complex): Complex {
  return { re: a.re * b.re - a.im * b.im, im: a.re * b.im + a.im * b.re };
}
function cdiv(a: Complex, b: Complex): Complex {
  const d = b.re * b.re + b.im * b.im;
  return { re: (a.re * b.re + a.im * b.im) / d, im: (a.im * b.re - a.re * b.im) / d };
}

/** p(z) and p'(z) by Horner; `c` highest degree first. */
function hornerWithDerivative(c: ArrayLike<number>, z: Complex): [Complex, Complex] {
  let p: Complex = { re: c[0], im: 0 };
  let dp: Complex = { re: 0, im: 0 };
  for (let i = 1; i < c.length; i++) {
    dp = cmul(dp, z);
    dp.re += p.re;
    dp.im += p.im;
    p = cmul(p, z);
    p.re += c[i];
  }
  return [p, dp];
}

/**
 * All complex roots of the real polynomial c[0] z^d + c[1] z^(d-1) + ... + c[d] (highest
 * degree first), by the Aberth-Ehrlich simultaneous iteration followed by Newton polishing
 * on the original polynomial. Accurate to about 1e-13 relative for simple roots of degree up
 * to 30 (multiple roots to about eps^(1/multiplicity)). Leading zeros are dropped; trailing
 * zeros give roots at 0. Near-real roots of a real polynomial are returned as exactly real,
 * complex ones in conjugate pairs. Sorted by angle, then modulus.
 */
export function polyRoots(coeffs: ArrayLike<number>): Complex[] {
  let c = Array.from(coeffs);
  if (c.some((v) => !Number.isFinite(v))) throw new Error("polyRoots: non-finite coefficient");
  while (c.length > 0 && c[0] === 0) c.shift();
  if (c.length === 0) throw new Error("polyRoots: the zero polynomial has no finite roots");
  const roots: Complex[] = [];
  while (c.length > 1 && c[c.length - 1] === 0) {
    c.pop();
    roots.push({ re: 0, im: 0 });
  }
  const d = c.length - 1;
  if (d === 0) return roots;
  const lead = c[0];
  c = c.map((v) => v / lead);
  if (d === 1) {
    roots.push({ re: -c[1], im: 0 });
    return sortRoots(roots);
  }
  // Initial guesses on a circle of the Cauchy-bound-like radius, with an irrational offset.
  let radius = 0;
  for (let i = 1; i <= d; i++) radius = Math.max(radius, Math.pow(Math.abs(c[i]), 1 / i));
  radius = Math.max(radius, 1e-3);
  const z: Complex[] = [];
  for (let i = 0; i < d; i++) {
    const a = (2 * Math.PI * i) / d + 0.4;
    z.push({ re: radius * Math.cos(a), im: radius * Math.sin(a) });
  }
  for (let iter = 0; iter < 2000; iter++) {
    let maxStep = 0;
    for (let i = 0; i < d; i++) {
      const [p, dp] = hornerWithDerivative(c, z[i]);
      if (p.re === 0 && p.im === 0) continue;
      const w = cdiv(p, dp);
      let s: Complex = { re: 0, im: 0 };
      for (let j = 0; j < d; j++) {
        if (j === i) continue;
        const inv = cdiv({ re: 1, im: 0 }, { re: z[i].re - z[j].re, im: z[i].im - z[j].im });
        s = { re: s.re + inv.re, im: s.im + inv.im };
      }
      const ws = cmul(w, s);
      const step = cdiv(w, { re: 1 - ws.re, im: -ws.im });
      if (!Number.isFinite(step.re) || !Number.isFinite(step.im)) continue;
      z[i] = { re: z[i].re - step.re, im: z[i].im - step.im };
      maxStep = Math.max(maxStep, cAbs(step) / Math.max(1, cAbs(z[i])));
    }
    if (maxStep < 1e-16) break;
  }
  // Newton polishing on the original polynomial.
  for (const r of z) {
    for (let k = 0; k < 3; k++) {
      const [p, dp] = hornerWithDerivative(c, r);
      if (dp.re === 0 && dp.im === 0) break;
      const step = cdiv(p, dp);
      if (!Number.isFinite(step.re) || !Number.isFinite(step.im)) break;
      r.re -= step.re;
      r.im -= step.im;
    }
    if (Math.abs(r.im) <= 1e-10 * Math.max(1, cAbs(r))) r.im = 0;
  }
  // A real polynomial's complex roots come in conjugate pairs: make them exact pairs.
  const upper = z.filter((r) => r.im > 0);
  const lower = z.filter((r) => r.im < 0);
  if (upper.length === lower.length) {
    for (const u of upper) {
      let best = -1, bestD = Infinity;
      lower.forEach((l, j) => {
        const dd = Math.hypot(u.re - l.re, u.im + l.im);
        if (dd < bestD) (bestD = dd), (best = j);
      });
      const l = lower.splice(best, 1)[0];
      const re = (u.re + l.re) / 2, im = (u.im - l.im) / 2;
      roots.push({ re, im }, { re, im: -im });
    }
    roots.push(...z.filter((r) => r.im === 0));
  } else {
    roots.push(...z);
  }
  return sortRoots(roots);
}

function sortRoots(r: Complex[]): Complex[] {
  return r.sort((a, b) => Math.atan2(a.im, a.re) - Math.atan2(b.im, b.re) || cAbs(a) - cAbs(b));
}

/** Real coefficients (highest degree first, leading `gain`) of gain * prod (z - r). */
export function polyFromRoots(roots: readonly Complex[], gain = 1): Float64Array {
  let re = [gain], im = [0];
  for (const r of roots) {
    const nre = new Array(re.length + 1).fill(0), nim = new Array(re.length + 1).fill(0);
    for (let i = 0; i < re.length; i++) {
      nre[i] += re[i];
      nim[i] += im[i];
      nre[i + 1] -= re[i] * r.re - im[i] * r.im;
      nim[i + 1] -= re[i] * r.im + im[i] * r.re;
    }
    re = nre;
    im = nim;
  }
  return Float64Array.from(re);
}

/** Evaluates the polynomial (highest degree first) at z. */
export function polyEval(coeffs: ArrayLike<number>, z: Complex): Complex {
  return hornerWithDerivative(coeffs, z)[0];
}

/** The zeros of K(z) = sum k[m] z^-m, which are the poles of the inverse filter 1/K(z). */
export function kernelZeros(k: ArrayLike<number>): Complex[] {
  return polyRoots(k);
}

export const modulus = cAbs;

/** True iff every zero of K(z) lies strictly inside the unit circle (by `margin`). */
export function isMinimumPhase(k: ArrayLike<number>, margin = 1e-9): boolean {
  if (k.length === 0 || k[0] === 0) return false;
  return kernelZeros(k).every((r) => cAbs(r) < 1 - margin);
}

/** Magnitude of the frequency response |K(e^{iw})| at `count` frequencies w in [0, pi]. */
export function frequencyResponse(
  k: ArrayLike<number>,
  count = 256,
): { omega: Float64Array; magnitude: Float64Array } {
  const omega = new Float64Array(count), magnitude = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const w = (Math.PI * i) / Math.max(1, count - 1);
    let re = 0, im = 0;
    for (let m = 0; m < k.length; m++) {
      re += k[m] * Math.cos(w * m);
      im -= k[m] * Math.sin(w * m);
    }
    omega[i] = w;
    magnitude[i] = Math.hypot(re, im);
  }
  return { omega, magnitude };
}

export interface PhaseFactorisation {
  /** Minimum-phase factor, monic (min[0] = 1): zeros strictly inside the unit circle. */
  min: Float64Array;
  /** Maximum-phase factor (carries the gain k[0]): zeros strictly outside. */
  max: Float64Array;
  zerosInside: Complex[];
  zerosOutside: Complex[];
  /** Zeros within `margin` of the unit circle: no stable inverse exists. */
  zerosOnCircle: Complex[];
}

/**
 * Factorises K(z) = Kmin(z) Kmax(z), i.e. `convolve(min, max, "full")` equals k up to
 * rounding: Kmin has the zeros inside the unit circle (run its inverse causally), Kmax those
 * outside (run its inverse anti-causally). Zeros on the circle (within `margin`) are
 * reported in `zerosOnCircle` and put into `max`.
 */
export function factorMinMaxPhase(k: ArrayLike<number>, margin = 1e-9): PhaseFactorisation {
  if (k.length === 0 || k[0] === 0) throw new Error("factorMinMaxPhase: k[0] must be non-zero");
  const zeros = kernelZeros(k);
  const zerosInside = zeros.filter((r) => cAbs(r) < 1 - margin);
  const zerosOutside = zeros.filter((r) => cAbs(r) > 1 + margin);
  const zerosOnCircle = zeros.filter((r) => Math.abs(cAbs(r) - 1) <= margin);
  const min = polyFromRoots(zerosInside, 1);
  const max = polyFromRoots([...zerosOutside, ...zerosOnCircle], k[0]);
  return { min, max, zerosInside, zerosOutside, zerosOnCircle };
}

/**
 * Inverts a blur by any kernel without zeros on the unit circle: a causal pass with the
 * minimum-phase factor then an anti-causal pass with the maximum-phase factor. `y` is
 * `convolve(x, k, "full")` (length n + M); returns x (length `n`, default y.length - M).
 */
export function invertTwoPass(
  y: ArrayLike<number>,
  k: ArrayLike<number>,
  n = y.length - (k.length - 1),
): Float64Array {
  const f = factorMinMaxPhase(k);
  if (f.zerosOnCircle.length > 0) {
    throw new Error(
      `invertTwoPass: K(z) has ${f.zerosOnCircle.length} zero(s) on the unit circle: no stable inverse`,
    );
  }
  const u = inverseCausal(y, f.min); // = convolve(x, max, "full"), padded with zeros
  return inverseAntiCausal(u, f.max, n);
}

/**
 * The stable (two-sided) impulse response of 1/K(z): taps h[-before..after], causal for the
 * zeros inside the unit circle and anti-causal for those outside. `convolve(h, k)` is a
 * delta at 0 up to the truncation. Returns the tap indices `n` and values `h`.
 */
export function stableInverseImpulseResponse(
  k: ArrayLike<number>,
  before: number,
  after: number,
): { n: number[]; h: Float64Array } {
  const f = factorMinMaxPhase(k);
  if (f.zerosOnCircle.length > 0) {
    throw new Error("stableInverseImpulseResponse: zeros on the unit circle");
  }
  const Mx = f.max.length - 1;
  // Anti-causal impulse response of 1/Kmax (support n <= -Mx): invert a delta at tap 0,
  // array index `before` (index j is tap j - before).
  const len = before + after + 1;
  const u = new Float64Array(len + Mx);
  u[before] = 1;
  const g = inverseAntiCausal(u, f.max, len);
  // Then the causal inverse of Kmin.
  const h = inverseCausal(g, f.min);
  return { n: Array.from({ length: len }, (_, i) => i - before), h };
}

// ---------------------------------------------------------------------------------------
// Errors

/** Root-mean-square of a - b. */
export function rmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`rmse: lengths differ (${a.length}, ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / Math.max(1, a.length));
}

/** max |a - b| (Infinity if any value is not finite). */
export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new Error(`maxAbsError: lengths differ (${a.length}, ${b.length})`);
  }
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!Number.isFinite(d)) return Infinity;
    m = Math.max(m, d);
  }
  return m;
}

/**
 * Effective length of an impulse response: 1 + the last index where |h| >= tol * max|h|
 * (how many taps an FIR needs to reproduce it to relative accuracy `tol`).
 */
export function effectiveLength(h: ArrayLike<number>, tol = 1e-3): number {
  let m = 0;
  for (let i = 0; i < h.length; i++) m = Math.max(m, Math.abs(h[i]));
  for (let i = h.length - 1; i >= 0; i--) if (Math.abs(h[i]) >= tol * m) return i + 1;
  return 0;
}

// ---------------------------------------------------------------------------------------
// Test signals

/** A copy of `y` plus seeded Gaussian noise of standard deviation `sigma`. */
export function addNoise(
  y: ArrayLike<number>,
  sigma: number,
  seed: number | string = 0,
): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from(y, (v) => v + rng.normal(0, sigma));
}

/**
 * `count` seeded test signals of `length` samples in [0, 1]: piecewise-constant levels
 * (edges, as in images) plus a smooth ripple and a fine random texture of amplitude
 * `texture`, zero on the first and last `pad` samples so a
 * blur of fewer than `pad` taps loses nothing at the borders.
 */
export function randomSignals(
  count: number,
  length: number,
  seed: number | string = 0,
  pad = 16,
  texture = 0.05,
): Float64Array[] {
  const rng = new Rng(seed);
  const out: Float64Array[] = [];
  for (let s = 0; s < count; s++) {
    const x = new Float64Array(length);
    let level = rng.uniform();
    const f = rng.range(0.02, 0.12), ph = rng.range(0, 2 * Math.PI), amp = rng.range(0, 0.15);
    for (let i = pad; i < length - pad; i++) {
      if (rng.bool(0.06)) level = rng.uniform();
      const v = level * 0.8 + amp * (0.5 + 0.5 * Math.sin(f * i + ph)) + texture * rng.uniform();
      x[i] = Math.min(1, Math.max(0, v));
    }
    out.push(x);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Learned comparison: gate recursion against an FIR filter (a 1-D CNN)

export interface GateVsFirConfig {
  /** The blur kernel (causal convolution). */
  kernel: number[];
  /** Samples per signal. */
  length: number;
  trainSignals: number;
  testSignals: number;
  /** Adam steps per model (full batch). */
  steps: number;
  learningRate: number;
  /** FIR sizes (odd) to train, e.g. [3, 5, 9, 17, 33, 65]. */
  firTaps: number[];
  /** Taps of the small FIR in front of the gate scans (odd). */
  frontTaps: number;
  /** Standard deviation of Gaussian noise added to the blurred signals. */
  noise: number;
  seed: number;
}

export const DEFAULT_GATE_VS_FIR: GateVsFirConfig = {
  kernel: [0.6, 1.48, 0.8].map((v) => v / 2.88),
  length: 128,
  trainSignals: 48,
  testSignals: 16,
  steps: 400,
  learningRate: 0.03,
  firTaps: [3, 5, 9, 17, 33, 65],
  frontTaps: 3,
  noise: 0,
  seed: 1,
};

export interface GateVsFirRow {
  model: string;
  family: "fir" | "fir-ls" | "gate";
  /** Trainable parameters. */
  params: number;
  /** Input samples an output sample depends on ("length" = the whole signal). */
  receptiveField: number;
  trainRmse: number;
  testRmse: number;
  /** Learned gates (gate models only), after tanh. */
  gates?: number[];
  ms: number;
}

export interface GateVsFirResult {
  config: GateVsFirConfig;
  rows: GateVsFirRow[];
  /** Loss (training RMSE) every few steps, per model. */
  curves: Record<string, { step: number[]; rmse: number[] }>;
  /** One test signal, its blurred version and every model's output. */
  example: { x: Float64Array; y: Float64Array; outputs: Record<string, Float64Array> };
}

function toTensor(signals: Float64Array[]): tf.Tensor3D {
  const n = signals.length, l = signals[0].length;
  const buf = new Float32Array(n * l);
  signals.forEach((s, i) => buf.set(s, i * l));
  return tf.tensor3d(buf, [n, l, 1]);
}

function deltaFilter(taps: number): tf.Tensor3D {
  const w = new Float32Array(taps);
  w[(taps - 1) >> 1] = 1;
  return tf.tensor3d(w, [taps, 1, 1]);
}

interface LearnedModel {
  name: string;
  family: "fir" | "gate";
  vars: tf.Variable[];
  receptiveField: number;
  apply(y: tf.Tensor3D): tf.Tensor3D;
  gates?: () => number[];
  dispose?: () => void;
}

/**
 * The centred 1-D correlation of `y` [N, L, 1] with `taps` taps, written as im2col + matMul:
 * patches [N*L, taps] with patches[n, j] = y[n + j - c] (zero outside). Numerically the same
 * as `tf.conv1d(y, w, 1, "same")`, many times faster to train on the cpu backend.
 */
function im2col(y: tf.Tensor3D, taps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, l] = y.shape, c = (taps - 1) >> 1;
    const p = tf.pad(tf.reshape(y, [n, l]), [[0, 0], [c, taps - 1 - c]]);
    const cols = Array.from({ length: taps }, (_, j) => tf.slice(p, [0, j], [n, l]));
    return tf.reshape(tf.stack(cols, 2), [n * l, taps]) as tf.Tensor2D;
  });
}

function firModel(taps: number): LearnedModel {
  const w = tf.tidy(() => tf.variable(tf.reshape(deltaFilter(taps), [taps, 1])));
  const cache = new Map<tf.Tensor3D, tf.Tensor2D>();
  return {
    name: `FIR ${taps} taps`,
    family: "fir",
    vars: [w],
    receptiveField: taps,
    apply: (y) => {
      let cols = cache.get(y);
      if (!cols) cache.set(y, cols = tf.keep(im2col(y, taps)));
      return tf.reshape(tf.matMul(cols, w), y.shape);
    },
    dispose: () => cache.forEach((t) => t.dispose()),
  };
}

function gateModel(front: number, twoPass: boolean, length: number): LearnedModel {
  // Variables made inside tidy: the initial tensors are released, the variables kept.
  const w = tf.tidy(() => tf.variable(deltaFilter(front)));
  const t1 = tf.tidy(() => tf.variable(tf.scalar(0)));
  const t2 = twoPass ? tf.tidy(() => tf.variable(tf.scalar(0))) : t1;
  const scan = (x: tf.Tensor4D, theta: tf.Variable, dir: "left-right" | "right-left") =>
    gateRecurrent(x, tf.mul(tf.onesLike(x), tf.tanh(theta)) as tf.Tensor4D, dir);
  return {
    name: twoPass
      ? `gate: ${front}-tap FIR + causal + anti-causal scan`
      : `gate: ${front}-tap FIR + causal scan`,
    family: "gate",
    vars: twoPass ? [w, t1, t2] : [w, t1],
    receptiveField: length,
    apply: (y) => {
      const z = tf.conv1d(y, w as tf.Tensor3D, 1, "same");
      const [n, l] = z.shape;
      let h = scan(tf.reshape(z, [n, 1, l, 1]), t1, "left-right");
      if (twoPass) h = scan(h, t2, "right-left");
      return tf.reshape(h, [n, l, 1]);
    },
    gates: () => (twoPass ? [t1, t2] : [t1]).map((t) => Math.tanh(t.dataSync()[0])),
  };
}

/** Least-squares optimal centred FIR of `taps` taps mapping blurred signals to sharp ones (float64). */
export function leastSquaresFir(
  ys: Float64Array[],
  xs: Float64Array[],
  taps: number,
): Float64Array {
  const c = (taps - 1) >> 1;
  const A = new Float64Array(taps * taps), b = new Float64Array(taps);
  const f = new Float64Array(taps);
  ys.forEach((y, s) => {
    const x = xs[s];
    for (let n = 0; n < y.length; n++) {
      for (let j = 0; j < taps; j++) {
        const i = n + j - c;
        f[j] = i >= 0 && i < y.length ? y[i] : 0;
      }
      for (let i = 0; i < taps; i++) {
        b[i] += f[i] * x[n];
        for (let j = 0; j <= i; j++) A[i * taps + j] += f[i] * f[j];
      }
    }
  });
  return solveSpd(A, b, taps); // correlation taps: out[n] = sum_j w[j] y[n + j - c]
}

/**
 * Solves A w = b for a symmetric positive semi-definite n x n matrix whose lower triangle is
 * filled (row-major; the upper one is ignored), by Cholesky with a ridge of 1e-12 of A's mean
 * diagonal so that a rank-deficient system (a flat image row) still solves. A is modified.
 */
export function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += A[i * n + i];
  for (let i = 0; i < n; i++) A[i * n + i] += 1e-12 * trace / n;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * n + j];
    }
  }
  const z = new Float64Array(n), w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
    z[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * w[k];
    w[i] = s / L[i * n + i];
  }
  return w;
}

function applyCorrelation(y: Float64Array, w: Float64Array): Float64Array {
  const c = (w.length - 1) >> 1, out = new Float64Array(y.length);
  for (let n = 0; n < y.length; n++) {
    let s = 0;
    for (let j = 0; j < w.length; j++) {
      const i = n + j - c;
      if (i >= 0 && i < y.length) s += w[j] * y[i];
    }
    out[n] = s;
  }
  return out;
}

function meanRmse(outs: Float64Array[], xs: Float64Array[]): number {
  let s = 0, n = 0;
  outs.forEach((o, i) => {
    for (let j = 0; j < o.length; j++) s += (o[j] - xs[i][j]) ** 2;
    n += o.length;
  });
  return Math.sqrt(s / n);
}

/**
 * Trains, on signals blurred by `config.kernel`, FIR filters of several sizes (1-D convs,
 * Adam) and two gate-recursion models (a small FIR followed by a causal scan, and by a
 * causal plus an anti-causal scan, each scan one learned gate through tanh, using the kit's
 * `gateRecurrent` op), plus the least-squares optimal FIR of each size as the best any FIR
 * of that size can do. Reports train and test RMSE per model. Runs on the active tfjs
 * backend; with the default config it takes a few seconds on cpu.
 */
export async function compareGateVsFir(
  overrides: Partial<GateVsFirConfig> = {},
  onProgress?: (msg: string) => void,
): Promise<GateVsFirResult> {
  const config = { ...DEFAULT_GATE_VS_FIR, ...overrides };
  const pad = Math.max(config.kernel.length + 2, 8);
  const rng = new Rng(`noise/${config.seed}`);
  const blur = (xs: Float64Array[]) =>
    xs.map((x) => {
      const y = convolve(x, config.kernel, "causal");
      if (config.noise > 0) {
        for (let i = 0; i < y.length; i++) y[i] += rng.normal(0, config.noise);
      }
      return y;
    });
  const xsTrain = randomSignals(config.trainSignals, config.length, `train/${config.seed}`, pad);
  const xsTest = randomSignals(config.testSignals, config.length, `test/${config.seed}`, pad);
  const ysTrain = blur(xsTrain), ysTest = blur(xsTest);
  const rows: GateVsFirRow[] = [];
  const curves: GateVsFirResult["curves"] = {};
  const exampleOut: Record<string, Float64Array> = {};

  // Least-squares optimal FIRs (float64, closed form).
  for (const taps of config.firTaps) {
    const t0 = performance.now();
    const w = leastSquaresFir(ysTrain, xsTrain, taps);
    const name = `FIR ${taps} taps (least squares)`;
    rows.push({
      model: name,
      family: "fir-ls",
      params: taps,
      receptiveField: taps,
      trainRmse: meanRmse(ysTrain.map((y) => applyCorrelation(y, w)), xsTrain),
      testRmse: meanRmse(ysTest.map((y) => applyCorrelation(y, w)), xsTest),
      ms: performance.now() - t0,
    });
    exampleOut[name] = applyCorrelation(ysTest[0], w);
  }

  const yTr = toTensor(ysTrain), xTr = toTensor(xsTrain), yTe = toTensor(ysTest);
  const models: LearnedModel[] = [
    ...config.firTaps.map(firModel),
    gateModel(config.frontTaps, false, config.length),
    gateModel(config.frontTaps, true, config.length),
  ];
  const toSignals = (t: tf.Tensor3D): Float64Array[] => {
    const d = t.dataSync(), [n, l] = t.shape;
    return Array.from({ length: n }, (_, i) => Float64Array.from(d.subarray(i * l, (i + 1) * l)));
  };
  for (const m of models) {
    const t0 = performance.now();
    const opt = tf.train.adam(config.learningRate);
    const curve = { step: [] as number[], rmse: [] as number[] };
    const every = Math.max(1, Math.floor(config.steps / 50));
    for (let s = 0; s < config.steps; s++) {
      const loss = opt.minimize(
        () => tf.mean(tf.square(tf.sub(m.apply(yTr), xTr))) as tf.Scalar,
        true,
        m.vars,
      )!;
      if (s % every === 0 || s === config.steps - 1) {
        curve.step.push(s);
        curve.rmse.push(Math.sqrt((await loss.data())[0]));
      }
      loss.dispose();
    }
    opt.dispose();
    const outTr = tf.tidy(() => m.apply(yTr)), outTe = tf.tidy(() => m.apply(yTe));
    const te = toSignals(outTe);
    rows.push({
      model: m.name,
      family: m.family,
      params: m.vars.reduce((a, v) => a + v.size, 0),
      receptiveField: m.receptiveField,
      trainRmse: meanRmse(toSignals(outTr), xsTrain),
      testRmse: meanRmse(te, xsTest),
      ...(m.gates ? { gates: m.gates() } : {}),
      ms: performance.now() - t0,
    });
    exampleOut[m.name] = te[0];
    curves[m.name] = curve;
    tf.dispose([outTr, outTe, ...m.vars]);
    m.dispose?.();
    onProgress?.(`${m.name}: test RMSE ${rows[rows.length - 1].testRmse.toExponential(2)}`);
  }
  tf.dispose([yTr, xTr, yTe]);
  return { config, rows, curves, example: { x: xsTest[0], y: ysTest[0], outputs: exampleOut } };
}
