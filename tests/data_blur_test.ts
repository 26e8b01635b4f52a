// Blur synthesis (dynamic, camera, uniform), frame averaging and video-to-pairs logic.
import assert from "node:assert/strict";
import {
  applyKernel,
  averageFrames,
  fromLinear,
  randomShakeKernel,
  synthesizeBlur,
} from "#lib/data/blur.ts";
import { createImage, cropImage, resizeImage, type RgbImage } from "#lib/data/image.ts";
import { readImage, writeImage } from "#lib/data/image_io.ts";
import { Rng } from "#lib/data/prng.ts";
import { mse } from "#lib/eval/metrics.ts";
import { framesToPairs } from "#lib/data/video.ts";
import { decodeVideo, probeVideo, videoToPairs } from "#lib/data/video_io.ts";

const FIX = new URL("../data/fixtures/", import.meta.url).pathname;
// a 160x120 crop of a fixture keeps every synthesis test fast
const photo = cropImage(await readImage(FIX + "chelsea.png"), 100, 60, 160, 120);

function noiseTexture(w: number, h: number, seed = 1): RgbImage {
  const r = new Rng(seed), img = createImage(w, h);
  for (let i = 0; i < img.data.length; i += 3) {
    const v = r.uniform();
    img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
  }
  return img;
}

function maxAbsDiff(a: RgbImage, b: RgbImage) {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Mean absolute horizontal+vertical gradient of the luma over a tile. */
function tileEnergy(img: RgbImage, x0: number, y0: number, s: number) {
  let e = 0;
  for (let y = y0; y < y0 + s - 1; y++) {
    for (let x = x0; x < x0 + s - 1; x++) {
      const i = (y * img.width + x) * 3;
      e += Math.abs(img.data[i + 3] - img.data[i]) +
        Math.abs(img.data[i + img.width * 3] - img.data[i]);
    }
  }
  return e / ((s - 1) * (s - 1));
}

Deno.test("same seed, same blurred image (every mode); another seed differs", () => {
  for (const mode of ["dynamic", "camera", "uniform"] as const) {
    const a = synthesizeBlur(photo, { seed: 11, mode });
    const b = synthesizeBlur(photo, { seed: 11, mode });
    assert.deepEqual(a.blurred.data, b.blurred.data, mode);
    assert.deepEqual(a.sharp.data, b.sharp.data, mode);
    assert.deepEqual(a.meta, b.meta, mode);
    const c = synthesizeBlur(photo, { seed: 12, mode });
    assert.ok(maxAbsDiff(a.blurred, c.blurred) > 0.01, `${mode}: seeds 11 and 12 agree`);
    assert.ok(maxAbsDiff(a.blurred, a.sharp) > 0.05, `${mode}: blurred equals sharp`);
  }
  // noise is part of the seed's determinism too
  const n1 = synthesizeBlur(photo, { seed: "s", noise: 0.02, frames: 7 });
  const n2 = synthesizeBlur(photo, { seed: "s", noise: 0.02, frames: 7 });
  assert.deepEqual(n1.blurred.data, n2.blurred.data);
});

Deno.test("the sharp target is the middle frame; camera mode's middle frame is the input", () => {
  const r = synthesizeBlur(photo, { seed: 3, mode: "dynamic", frames: 9, keepFrames: true });
  assert.equal(r.frames!.length, 9);
  assert.deepEqual(r.sharp.data, r.frames![4].data);
  assert.notDeepEqual(r.frames![0].data, r.frames![4].data);
  // the blurred image is the average of the kept frames
  const lin = averageFrames(r.frames!, "linear");
  const st = averageFrames(r.frames!, "stored");
  assert.ok(maxAbsDiff(lin, r.blurLinear) < 1e-5);
  assert.ok(maxAbsDiff(st, r.blurStored) < 1e-5);
  const cam = synthesizeBlur(photo, { seed: 3, mode: "camera", frames: 7 });
  assert.ok(maxAbsDiff(cam.sharp, photo) < 1e-6, "camera mode: target differs from the input");
  assert.equal(cam.meta.objects.length, 0);
});

Deno.test("centroid target: same blur, the pose the blur is centred on", () => {
  let closer = 0, gainSum = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    for (const mode of ["dynamic", "camera"] as const) {
      const m = synthesizeBlur(photo, { seed, mode, keepFrames: true });
      const c = synthesizeBlur(photo, { seed, mode, target: "centroid", keepFrames: true });
      // the frames and the blur are the target's business not at all
      assert.deepEqual(c.blurred.data, m.blurred.data);
      assert.deepEqual(c.blurStored.data, m.blurStored.data);
      assert.equal(c.frames!.length, m.frames!.length);
      assert.ok(maxAbsDiff(c.sharp, m.sharp) > 0.01, `seed ${seed} ${mode}: same target`);
      // the blur is centred on the centroid pose, not on the middle frame
      const dm = mse(m.blurred, m.sharp), dc = mse(m.blurred, c.sharp);
      if (dc < dm) closer++;
      gainSum += 10 * Math.log10(dm / dc);
    }
  }
  assert.ok(closer >= 10, `centroid closer to the blur in ${closer} of 12`);
  assert.ok(gainSum / 12 > 0.2, `mean ${gainSum / 12} dB`);
  // without motion the two targets are one image
  const still = synthesizeBlur(photo, { seed: 1, strength: 0, target: "centroid" });
  assert.ok(maxAbsDiff(still.sharp, synthesizeBlur(photo, { seed: 1, strength: 0 }).sharp) < 1e-6);
  assert.throws(
    () => synthesizeBlur(photo, { target: "first" as never }),
    /target must be "middle" or "centroid", got "first"/,
  );
});

