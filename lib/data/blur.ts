/**
 * Blur synthesis, modelled on how the GoPro dataset (Nah et al. 2017) was made: a short burst
 * of sharp frames is averaged into one blurred frame and the middle frame is the sharp target
 * (or, with `target: "centroid"`, a frame at the mean pose; see SharpTarget).
 * Here the frames are rendered from one sharp photograph:
 *
 * - "dynamic": a smooth random camera trajectory (translation, in-plane rotation, zoom) plus
 *   1-3 independently moving foreground objects (soft-edged blobs textured from elsewhere in
 *   the photo, each with its own trajectory, drawn over the background, so they occlude it
 *   and each other). Blur therefore varies across the image, as in real dynamic scenes.
 * - "camera": the camera trajectory only (still spatially variant through rotation and zoom).
 * - "uniform": one camera-shake kernel (a random-walk trajectory rasterised into a k x k
 *   kernel summing to 1) convolved with the image; the kernel is returned. Used by the IIR
 *   notebook, where blurred = kernel (*) sharp must hold exactly.
 *
 * Frames are averaged in linear light (stored value v -> v^2.2, mean, -> ^(1/2.2)), like
 * GoPro's `blur_gamma`; `average: "stored"` averages stored values directly, like GoPro's
 * `blur`. Both averages of the same frames are always returned. Optional Gaussian noise
 * is added after averaging (same noise field for both). Everything is deterministic for a
 * seed (lib/data/prng.ts).
 *
 * Coordinates: pixel (x, y) has its centre at (x + 0.5, y + 0.5); sampling is bilinear with
 * symmetric (mirror) extension at the borders.
 *
 * Browser-compatible: pure TypeScript on Float32Array.
 */
import { InputError } from "./errors.ts";
import { assertImage, createImage, type RgbImage } from "./image.ts";
import { Rng } from "./prng.ts";

export type BlurMode = "dynamic" | "camera" | "uniform";
/**
 * The sharp target of a dynamic or camera pair. "middle": the middle frame, as GoPro. With
 * these random trajectories the middle frame sits about a tenth of the path length from the
 * blur's centre (the path's mean), so which pose the target shows is barely visible in the
 * blur, and a target one frame off scores about as well as the blurry input
 * (docs/data.md#the-synthetic-benchmark). "centroid": a frame rendered at the mean of every
 * motion parameter over the frames (translation, rotation, zoom; each object's position and
 * spin), the pose the blur is centred on.
 */
export type SharpTarget = "middle" | "centroid";
export const SHARP_TARGETS: readonly SharpTarget[] = ["middle", "centroid"];
export const BLUR_MODES: readonly BlurMode[] = ["dynamic", "camera", "uniform"];
/** "linear": average v^gamma (GoPro blur_gamma); "stored": average v (GoPro blur). */
export type AverageSpace = "linear" | "stored";
export const DEFAULT_GAMMA = 2.2;
/** Frame counts GoPro used (7 to 13 frames of 240 fps video); odd so a middle frame exists. */
export const GOPRO_FRAME_COUNTS = [7, 9, 11, 13] as const;

/** Average equally weighted frames, either of stored values or in linear light. */
export function averageFrames(
  frames: readonly RgbImage[],
  space: AverageSpace = "linear",
  gamma = DEFAULT_GAMMA,
): RgbImage {
  if (frames.length === 0) throw new InputError("averageFrames: no frames");
  const { width, height } = frames[0];
  for (const f of frames) {
    if (f.width !== width || f.height !== height) {
      throw new InputError(
        `averageFrames: frames differ in size (${width}x${height} vs ${f.width}x${f.height})`,
      );
    }
  }
  const n = frames[0].data.length;
  const acc = new Float64Array(n);
  if (space === "stored") {
    for (const f of frames) for (let i = 0; i < n; i++) acc[i] += f.data[i];
  } else {
    for (const f of frames) for (let i = 0; i < n; i++) acc[i] += toLinear(f.data[i], gamma);
  }
  const out = new Float32Array(n);
  const inv = 1 / frames.length;
  for (let i = 0; i < n; i++) {
    out[i] = space === "stored" ? acc[i] * inv : fromLinear(acc[i] * inv, gamma);
  }
  return { width, height, data: out };
}

