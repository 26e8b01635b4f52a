/**
 * Controlled blur: pairs whose every blur factor the experimenter sets, so a study can ask
 * when a spatially variant recurrent scan beats a CNN (notebook 04, docs/studies.md).
 *
 * Factors, each fixed or drawn per pair from a seeded generator:
 * - kernel family: "box" (linear motion: equal weights along a line, centred), "exp" (a
 *   one-pole exponential along a ray, h[n] = (1 - a) a^n for n >= 0: an IIR blur whose
 *   inverse is the two-tap FIR x[n] = (y[n] - a y[n-1]) / (1 - a), the control where a CNN
 *   should suffice), "shake" (a random-walk camera trajectory, lib/data/blur.ts);
 * - length in pixels (the box's tap count, the shake's path length, and for "exp" the
 *   decay with mean delay (L - 1) / 2, the box's half-length);
 * - angle: "horizontal", "any" (uniform in [0, 180) degrees) or a fixed number of degrees;
 * - spatial layout: "uniform" (one kernel), "two-region" (a random straight boundary; the
 *   second region's kernel is the first turned by 90 degrees), "field" (the angle turns
 *   smoothly by 90 degrees across the crop, along a random direction), "object" (an
 *   elliptic object blurred over a static, sharp background);
 * - Gaussian sensor noise (standard deviation in stored units, after the blur).
 *
 * Blur is applied in linear light (stored v -> v^2.2, blurred, -> ^(1/2.2)), as GoPro's
 * blur_gamma. Where the kernel changes across the crop each output pixel gathers with its
 * own pixel's kernel (out(p) = sum_t K_p(t) in(p + t)): exact for the uniform layout, a
 * well-defined simplification of occlusion at region boundaries otherwise.
 *
 * Crops are taken from the photo with a margin, so every tap reads real content. Crop
 * positions depend only on (photo, index), never on the blur, so every controlled benchmark
 * shows the same sharp crops and gains compare across cells of a study.
 *
 * Browser-compatible: pure TypeScript on Float32Array.
 */
import { InputError } from "./errors.ts";
import { DEFAULT_GAMMA, fromLinear, randomShakeKernel, toLinear } from "./blur.ts";
import { cropImage, type RgbImage } from "./image.ts";
import { Rng } from "./prng.ts";

export const KERNEL_FAMILIES = ["box", "exp", "shake"] as const;
export type KernelFamily = typeof KERNEL_FAMILIES[number];
export const LAYOUTS = ["uniform", "two-region", "field", "object"] as const;
export type Layout = typeof LAYOUTS[number];
export type AngleSetting = "horizontal" | "any" | number;

/** A controlled benchmark: one JSON object, stored in its manifest. */
export interface ControlledSpec {
  /** Folder name under data/controlled/. */
  name: string;
  /** Kernel families, one drawn per pair. */
  families: KernelFamily[];
  /** Blur length in px: fixed, or [min, max] (an integer drawn per pair). */
  length: number | [number, number];
  /** Blur direction: "horizontal", "any" (drawn per pair) or fixed degrees. */
  angle: AngleSetting;
  /** Spatial layouts, one drawn per pair. */
  layouts: Layout[];
  /** Gaussian noise standard deviation after the blur (stored units, 0..1). */
  noise: number;
  /** Side of every square pair, px. */
  crop: number;
  /** Pairs cut from each training photo. */
  trainPerPhoto: number;
  /** Pairs cut from each test photo. */
  testPerPhoto: number;
  /** Seed of every blur draw (crop positions do not depend on it). */
  seed: number;
}

/** Defaults: a horizontal box of 9 px over uniform layout, 128 px crops. */
export const DEFAULT_CONTROLLED: ControlledSpec = {
  name: "box-9-h-uniform",
  families: ["box"],
  length: 9,
  angle: "horizontal",
  layouts: ["uniform"],
  noise: 0,
  crop: 128,
  trainPerPhoto: 8,
  testPerPhoto: 3,
  seed: 0,
};

/**
 * Margin around each crop, px: every tap stays inside. The exp kernel's tail is cut at this
 * many taps (and renormalised): at length 33 that drops 2% of its weight.
 */
