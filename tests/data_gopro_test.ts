// GoPro reader on a tiny fake GOPRO_Large tree, the patch sampler and the tensor helpers.
import assert from "node:assert/strict";
import { checkPairSizes, listGoProPairs, loadPair, type PairRef } from "#lib/data/gopro.ts";
import { createImage, type RgbImage } from "#lib/data/image.ts";
import { writeImage } from "#lib/data/image_io.ts";
import { type LoadedPair, PatchSampler } from "#lib/data/sampler.ts";
import { Rng } from "#lib/data/prng.ts";

function randomImage(w: number, h: number, seed: number): RgbImage {
  const r = new Rng(seed), img = createImage(w, h);
  for (let i = 0; i < img.data.length; i++) img.data[i] = Math.round(r.uniform() * 255) / 255;
  return img;
}

/** GOPRO_Large/{train,test}/SEQ/{blur,blur_gamma,sharp}/00000N.png with small images. */
async function fakeGoPro(root: string, sequences: Record<string, string[]>, size = [24, 16]) {
  let seed = 0;
  for (const [path, frames] of Object.entries(sequences)) {
    for (const f of frames) {
      for (const sub of ["blur", "blur_gamma", "sharp"]) {
        await writeImage(`${root}/${path}/${sub}/${f}`, randomImage(size[0], size[1], seed++));
      }
    }
  }
}

async function withTemp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "gopro_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("GoPro reader lists the pairs of a split, blur kind chosen explicitly", async () => {
  await withTemp(async (dir) => {
    const root = `${dir}/GOPRO_Large`;
    await fakeGoPro(root, {
      "train/GOPR0372_07_00": ["000047.png", "000048.png"],
      "train/GOPR0374_11_00": ["000001.png"],
      "test/GOPR0384_11_00": ["000001.png", "000002.png", "000003.png"],
    });
    const test = await listGoProPairs(root, { split: "test", blur: "blur_gamma" });
    assert.equal(test.length, 3);
    assert.equal(test[0].blur, `${root}/test/GOPR0384_11_00/blur_gamma/000001.png`);
    assert.equal(test[0].sharp, `${root}/test/GOPR0384_11_00/sharp/000001.png`);
    assert.equal(test[0].sequence, "GOPR0384_11_00");
    const train = await listGoProPairs(root, { split: "train", blur: "blur" });
    assert.deepEqual(train.map((p) => `${p.sequence}/${p.frame}`), [
      "GOPR0372_07_00/000047.png",
      "GOPR0372_07_00/000048.png",
      "GOPR0374_11_00/000001.png",
    ]);
    assert.ok(train.every((p) => p.blur.includes("/blur/")));
    // the parent folder of GOPRO_Large is accepted too
    assert.equal((await listGoProPairs(dir, { split: "test", blur: "blur" })).length, 3);
    const pair = await loadPair(test[1]);
    assert.deepEqual([pair.blur.width, pair.blur.height], [24, 16]);
    await checkPairSizes([...test, ...train]);
    await assert.rejects(
      () => listGoProPairs(root, { split: "test", blur: "gamma" as never }),
      /blur must be "blur" or "blur_gamma"/,
    );
  });
});

Deno.test("GoPro reader errors name what is missing or at fault", async () => {
  await withTemp(async (dir) => {
    await assert.rejects(
      () => listGoProPairs(`${dir}/nowhere`, { split: "test", blur: "blur" }),
      /GoPro folder not found: .*nowhere/,
    );
    const root = `${dir}/G`;
    await fakeGoPro(root, { "train/S1": ["000001.png"] });
    await assert.rejects(
      () => listGoProPairs(root, { split: "test", blur: "blur" }),
      /missing folder .*G\/test/,
    );
    await Deno.mkdir(`${root}/test`);
    await assert.rejects(
      () => listGoProPairs(root, { split: "test", blur: "blur" }),
      /G\/test is empty: no sequence folders/,
    );
    await Deno.mkdir(`${root}/test/S2/blur`, { recursive: true });
    await Deno.mkdir(`${root}/test/S2/sharp`, { recursive: true });
    await assert.rejects(
      () => listGoProPairs(root, { split: "test", blur: "blur_gamma" }),
      /test\/S2 does not match the GoPro layout: missing folder blur_gamma\//,
    );
    await assert.rejects(
      () => listGoProPairs(root, { split: "test", blur: "blur" }),
      /test\/S2\/blur is empty/,
    );
    await writeImage(`${root}/test/S2/blur/000005.png`, randomImage(8, 8, 1));
    await assert.rejects(
      () => listGoProPairs(root, { split: "test", blur: "blur" }),
      /S2\/blur\/000005\.png has no sharp partner: missing .*S2\/sharp\/000005\.png/,
    );
    // a pair of different sizes: both files named
    await writeImage(`${root}/test/S2/sharp/000005.png`, randomImage(9, 8, 2));
    const pairs = await listGoProPairs(root, { split: "test", blur: "blur" });
    const both = /S2\/blur\/000005\.png is 8x8, .*S2\/sharp\/000005\.png is 9x8/;
    await assert.rejects(() => loadPair(pairs[0]), both);
    await assert.rejects(() => checkPairSizes(pairs), both);
  });
});

function memoryPairs(
  n: number,
  w = 40,
  h = 30,
): { refs: number[]; load: (i: number) => Promise<LoadedPair>; loads: number[] } {
  const loads: number[] = [];
  return {
    refs: Array.from({ length: n }, (_, i) => i),
    loads,
    load: (i: number) => {
      loads.push(i);
      const sharp = randomImage(w, h, 100 + i);
      // "blurred" = sharp + 0.5 offset, so blur/sharp alignment can be checked
      const blur = { width: w, height: h, data: sharp.data.map((v) => v + 0.5) };
      return Promise.resolve({ blur, sharp });
    },
  };
}