/** Stored value to linear light (values below 0 clamp to 0). */
export function toLinear(v: number, gamma = DEFAULT_GAMMA): number {
  return v > 0 ? Math.pow(v, gamma) : 0;
}

/** Linear light to stored value. */
export function fromLinear(v: number, gamma = DEFAULT_GAMMA): number {
  return v > 0 ? Math.pow(v, 1 / gamma) : 0;
}

/** Mirror an integer index into [0, n) (symmetric: ... 1 0 | 0 1 ... n-1 | n-1 n-2 ...). */
function mirror(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  const p = 2 * n;
  i = ((i % p) + p) % p;
  return i < n ? i : p - 1 - i;
}

/** Bilinear sample of `img` at continuous point (u, v) (pixel centres at +0.5) into out[o..o+2]. */
function sample(img: RgbImage, u: number, v: number, out: Float64Array, o: number): void {
  const x = u - 0.5, y = v - 0.5;
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const tx = x - x0, ty = y - y0;
  const w = img.width, h = img.height, d = img.data;
  const xa = mirror(x0, w), xb = mirror(x0 + 1, w), ya = mirror(y0, h), yb = mirror(y0 + 1, h);
  const i00 = (ya * w + xa) * 3,
    i01 = (ya * w + xb) * 3,
    i10 = (yb * w + xa) * 3,
    i11 = (yb * w + xb) * 3;
  const w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty, w11 = tx * ty;
  out[o] = d[i00] * w00 + d[i01] * w01 + d[i10] * w10 + d[i11] * w11;
  out[o + 1] = d[i00 + 1] * w00 + d[i01 + 1] * w01 + d[i10 + 1] * w10 + d[i11 + 1] * w11;
  out[o + 2] = d[i00 + 2] * w00 + d[i01 + 2] * w01 + d[i10 + 2] * w10 + d[i11 + 2] * w11;
}

/**
 * A smooth 1-D random walk of n samples: velocity is itself a random walk (momentum plus
 * jitter), position its running sum, re-centred so the middle sample is 0.
 */
function smoothWalk(rng: Rng, n: number, jitter = 0.6): number[] {
  const p = [0];
  let v = rng.normal();
  for (let t = 1; t < n; t++) {
    v = 0.8 * v + jitter * rng.normal();
    p.push(p[t - 1] + v);
  }
  const mid = p[(n - 1) >> 1];
  return p.map((x) => x - mid);
}

/** A 2-D smooth walk scaled so its total path length is `length`. */
function walk2d(rng: Rng, n: number, length: number): { x: number[]; y: number[] } {
  const x = smoothWalk(rng, n), y = smoothWalk(rng, n);
  let len = 0;
  for (let t = 1; t < n; t++) len += Math.hypot(x[t] - x[t - 1], y[t] - y[t - 1]);
  const s = len > 1e-12 ? length / len : 0;
  return { x: x.map((v) => v * s), y: y.map((v) => v * s) };
}

/** A 1-D smooth walk scaled so its range (max - min) is `extent`. */
function walk1d(rng: Rng, n: number, extent: number): number[] {
  const p = smoothWalk(rng, n);
  const r = Math.max(...p) - Math.min(...p);
  const s = r > 1e-12 ? extent / r : 0;
  return p.map((v) => v * s);
}