export const CROP_MARGIN = 64;
/**
 * The longest blur a spec may ask for: a shake kernel turned by 45 degrees reaches 0.71 of
 * it, and the exp kernel's cut tail grows past a few percent beyond it.
 */
export const MAX_LENGTH = 64;
/**
 * The longest box: a centred box reaches half its length, so up to the crop margin. Boxes
 * longer than MAX_LENGTH are there to outreach a CNN's receptive field (cnn-small sees 73 px
 * across), the receptive-field-reach study's question.
 */
export const MAX_BOX_LENGTH = 2 * CROP_MARGIN + 1;
/** The photo split is one for every controlled benchmark (test photos are never trained on). */
export const SPLIT_KEY = "controlled-v1";
/** Share of photos held out for testing. */
export const TEST_FRACTION = 0.25;

/** Sparse kernel: out(p) = sum_t w[t] * in(p + (dx[t], dy[t])). Weights sum to 1. */
export interface Taps {
  dx: Int32Array;
  dy: Int32Array;
  w: Float32Array;
}

/** Validates a spec, naming the field at fault. */
export function checkSpec(s: ControlledSpec): ControlledSpec {
  const bad = (field: string, why: string) => {
    throw new InputError(`controlled benchmark ${s.name}: ${field} ${why}`);
  };
  if (!/^[A-Za-z0-9._-]+$/.test(s.name)) bad("name", "must be letters, digits, . _ or -");
  if (s.families.length === 0) bad("families", "is empty");
  for (const f of s.families) {
    if (!KERNEL_FAMILIES.includes(f)) bad("families", `has ${f}; known: ${KERNEL_FAMILIES}`);
  }
  if (s.layouts.length === 0) bad("layouts", "is empty");
  for (const l of s.layouts) {
    if (!LAYOUTS.includes(l)) bad("layouts", `has ${l}; known: ${LAYOUTS}`);
  }
  const [lo, hi] = lengthRange(s.length);
  const max = s.families.every((f) => f === "box") ? MAX_BOX_LENGTH : MAX_LENGTH;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi >= lo && hi <= max)) {
    bad(
      "length",
      `must be integers in 1..${max}${
        max === MAX_LENGTH ? ` (${MAX_BOX_LENGTH} for box alone)` : ""
      }, got ${JSON.stringify(s.length)}`,
    );
  }
  if (
    typeof s.angle === "number"
      ? !Number.isFinite(s.angle)
      : !["horizontal", "any"].includes(s.angle)
  ) {
    bad("angle", `must be "horizontal", "any" or degrees, got ${JSON.stringify(s.angle)}`);
  }
  if (!(s.noise >= 0 && s.noise <= 0.5)) bad("noise", `must be in 0..0.5, got ${s.noise}`);
  if (!(Number.isInteger(s.crop) && s.crop >= 16 && s.crop <= 1024)) {
    bad("crop", `must be an integer in 16..1024, got ${s.crop}`);
  }
  for (const k of ["trainPerPhoto", "testPerPhoto"] as const) {
    if (!(Number.isInteger(s[k]) && s[k] >= 1)) bad(k, `must be a positive integer, got ${s[k]}`);
  }
  return s;
}

function lengthRange(l: number | [number, number]): [number, number] {
  return Array.isArray(l) ? [l[0], l[1]] : [l, l];
}