Deno.test("averaging N identical frames returns the frame (linear and stored)", () => {
  const f = cropImage(photo, 0, 0, 40, 30);
  for (const space of ["linear", "stored"] as const) {
    const avg = averageFrames([f, f, f, f, f, f, f], space);
    assert.ok(maxAbsDiff(avg, f) < 2e-6, space);
  }
});

Deno.test("linear-light average differs from the stored-value average as expected", () => {
  // two frames, black and white: stored mean 0.5; linear mean 0.5^(1/2.2) = 0.7297
  const black = createImage(2, 2, 0), white = createImage(2, 2, 1);
  assert.ok(Math.abs(averageFrames([black, white], "stored").data[0] - 0.5) < 1e-7);
  const lin = averageFrames([black, white], "linear").data[0];
  assert.ok(Math.abs(lin - Math.pow(0.5, 1 / 2.2)) < 1e-6, `${lin}`);
  assert.ok(Math.abs(lin - 0.7297400528407231) < 1e-6);
  // 0.2 and 0.6: linear (power-2.2 mean) lies above the arithmetic mean
  const a = createImage(1, 1, 0.2), b = createImage(1, 1, 0.6);
  const expected = fromLinear((Math.pow(0.2, 2.2) + Math.pow(0.6, 2.2)) / 2);
  assert.ok(Math.abs(averageFrames([a, b], "linear").data[0] - expected) < 1e-6);
  assert.ok(expected > 0.4);
  // on a synthesised sequence: blur_gamma >= blur everywhere (power-mean inequality), and
  // strictly brighter somewhere
  const r = synthesizeBlur(photo, { seed: 5, frames: 11 });
  let above = 0;
  for (let i = 0; i < r.blurLinear.data.length; i++) {
    assert.ok(r.blurLinear.data[i] >= r.blurStored.data[i] - 1e-6);
    if (r.blurLinear.data[i] > r.blurStored.data[i] + 0.01) above++;
  }
  assert.ok(above > 100, `only ${above} values brighter`);
  assert.equal(r.blurred, r.blurLinear); // default average: linear
  assert.equal(synthesizeBlur(photo, { seed: 5, average: "stored" }).meta.average, "stored");
});