export interface View {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SynthOptions {
  /** Seed (number or string); the same seed gives the same result. Default 0. */
  seed?: number | string;
  /** "dynamic" (default), "camera" or "uniform". */
  mode?: BlurMode;
  /** Number of frames, odd, 3..63; default a random pick of 7, 9, 11, 13 (GoPro's range). */
  frames?: number;
  /** Which average `blurred` is (both are returned). Default "linear" ("stored" for uniform). */
  average?: AverageSpace;
  gamma?: number;
  /** Multiplies every motion magnitude (default 1). */
  strength?: number;
  /** Number of moving objects in dynamic mode (default random 1..3). */
  objects?: number;
  /** Standard deviation of Gaussian noise added after averaging (stored units; default 0). */
  noise?: number;
  /** Output window in source-image pixels (default the whole image); frames sample around it. */
  view?: View;
  /** Length in px that motion magnitudes are relative to (default the view's longer side). */
  referenceSize?: number;
  /** Keep the rendered frames in the result (default false). */
  keepFrames?: boolean;
  /** Which pose the sharp target shows (dynamic and camera modes); see SharpTarget. */
  target?: SharpTarget;
  /** Uniform mode: kernel size (odd); default fits the trajectory. */
  kernelSize?: number;
}

export interface Kernel {
  size: number;
  /** size x size, row-major, sums to 1. Entry (i, j) weights the source pixel at offset (i - c, j - c), c = (size-1)/2. */
  data: Float32Array;
}

export interface ObjectMeta {
  /** Centre (source coords) in the sharp target, and the blob's radii. */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Total path length of the object's own motion, px. */
  pathLength: number;
}

export interface SynthResult {
  /** The blurred image, averaged as `average` says, noise added, clamped to [0, 1]. */
  blurred: RgbImage;
  /** Both averages (same frames, same noise). */
  blurLinear: RgbImage;
  blurStored: RgbImage;
  /** The sharp target: the middle frame, or the centroid pose (`target`). */
  sharp: RgbImage;
  /** Per pixel: length (px) of the path the visible surface point travels across the frames. */
  motion: Float32Array;
  frames?: RgbImage[];
  kernel?: Kernel;
  meta: {
    mode: BlurMode;
    seed: number;
    frames: number;
    average: AverageSpace;
    gamma: number;
    noise: number;
    camera: { pathLength: number; rotationDeg: number; zoom: number };
    objects: ObjectMeta[];
  };
}

interface Blob {
  cx: number[]; // per frame, source coords
  cy: number[];
  rot: number[]; // per frame, radians
  rx: number;
  ry: number;
  orient: number;
  harm: { k: number; a: number; ph: number }[];
  /** texture source centre (source coords) */
  tx: number;
  ty: number;
  reach: number; // max radius incl. harmonics
}

/** Alpha of the blob at local (unrotated-by-orientation) coords; soft edge about 1 px wide. */
function blobAlpha(b: Blob, lx: number, ly: number): number {
  const co = Math.cos(b.orient), so = Math.sin(b.orient);
  const ex = (co * lx + so * ly) / b.rx, ey = (-so * lx + co * ly) / b.ry;
  const r = Math.hypot(ex, ey);
  if (r > 1.6) return 0;
  const phi = Math.atan2(ey, ex);
  let shape = 1;
  for (const h of b.harm) shape += h.a * Math.cos(h.k * phi + h.ph);
  // signed distance in px, approximately: (shape - r) * mean radius
  const dist = (shape - r) * Math.min(b.rx, b.ry);
  return dist >= 0.5 ? 1 : dist <= -0.5 ? 0 : dist + 0.5;
}

function checkOptions(img: RgbImage, o: SynthOptions) {
  assertImage(img, "sharp image");
  const mode = o.mode ?? "dynamic";
  if (!BLUR_MODES.includes(mode)) {
    throw new InputError(`unknown blur mode "${mode}" (use dynamic, camera or uniform)`);
  }
  const view = o.view ?? { x: 0, y: 0, width: img.width, height: img.height };
  if (
    !Number.isInteger(view.x) || !Number.isInteger(view.y) || view.width < 1 || view.height < 1 ||
    view.x < 0 || view.y < 0 || view.x + view.width > img.width ||
    view.y + view.height > img.height
  ) {
    throw new InputError(
      `view ${view.width}x${view.height}+${view.x}+${view.y} does not fit in the ${img.width}x${img.height} image`,
    );
  }
  if (
    o.frames !== undefined &&
    (!Number.isInteger(o.frames) || o.frames < 3 || o.frames > 63 || o.frames % 2 === 0)
  ) {
    throw new InputError(`frames must be an odd integer in 3..63, got ${o.frames}`);
  }
  for (
    const [k, v] of [["strength", o.strength], ["noise", o.noise], ["gamma", o.gamma]] as const
  ) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new InputError(`${k} must be a finite number >= 0, got ${v}`);
    }
  }
  if (o.gamma !== undefined && o.gamma <= 0) throw new InputError(`gamma must be > 0`);
  if (
    o.objects !== undefined && !(Number.isInteger(o.objects) && o.objects >= 0 && o.objects <= 16)
  ) {
    throw new InputError(`objects must be an integer in 0..16, got ${o.objects}`);
  }
  if (o.target !== undefined && !SHARP_TARGETS.includes(o.target)) {
    throw new InputError(`target must be "middle" or "centroid", got "${o.target}"`);
  }
  if (o.average !== undefined && o.average !== "linear" && o.average !== "stored") {
    throw new InputError(`average must be "linear" or "stored", got "${o.average}"`);
  }
  return { mode, view };
}