/** Bilinear splat of weighted points into integer taps (merging equal offsets). */
function splat(points: { x: number; y: number; w: number }[]): Taps {
  const acc = new Map<string, number>();
  const put = (x: number, y: number, w: number) => {
    if (w === 0) return;
    const key = `${x},${y}`;
    acc.set(key, (acc.get(key) ?? 0) + w);
  };
  for (const p of points) {
    const x0 = Math.floor(p.x), y0 = Math.floor(p.y);
    let fx = p.x - x0, fy = p.y - y0;
    // offsets within rounding of an integer land on it exactly (horizontal boxes stay exact)
    if (fx < 1e-9) fx = 0;
    if (fy < 1e-9) fy = 0;
    if (fx > 1 - 1e-9) (fx = 0), (p.x = x0 + 1);
    if (fy > 1 - 1e-9) (fy = 0), (p.y = y0 + 1);
    const X = Math.floor(p.x), Y = Math.floor(p.y);
    put(X, Y, p.w * (1 - fx) * (1 - fy));
    put(X + 1, Y, p.w * fx * (1 - fy));
    put(X, Y + 1, p.w * (1 - fx) * fy);
    put(X + 1, Y + 1, p.w * fx * fy);
  }
  const entries = [...acc.entries()];
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  const t: Taps = {
    dx: new Int32Array(entries.length),
    dy: new Int32Array(entries.length),
    w: new Float32Array(entries.length),
  };
  entries.forEach(([k, w], i) => {
    const [x, y] = k.split(",").map(Number);
    t.dx[i] = x;
    t.dy[i] = y;
    t.w[i] = w / sum;
  });
  return t;
}

/** The one-pole coefficient of an "exp" kernel of length L: mean delay a / (1 - a) = (L - 1) / 2. */
export function expPole(length: number): number {
  return length <= 1 ? 0 : 1 - 2 / (length + 1);
}

/**
 * The kernel of one family at one length and angle (radians, 0 = along +x, image y down).
 * "shake" draws its trajectory from `rng` and turns it by the angle.
 */
export function kernelTaps(family: KernelFamily, length: number, angle: number, rng: Rng): Taps {
  const c = Math.cos(angle), s = Math.sin(angle);
  if (family === "box") {
    const pts = [];
    for (let j = 0; j < length; j++) {
      const r = j - (length - 1) / 2;
      pts.push({ x: r * c, y: r * s, w: 1 / length });
    }
    return splat(pts);
  }
  if (family === "exp") {
    const a = expPole(length);
    // blurred(p) = sum_n (1 - a) a^n in(p - n d): the filter reads pixels behind p along d
    const n = a === 0 ? 1 : Math.min(CROP_MARGIN + 1, Math.ceil(Math.log(1e-4) / Math.log(a)));
    const pts = [];
    for (let j = 0; j < n; j++) pts.push({ x: -j * c, y: -j * s, w: (1 - a) * a ** j });
    return splat(pts);
  }
  const k = randomShakeKernel(rng, length);
  const half = (k.size - 1) / 2;
  const pts = [];
  for (let i = 0; i < k.size; i++) {
    for (let j = 0; j < k.size; j++) {
      const w = k.data[i * k.size + j];
      if (w === 0) continue;
      const x = j - half, y = i - half;
      pts.push({ x: x * c - y * s, y: x * s + y * c, w });
    }
  }
  return splat(pts);
}

/** What a pair's blur is, as the manifest records it. */
export interface PairFactors {
  family: KernelFamily;
  length: number;
  /** Degrees of the first kernel (region A; the field's angle at its start). */
  angleDeg: number;
  layout: Layout;
  noise: number;
  /** two-region: boundary normal (degrees) and offset from the centre (px). */
  boundary?: { normalDeg: number; offset: number };
  /** field: direction (degrees) along which the angle turns by 90 degrees. */
  fieldDeg?: number;
  /** object: ellipse centre and radii in crop px. */
  object?: { cx: number; cy: number; rx: number; ry: number };
}

/** Draws the factors of one pair from the spec. */
export function drawFactors(spec: ControlledSpec, rng: Rng): PairFactors {
  const family = spec.families[rng.int(spec.families.length)];
  const layout = spec.layouts[rng.int(spec.layouts.length)];
  const [lo, hi] = lengthRange(spec.length);
  const length = lo + rng.int(hi - lo + 1);
  const angleDeg = spec.angle === "horizontal"
    ? 0
    : spec.angle === "any"
    ? Math.round(rng.range(0, 180) * 10) / 10
    : spec.angle;
  const f: PairFactors = { family, length, angleDeg, layout, noise: spec.noise };
  const S = spec.crop;
  if (layout === "two-region") {
    f.boundary = {
      normalDeg: Math.round(rng.range(0, 360)),
      offset: Math.round(rng.range(-0.2, 0.2) * S),
    };
  } else if (layout === "field") {
    f.fieldDeg = Math.round(rng.range(0, 360));
  } else if (layout === "object") {
    f.object = {
      cx: Math.round(rng.range(0.3, 0.7) * S),
      cy: Math.round(rng.range(0.3, 0.7) * S),
      rx: Math.round(rng.range(0.15, 0.3) * S),
      ry: Math.round(rng.range(0.15, 0.3) * S),
    };
  }
  return f;
}