Deno.test("dynamic mode blurs different regions differently; uniform mode does not", () => {
  // an even texture (white noise magnified 3x) so that local sharpness loss only reflects blur;
  // per 32x32 tile: gradient energy of blurred / of sharp (1 = untouched, smaller = blurrier)
  const S = 192, tile = 32;
  const tex = resizeImage(noiseTexture(64, 64), S, S);
  const spread = (r: { blurStored: RgbImage; sharp: RgbImage }) => {
    const v: number[] = [];
    for (let y = 0; y + tile <= S; y += tile) {
      for (let x = 0; x + tile <= S; x += tile) {
        v.push(tileEnergy(r.blurStored, x, y, tile) / tileEnergy(r.sharp, x, y, tile));
      }
    }
    return Math.max(...v) - Math.min(...v);
  };
  let dynSum = 0, uniSum = 0;
  for (const seed of [21, 22, 23, 24]) {
    const dyn = synthesizeBlur(tex, {
      seed,
      mode: "dynamic",
      objects: 2,
      frames: 11,
      strength: 1.5,
    });
    const sd = spread(dyn);
    assert.ok(sd > 0.2, `seed ${seed}: dynamic tile blur-strength spread only ${sd}`);
    dynSum += sd;
    uniSum += spread(synthesizeBlur(tex, { seed, mode: "uniform", strength: 1.5 }));
    // the motion map agrees: the objects travel further than the background
    assert.ok(Math.max(...dyn.motion) > 2 * Math.min(...dyn.motion), "motion map nearly constant");
    assert.equal(dyn.meta.objects.length, 2);
  }
  assert.ok(dynSum > 2.5 * uniSum, `dynamic spread ${dynSum / 4} vs uniform ${uniSum / 4}`);
});

Deno.test("uniform mode: kernel sums to 1 and blurred = kernel applied to the sharp image", () => {
  const r = synthesizeBlur(photo, { seed: 8, mode: "uniform" });
  const k = r.kernel!;
  assert.equal(k.size % 2, 1);
  let sum = 0;
  for (const v of k.data) {
    assert.ok(v >= 0);
    sum += v;
  }
  assert.ok(Math.abs(sum - 1) < 1e-5, `kernel sum ${sum}`);
  assert.equal(r.meta.average, "stored");
  assert.ok(maxAbsDiff(applyKernel(r.sharp, k, "stored"), r.blurStored) < 0.02); // borders differ
  const inner = (img: RgbImage) =>
    cropImage(img, k.size, k.size, img.width - 2 * k.size, img.height - 2 * k.size);
  assert.ok(maxAbsDiff(inner(applyKernel(r.sharp, k, "stored")), inner(r.blurStored)) < 1e-5);
  // a delta kernel is the identity
  const delta = { size: 3, data: new Float32Array([0, 0, 0, 0, 1, 0, 0, 0, 0]) };
  assert.ok(maxAbsDiff(applyKernel(photo, delta), photo) < 1e-7);
  // kernels from the same generator state are identical, and span roughly the path length
  const k1 = randomShakeKernel(new Rng(1), 15), k2 = randomShakeKernel(new Rng(1), 15);
  assert.deepEqual(k1.data, k2.data);
  assert.ok(k1.size >= 5 && k1.size <= 33, `size ${k1.size}`);
});

Deno.test("synthesis options are checked", () => {
  assert.throws(() => synthesizeBlur(photo, { frames: 8 }), /frames must be an odd integer/);
  assert.throws(() => synthesizeBlur(photo, { mode: "zoom" as never }), /unknown blur mode "zoom"/);
  assert.throws(
    () => synthesizeBlur(photo, { view: { x: 100, y: 0, width: 100, height: 10 } }),
    /does not fit/,
  );
  assert.throws(() => synthesizeBlur(photo, { noise: -1 }), /noise must be/);
});

function frameSeq(n: number, w = 6, h = 4): RgbImage[] {
  return Array.from({ length: n }, (_, i) => createImage(w, h, i / (n - 1)));
}