/** Render a blurred/sharp pair from one sharp photo. See the module comment. */
export function synthesizeBlur(img: RgbImage, opts: SynthOptions = {}): SynthResult {
  const { mode, view } = checkOptions(img, opts);
  const rng = new Rng(opts.seed ?? 0);
  if (mode === "uniform") return uniformBlur(img, view, rng, opts);
  const gamma = opts.gamma ?? DEFAULT_GAMMA;
  const strength = opts.strength ?? 1;
  const ref = opts.referenceSize ?? Math.max(view.width, view.height);
  const nf = opts.frames ?? rng.fork("frames").pick(GOPRO_FRAME_COUNTS);
  const mid = (nf - 1) >> 1;

  // camera trajectory: translation path length, rotation and zoom ranges
  const cr = rng.fork("camera");
  const camLen = cr.range(0.005, 0.03) * ref * strength;
  const rotRange = cr.range(0, 1.0) * (Math.PI / 180) * strength;
  const zoomRange = cr.range(0, 0.015) * strength;
  const tr = walk2d(cr, nf, camLen);
  const rot = walk1d(cr, nf, rotRange);
  const zoom = walk1d(cr, nf, zoomRange);
  const pcx = view.x + view.width * cr.range(0.3, 0.7);
  const pcy = view.y + view.height * cr.range(0.3, 0.7);
  // camera transform t: output pixel centre p (view coords) -> source point
  // q = pc + s R (p + view.xy - pc) + d
  const pose = (tx: number, ty: number, r: number, z: number) => {
    const s = Math.exp(z), c = Math.cos(r) * s, n = Math.sin(r) * s;
    return { a: c, b: -n, c: n, d: c, ex: pcx + tx, ey: pcy + ty };
  };
  const cam = Array.from({ length: nf }, (_, t) => pose(tr.x[t], tr.y[t], rot[t], zoom[t]));

  // foreground objects
  const blobs: Blob[] = [];
  if (mode === "dynamic") {
    const or = rng.fork("objects");
    const count = opts.objects ?? 1 + or.int(3);
    const minSide = Math.min(view.width, view.height);
    for (let k = 0; k < count; k++) {
      const r = or.fork(k);
      const rx = r.range(0.1, 0.25) * minSide, ry = rx * r.range(0.5, 1.0);
      const harm = [2, 3, 5].map((kk) => ({
        k: kk,
        a: r.range(0, 0.12),
        ph: r.range(0, 2 * Math.PI),
      }));
      const reach = Math.max(rx, ry) * (1 + harm.reduce((s, h) => s + h.a, 0)) + 2;
      const cx0 = view.x + r.range(0.15, 0.85) * view.width;
      const cy0 = view.y + r.range(0.15, 0.85) * view.height;
      const len = r.range(0.015, 0.05) * ref * strength;
      const path = walk2d(r, nf, len);
      const spin = walk1d(r, nf, r.range(0, 6) * (Math.PI / 180) * strength);
      blobs.push({
        cx: path.x.map((v) => cx0 + v),
        cy: path.y.map((v) => cy0 + v),
        rot: spin,
        rx,
        ry,
        orient: r.range(0, Math.PI),
        harm,
        tx: r.range(reach, Math.max(reach + 1, img.width - reach)),
        ty: r.range(reach, Math.max(reach + 1, img.height - reach)),
        reach,
      });
    }
  }

  // the target pose: the middle frame, or one more pose (index nf, rendered but not averaged)
  // at the mean of every motion parameter; no random draws, so "middle" pairs are unchanged
  const centroid = (opts.target ?? "middle") === "centroid";
  const tgt = centroid ? nf : mid;
  if (centroid) {
    cam.push(pose(mean(tr.x), mean(tr.y), mean(rot), mean(zoom)));
    for (const b of blobs) {
      b.cx.push(mean(b.cx));
      b.cy.push(mean(b.cy));
      b.rot.push(mean(b.rot));
    }
  }

  const W = view.width, H = view.height, N = W * H;
  const accLin = new Float64Array(N * 3), accSt = new Float64Array(N * 3);
  const sharp = createImage(W, H);
  const frames: RgbImage[] = [];
  const px = new Float64Array(3), ox = new Float64Array(3);
  // motion map: which layer (-1 = background) is visible in the target
  const layerMid = new Int8Array(N).fill(-1); // -1 = background
  const pathLen = new Float64Array(N);
  for (let t = 0; t < cam.length; t++) {
    const T = cam[t];
    const averaged = t < nf;
    const frame = (opts.keepFrames && averaged) || t === tgt ? createImage(W, H) : undefined;
    const boxes = blobs.map((b) => ({
      x0: b.cx[t] - b.reach,
      x1: b.cx[t] + b.reach,
      y0: b.cy[t] - b.reach,
      y1: b.cy[t] + b.reach,
      c: Math.cos(-b.rot[t]),
      s: Math.sin(-b.rot[t]),
    }));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const lx = x + 0.5 + view.x - pcx, ly = y + 0.5 + view.y - pcy;
        const qx = T.a * lx + T.b * ly + T.ex, qy = T.c * lx + T.d * ly + T.ey;
        sample(img, qx, qy, px, 0);
        let layer = -1;
        for (let k = 0; k < blobs.length; k++) {
          const bx = boxes[k];
          if (qx < bx.x0 || qx > bx.x1 || qy < bx.y0 || qy > bx.y1) continue;
          const b = blobs[k];
          const dx = qx - b.cx[t], dy = qy - b.cy[t];
          const ux = bx.c * dx - bx.s * dy, uy = bx.s * dx + bx.c * dy;
          const al = blobAlpha(b, ux, uy);
          if (al <= 0) continue;
          sample(img, b.tx + ux, b.ty + uy, ox, 0);
          px[0] += al * (ox[0] - px[0]);
          px[1] += al * (ox[1] - px[1]);
          px[2] += al * (ox[2] - px[2]);
          if (al >= 0.5) layer = k;
        }
        const o = i * 3;
        for (let c = 0; c < 3; c++) {
          const v = px[c] < 0 ? 0 : px[c] > 1 ? 1 : px[c];
          if (averaged) {
            accSt[o + c] += v;
            accLin[o + c] += toLinear(v, gamma);
          }
          if (frame) frame.data[o + c] = v;
        }
        if (t === tgt) layerMid[i] = layer;
      }
    }
    if (t === tgt) sharp.data.set(frame!.data);
    if (opts.keepFrames && averaged) frames.push(frame!);
  }
  // motion map: path length of the target-visible surface point, measured in that
  // layer's texture coordinates, frame to frame
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x, k = layerMid[i];
      let len = 0, pu = 0, pv = 0;
      for (let t = 0; t < nf; t++) {
        const T = cam[t];
        const lx = x + 0.5 + view.x - pcx, ly = y + 0.5 + view.y - pcy;
        let qx = T.a * lx + T.b * ly + T.ex, qy = T.c * lx + T.d * ly + T.ey;
        if (k >= 0) {
          const b = blobs[k];
          const dx = qx - b.cx[t], dy = qy - b.cy[t];
          const c = Math.cos(-b.rot[t]), s = Math.sin(-b.rot[t]);
          qx = b.tx + c * dx - s * dy;
          qy = b.ty + s * dx + c * dy;
        }
        if (t > 0) len += Math.hypot(qx - pu, qy - pv);
        pu = qx;
        pv = qy;
      }
      pathLen[i] = len;
    }
  }
  const average: AverageSpace = opts.average ?? "linear";
  const noise = opts.noise ?? 0;
  const { lin, st } = finishAverages(accLin, accSt, nf, W, H, gamma, noise, rng.fork("noise"));
  return {
    blurred: average === "linear" ? lin : st,
    blurLinear: lin,
    blurStored: st,
    sharp,
    motion: Float32Array.from(pathLen),
    frames: opts.keepFrames ? frames : undefined,
    meta: {
      mode,
      seed: rng.seed,
      frames: nf,
      average,
      gamma,
      noise,
      camera: { pathLength: camLen, rotationDeg: (rotRange * 180) / Math.PI, zoom: zoomRange },
      objects: blobs.map((b) => {
        let len = 0;
        for (let t = 1; t < nf; t++) {
          len += Math.hypot(b.cx[t] - b.cx[t - 1], b.cy[t] - b.cy[t - 1]);
        }
        return { cx: b.cx[tgt], cy: b.cy[tgt], rx: b.rx, ry: b.ry, pathLength: len };
      }),
    },
  };
}