/** Field layout: the number of angles the turning field is quantised to. */
const FIELD_STEPS = 16;

/**
 * The kernels of a pair and which one each crop pixel gathers with. Kernel 0 is region A;
 * the object layout's background is the identity (a static scene).
 */
export function layoutKernels(
  f: PairFactors,
  side: number,
  rng: Rng,
): { kernels: Taps[]; index: Uint8Array } {
  const rad = (d: number) => (d * Math.PI) / 180;
  const a = rad(f.angleDeg);
  const index = new Uint8Array(side * side);
  const mid = (side - 1) / 2;
  if (f.layout === "uniform") return { kernels: [kernelTaps(f.family, f.length, a, rng)], index };
  if (f.layout === "two-region") {
    const kernels = [
      kernelTaps(f.family, f.length, a, rng.fork("A")),
      kernelTaps(f.family, f.length, a + Math.PI / 2, rng.fork("B")),
    ];
    const n = rad(f.boundary!.normalDeg), nx = Math.cos(n), ny = Math.sin(n);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        index[y * side + x] = (x - mid) * nx + (y - mid) * ny > f.boundary!.offset ? 1 : 0;
      }
    }
    return { kernels, index };
  }
  if (f.layout === "field") {
    // the same trajectory turned, for "shake", so only the angle varies across the crop
    const kernels = [];
    for (let k = 0; k < FIELD_STEPS; k++) {
      kernels.push(
        kernelTaps(f.family, f.length, a + (Math.PI / 2) * (k / (FIELD_STEPS - 1)), rng.fork("F")),
      );
    }
    const d = rad(f.fieldDeg!), dx = Math.cos(d), dy = Math.sin(d);
    const reach = mid * (Math.abs(dx) + Math.abs(dy)) || 1;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const u = ((x - mid) * dx + (y - mid) * dy) / reach * 0.5 + 0.5; // 0..1 across the crop
        index[y * side + x] = Math.min(
          FIELD_STEPS - 1,
          Math.max(0, Math.round(u * (FIELD_STEPS - 1))),
        );
      }
    }
    return { kernels, index };
  }
  const o = f.object!;
  const identity: Taps = {
    dx: new Int32Array([0]),
    dy: new Int32Array([0]),
    w: new Float32Array([1]),
  };
  const kernels = [identity, kernelTaps(f.family, f.length, a, rng)];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const u = (x - o.cx) / o.rx, v = (y - o.cy) / o.ry;
      index[y * side + x] = u * u + v * v <= 1 ? 1 : 0;
    }
  }
  return { kernels, index };
}

/**
 * Blurs the `side` x `side` window at (x0, y0) of `src` (which must hold the window plus
 * every tap) with per-pixel kernels, in linear light, adds noise and clamps to [0, 1].
 */
export function gatherBlur(
  src: RgbImage,
  x0: number,
  y0: number,
  side: number,
  kernels: Taps[],
  index: Uint8Array,
  noise: number,
  rng: Rng,
  gamma = DEFAULT_GAMMA,
): RgbImage {
  const W = src.width;
  const out = new Float32Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const K = kernels[index[y * side + x]];
      let r = 0, g = 0, b = 0;
      for (let t = 0; t < K.w.length; t++) {
        const sx = x0 + x + K.dx[t], sy = y0 + y + K.dy[t];
        if (sx < 0 || sy < 0 || sx >= W || sy >= src.height) {
          throw new Error(`gatherBlur: tap (${K.dx[t]}, ${K.dy[t]}) leaves the source`);
        }
        const s = (sy * W + sx) * 3, w = K.w[t];
        r += w * toLinear(src.data[s], gamma);
        g += w * toLinear(src.data[s + 1], gamma);
        b += w * toLinear(src.data[s + 2], gamma);
      }
      const d = (y * side + x) * 3;
      out[d] = fromLinear(r, gamma);
      out[d + 1] = fromLinear(g, gamma);
      out[d + 2] = fromLinear(b, gamma);
    }
  }
  if (noise > 0) { for (let i = 0; i < out.length; i++) out[i] += rng.normal(0, noise); }
  for (let i = 0; i < out.length; i++) out[i] = out[i] < 0 ? 0 : out[i] > 1 ? 1 : out[i];
  return { width: side, height: side, data: out };
}