Deno.test("patch sampler: seeded crops and flips, aligned pairs, every pair once per epoch", async () => {
  const src = memoryPairs(5);
  const mk = (seed: number) =>
    new PatchSampler({
      pairs: src.refs,
      load: src.load,
      patchSize: 8,
      batchSize: 5,
      seed,
      cacheSize: 2,
    });
  const a = await mk(1).next(), b = await mk(1).next(), c = await mk(2).next();
  assert.deepEqual(a.shape, [5, 8, 8, 3]);
  assert.equal(a.blur.length, 5 * 8 * 8 * 3);
  assert.deepEqual(a.blur, b.blur);
  assert.deepEqual(a.patches, b.patches);
  assert.notDeepEqual(a.patches, c.patches);
  // one epoch = each pair exactly once
  assert.deepEqual(a.patches.map((p) => p.pair).sort(), [0, 1, 2, 3, 4]);
  assert.equal(a.epoch, 0);
  // blurred and sharp patches come from the same place and flips
  for (let i = 0; i < a.blur.length; i++) assert.ok(Math.abs(a.blur[i] - a.sharp[i] - 0.5) < 1e-6);
  // patch content: check one patch against the source image, flips included
  const p = a.patches[0];
  const img = (await src.load(p.pair)).sharp;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const sx = p.x + (p.flipH ? 7 - x : x), sy = p.y + (p.flipV ? 7 - y : y);
      assert.equal(a.sharp[(y * 8 + x) * 3], img.data[(sy * 40 + sx) * 3]);
    }
  }
  // flips happen, both ways, over a few batches
  const s = mk(3);
  const flips = new Set<string>();
  for (let k = 0; k < 4; k++) {
    for (const q of (await s.next()).patches) flips.add(`${q.flipH}${q.flipV}`);
  }
  assert.equal(flips.size, 4);
  const noFlip = new PatchSampler({
    pairs: src.refs,
    load: src.load,
    patchSize: 8,
    batchSize: 3,
    flip: false,
  });
  assert.ok((await noFlip.next()).patches.every((q) => !q.flipH && !q.flipV));
});

Deno.test("patch sampler streams: loads on demand, bounded cache, errors for small or mismatched pairs", async () => {
  const src = memoryPairs(50);
  const s = new PatchSampler({
    pairs: src.refs,
    load: src.load,
    patchSize: 4,
    batchSize: 2,
    seed: 9,
    cacheSize: 3,
    prefetch: false,
  });
  await s.next();
  assert.equal(src.loads.length, 2); // only what the first batch needed
  let batches = 0;
  for await (const b of s) {
    if (++batches === 30) {
      assert.equal(b.epoch, 1);
      break;
    }
  }
  assert.ok(src.loads.length <= 62, `${src.loads.length} loads`);
  assert.throws(
    () => new PatchSampler({ pairs: [], load: src.load, patchSize: 4, batchSize: 1 }),
    /no pairs/,
  );
  const small = memoryPairs(2, 6, 6);
  await assert.rejects(
    () =>
      new PatchSampler({ pairs: small.refs, load: small.load, patchSize: 8, batchSize: 1 }).next(),
    /6x6, smaller than the 8x8 patch/,
  );
  const bad = new PatchSampler<number>({
    pairs: [0],
    load: () => Promise.resolve({ blur: createImage(10, 10), sharp: createImage(12, 10) }),
    patchSize: 4,
    batchSize: 1,
  });
  await assert.rejects(() => bad.next(), /differs in size: blurred 10x10, sharp 12x10/);
});

Deno.test("patch sampler over a GoPro tree on disk", async () => {
  await withTemp(async (dir) => {
    await fakeGoPro(dir, { "train/A": ["000001.png", "000002.png"], "train/B": ["000001.png"] });
    const pairs: PairRef[] = await listGoProPairs(dir, { split: "train", blur: "blur_gamma" });
    const s = new PatchSampler({ pairs, load: loadPair, patchSize: 16, batchSize: 3, seed: 4 });
    const b = await s.next();
    assert.deepEqual(b.shape, [3, 16, 16, 3]);
    assert.ok(b.blur.some((v) => v > 0));
  });
});

Deno.test("tensor helpers: images and batches to NHWC tensors and back", async () => {
  const tf = await import("@tensorflow/tfjs");
  const { imagesToTensor, imageToTensor, tensorToImage, tensorToImages, batchToTensors } =
    await import(
      "#lib/data/tensor.ts"
    );
  await tf.setBackend("cpu");
  const a = randomImage(5, 3, 1), b = randomImage(5, 3, 2);
  const t = imagesToTensor([a, b]);
  assert.deepEqual(t.shape, [2, 3, 5, 3]);
  const back = tensorToImages(t);
  assert.deepEqual(back[1].data, b.data);
  const one = imageToTensor(a);
  assert.deepEqual(tensorToImage(one).data, a.data);
  assert.throws(() => imagesToTensor([a, randomImage(4, 3, 3)]), /image 1 is 4x3, not 5x3/);
  const src = memoryPairs(2);
  const batch = await new PatchSampler({
    pairs: src.refs,
    load: src.load,
    patchSize: 4,
    batchSize: 2,
  }).next();
  const bt = batchToTensors(batch);
  assert.deepEqual(bt.blur.shape, [2, 4, 4, 3]);
  assert.deepEqual(bt.sharp.dataSync(), batch.sharp);
  tf.dispose([t, one, bt.blur, bt.sharp]);
});