function mean(a: readonly number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

function finishAverages(
  accLin: Float64Array,
  accSt: Float64Array,
  nf: number,
  W: number,
  H: number,
  gamma: number,
  noise: number,
  nr: Rng,
) {
  const lin = createImage(W, H), st = createImage(W, H);
  for (let i = 0; i < accLin.length; i++) {
    const e = noise > 0 ? nr.normal(0, noise) : 0;
    const a = fromLinear(accLin[i] / nf, gamma) + e, b = accSt[i] / nf + e;
    lin.data[i] = a < 0 ? 0 : a > 1 ? 1 : a;
    st.data[i] = b < 0 ? 0 : b > 1 ? 1 : b;
  }
  return { lin, st };
}

/**
 * A camera-shake kernel: a random-walk trajectory (inertia, jitter and occasional jerks,
 * after Boracchi and Foi 2012) of the given path length, rasterised by bilinear splatting,
 * centred on its centroid and normalised to sum 1. Size is odd.
 */
export function randomShakeKernel(rng: Rng, pathLength: number, size?: number): Kernel {
  const steps = 64;
  const pts: [number, number][] = [[0, 0]];
  let vx = Math.cos(rng.range(0, 2 * Math.PI)), vy = Math.sin(rng.range(0, 2 * Math.PI));
  let x = 0, y = 0;
  for (let t = 1; t < steps; t++) {
    vx = 0.85 * vx + 0.35 * rng.normal();
    vy = 0.85 * vy + 0.35 * rng.normal();
    if (rng.bool(0.04)) {
      vx += 1.5 * rng.normal();
      vy += 1.5 * rng.normal();
    }
    x += vx;
    y += vy;
    pts.push([x, y]);
  }
  let len = 0;
  for (let t = 1; t < steps; t++) {
    len += Math.hypot(pts[t][0] - pts[t - 1][0], pts[t][1] - pts[t - 1][1]);
  }
  const s = len > 0 ? pathLength / len : 0;
  let mx = 0, my = 0;
  for (const p of pts) {
    p[0] *= s;
    p[1] *= s;
    mx += p[0] / steps;
    my += p[1] / steps;
  }
  let ext = 0;
  for (const p of pts) {
    p[0] -= mx;
    p[1] -= my;
    ext = Math.max(ext, Math.abs(p[0]), Math.abs(p[1]));
  }
  const k = size ?? 2 * Math.ceil(ext + 1) + 1;
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0) {
    throw new InputError(`kernel size must be an odd integer, got ${k}`);
  }
  const c = (k - 1) / 2;
  const acc = new Float64Array(k * k);
  // splat densely along each segment so the kernel is a continuous stroke
  for (let t = 1; t < steps; t++) {
    const [ax, ay] = pts[t - 1], [bx, by] = pts[t];
    const sub = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) * 4));
    for (let j = 0; j < sub; j++) {
      const f = (j + 0.5) / sub;
      const px = ax + (bx - ax) * f + c, py = ay + (by - ay) * f + c;
      const x0 = Math.floor(px), y0 = Math.floor(py), fx = px - x0, fy = py - y0;
      const put = (xx: number, yy: number, w: number) => {
        if (xx >= 0 && xx < k && yy >= 0 && yy < k) acc[yy * k + xx] += w;
      };
      put(x0, y0, (1 - fx) * (1 - fy));
      put(x0 + 1, y0, fx * (1 - fy));
      put(x0, y0 + 1, (1 - fx) * fy);
      put(x0 + 1, y0 + 1, fx * fy);
    }
  }
  let sum = 0;
  for (const v of acc) sum += v;
  const data = new Float32Array(k * k);
  if (sum <= 0) data[c * k + c] = 1;
  else for (let i = 0; i < acc.length; i++) data[i] = acc[i] / sum;
  return { size: k, data };
}