/** Candidate positions tried per crop; the one with the most detail is kept. */
export const CROP_CANDIDATES = 6;

/** Sum of squared luma differences to the right and below over a window (detail). */
function detail(img: RgbImage, x0: number, y0: number, side: number): number {
  const W = img.width, d = img.data;
  const l = (x: number, y: number) => {
    const i = (y * W + x) * 3;
    return 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
  };
  let e = 0;
  for (let y = y0; y < y0 + side - 1; y += 2) {
    for (let x = x0; x < x0 + side - 1; x += 2) {
      const c = l(x, y), gx = l(x + 1, y) - c, gy = l(x, y + 1) - c;
      e += gx * gx + gy * gy;
    }
  }
  return e;
}

/**
 * Where pair `index` of a photo is cut: the most detailed of CROP_CANDIDATES seeded
 * positions (flat sky scores above 40 dB blurred or not, and would swamp the mean), seeded
 * by photo and index only.
 */
export function cropPosition(
  photo: { id: string; image: RgbImage },
  index: number,
  side: number,
): { x: number; y: number } {
  const { width, height } = photo.image;
  const free = { x: width - side - 2 * CROP_MARGIN, y: height - side - 2 * CROP_MARGIN };
  if (free.x < 0 || free.y < 0) {
    throw new InputError(
      `photo ${photo.id} (${width}x${height}) is too small for ${side} px crops with a ${CROP_MARGIN} px margin (smaller --crop, or the photo set: deno task data)`,
    );
  }
  const r = new Rng(`${SPLIT_KEY}/crop/${photo.id}/${index}`);
  let best = { x: 0, y: 0 }, bestE = -1;
  for (let k = 0; k < CROP_CANDIDATES; k++) {
    const c = { x: CROP_MARGIN + r.int(free.x + 1), y: CROP_MARGIN + r.int(free.y + 1) };
    const e = detail(photo.image, c.x, c.y, side);
    if (e > bestE) (bestE = e), (best = c);
  }
  return best;
}

/** One pair: the sharp crop, its blurred version and the factors that made it. */
export function renderPair(
  spec: ControlledSpec,
  photo: { id: string; image: RgbImage },
  index: number,
  split: "train" | "test",
): { sharp: RgbImage; blurred: RgbImage; factors: PairFactors; x: number; y: number } {
  const S = spec.crop;
  const { x, y } = cropPosition(photo, index, S);
  const rng = new Rng(`${spec.seed}/${split}/${photo.id}/${index}`);
  const factors = drawFactors(spec, rng.fork("factors"));
  const { kernels, index: which } = layoutKernels(factors, S, rng.fork("kernels"));
  const blurred = gatherBlur(photo.image, x, y, S, kernels, which, spec.noise, rng.fork("noise"));
  const sharp = cropImage(photo.image, x, y, S, S);
  return { sharp, blurred, factors, x, y };
}

/**
 * The controlled mix: every family and layout, blind lengths and angles. The benchmark of
 * `deno task data controlled` without options, and the regime of a controlled model.
 */
export const CONTROLLED_MIX: ControlledSpec = {
  ...DEFAULT_CONTROLLED,
  name: "mix",
  families: [...KERNEL_FAMILIES],
  // a blind model sees every factor drawn anew per pair: four times the study cells' pairs
  trainPerPhoto: 32,
  length: [3, 33],
  angle: "any",
  layouts: [...LAYOUTS],
};