Deno.test("video to pairs: windows of N frames, middle frame sharp, both averages", async () => {
  const frames = frameSeq(23);
  const pairs = [];
  for await (const p of framesToPairs(frames, { window: 7 })) pairs.push(p);
  assert.equal(pairs.length, 3); // frames 0-6, 7-13, 14-20; 21-22 left over
  assert.deepEqual(pairs.map((p) => p.firstFrame), [0, 7, 14]);
  for (const p of pairs) {
    assert.deepEqual(p.sharp.data, frames[p.firstFrame + 3].data);
    const win = frames.slice(p.firstFrame, p.firstFrame + 7);
    const mean = win.reduce((s, f) => s + f.data[0], 0) / 7;
    assert.ok(Math.abs(p.blur.data[0] - mean) < 1e-6);
    const lin = fromLinear(win.reduce((s, f) => s + Math.pow(f.data[0], 2.2), 0) / 7);
    assert.ok(Math.abs(p.blurGamma.data[0] - lin) < 1e-6);
  }
  // stride < window: overlapping windows; maxPairs stops early
  const over = [];
  for await (const p of framesToPairs(frames, { window: 5, stride: 2, maxPairs: 4 })) {
    over.push(p.firstFrame);
  }
  assert.deepEqual(over, [0, 2, 4, 6]);
  // identical frames: blurred equals the frame
  const same = Array.from({ length: 9 }, () => photo);
  for await (const p of framesToPairs(same, { window: 9 })) {
    assert.ok(maxAbsDiff(p.blurGamma, photo) < 2e-6);
    assert.ok(maxAbsDiff(p.blur, photo) < 2e-6);
  }
  await assert.rejects(async () => {
    for await (const _ of framesToPairs(frames, { window: 4 })) { /* none */ }
  }, /window must be an odd number/);
});

async function hasFfmpeg(): Promise<boolean> {
  try {
    const o = await new Deno.Command("ffmpeg", {
      args: ["-version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return o.success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "video decode via ffmpeg (skipped when ffmpeg is absent): lossless video round trip",
  ignore: !(await hasFfmpeg()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // 9 frames of distinct flat colours, encoded losslessly (FFV1 RGB) by ffmpeg
      const frames = Array.from({ length: 9 }, (_, i) => createImage(16, 8, (i * 25 + 20) / 255));
      for (let i = 0; i < frames.length; i++) {
        await writeImage(`${dir}/f${String(i).padStart(3, "0")}.png`, frames[i]);
      }
      const enc = await new Deno.Command("ffmpeg", {
        args: [
          "-v",
          "error",
          "-framerate",
          "25",
          "-i",
          `${dir}/f%03d.png`,
          "-c:v",
          "ffv1",
          "-pix_fmt",
          "bgr0",
          `${dir}/v.mkv`,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(enc.success, new TextDecoder().decode(enc.stderr));
      const info = await probeVideo(`${dir}/v.mkv`);
      assert.deepEqual([info.width, info.height, info.fps], [16, 8, 25]);
      const decoded: RgbImage[] = [];
      for await (const f of decodeVideo(`${dir}/v.mkv`)) decoded.push(f);
      assert.equal(decoded.length, 9);
      for (let i = 0; i < 9; i++) assert.ok(maxAbsDiff(decoded[i], frames[i]) < 1e-6, `frame ${i}`);
      const r = await videoToPairs(`${dir}/v.mkv`, `${dir}/pairs`, { window: 3, sequence: "seq" });
      assert.equal(r.pairs, 3);
      const sharp1 = await readImage(`${dir}/pairs/seq/sharp/000001.png`);
      assert.ok(maxAbsDiff(sharp1, frames[4]) < 1e-6);
      const blur1 = await readImage(`${dir}/pairs/seq/blur/000001.png`);
      assert.ok(Math.abs(blur1.data[0] - Math.round((95 + 120 + 145) / 3) / 255) < 1e-6);
      await assert.rejects(() => probeVideo(`${dir}/nope.mp4`), /video file not found/);
      await Deno.writeTextFile(`${dir}/bad.mp4`, "not a video");
      await assert.rejects(() => probeVideo(`${dir}/bad.mp4`), /cannot read video .*bad\.mp4/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