/**
 * blurred(y, x) = sum_{i,j} K(i, j) * img(y + i - c, x + j - c), mirror extension at the
 * borders (a correlation with K; equivalently a convolution with K rotated by 180 degrees).
 * `space: "linear"` applies it to v^gamma and maps back.
 */
export function applyKernel(
  img: RgbImage,
  kernel: Kernel,
  space: AverageSpace = "stored",
  gamma = DEFAULT_GAMMA,
): RgbImage {
  const { width: W, height: H } = img;
  const k = kernel.size, c = (k - 1) / 2;
  const src = space === "linear" ? img.data.map((v) => toLinear(v, gamma)) : img.data;
  const taps: { dy: number; dx: number; w: number }[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = kernel.data[i * k + j];
      if (w !== 0) taps.push({ dy: i - c, dx: j - c, w });
    }
  }
  const acc = new Float64Array(W * H * 3);
  for (const { dy, dx, w } of taps) {
    for (let y = 0; y < H; y++) {
      const sy = mirror(y + dy, H);
      for (let x = 0; x < W; x++) {
        const s = (sy * W + mirror(x + dx, W)) * 3, d = (y * W + x) * 3;
        acc[d] += w * src[s];
        acc[d + 1] += w * src[s + 1];
        acc[d + 2] += w * src[s + 2];
      }
    }
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    out[i] = space === "linear" ? fromLinear(acc[i], gamma) : acc[i];
  }
  return { width: W, height: H, data: out };
}

function uniformBlur(img: RgbImage, view: View, rng: Rng, opts: SynthOptions): SynthResult {
  const gamma = opts.gamma ?? DEFAULT_GAMMA;
  const strength = opts.strength ?? 1;
  const ref = opts.referenceSize ?? Math.max(view.width, view.height);
  const kr = rng.fork("kernel");
  const len = kr.range(0.01, 0.04) * ref * strength;
  const kernel = randomShakeKernel(kr, len, opts.kernelSize);
  // blur a window padded by the kernel radius so the view's borders see real content
  const c = (kernel.size - 1) / 2;
  const px0 = Math.max(0, view.x - c), py0 = Math.max(0, view.y - c);
  const px1 = Math.min(img.width, view.x + view.width + c);
  const py1 = Math.min(img.height, view.y + view.height + c);
  const padded = cropRect(img, px0, py0, px1 - px0, py1 - py0);
  const lin = cropRect(
    applyKernel(padded, kernel, "linear", gamma),
    view.x - px0,
    view.y - py0,
    view.width,
    view.height,
  );
  const st = cropRect(
    applyKernel(padded, kernel, "stored"),
    view.x - px0,
    view.y - py0,
    view.width,
    view.height,
  );
  const sharp = cropRect(img, view.x, view.y, view.width, view.height);
  const noise = opts.noise ?? 0;
  const nr = rng.fork("noise");
  for (let i = 0; i < lin.data.length; i++) {
    const e = noise > 0 ? nr.normal(0, noise) : 0;
    const a = lin.data[i] + e, b = st.data[i] + e;
    lin.data[i] = a < 0 ? 0 : a > 1 ? 1 : a;
    st.data[i] = b < 0 ? 0 : b > 1 ? 1 : b;
  }
  const average: AverageSpace = opts.average ?? "stored";
  const pathLength = len; // the kernel trajectory's path length, by construction
  return {
    blurred: average === "linear" ? lin : st,
    blurLinear: lin,
    blurStored: st,
    sharp,
    motion: new Float32Array(view.width * view.height).fill(pathLength),
    kernel,
    meta: {
      mode: "uniform",
      seed: rng.seed,
      frames: 0,
      average,
      gamma,
      noise,
      camera: { pathLength, rotationDeg: 0, zoom: 0 },
      objects: [],
    },
  };
}

function cropRect(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  if (x === 0 && y === 0 && w === img.width && h === img.height) {
    return { width: w, height: h, data: img.data.slice() };
  }
  const out = new Float32Array(w * h * 3);
  for (let r = 0; r < h; r++) {
    const s = ((y + r) * img.width + x) * 3;
    out.set(img.data.subarray(s, s + w * 3), r * w * 3);
  }
  return { width: w, height: h, data: out };
}
