/** lib/analysis/error_map.ts: the error-change map's sign and the sharpen/smooth verdict. */
import assert from "node:assert/strict";
import type { RgbImage } from "../lib/data/image.ts";
import { errorChangeMap, errorSummary, laplacianEnergy } from "../lib/analysis/error_map.ts";

/** A seeded texture: detail at every scale, so blur lowers its Laplacian energy. */
function texture(w: number, h: number): RgbImage {
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const data = new Float32Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = rnd();
  return { width: w, height: h, data };
}

/** Horizontal box blur of odd length, clamped at the borders. */
function boxBlur(img: RgbImage, len: number): RgbImage {
  const { width: W, height: H } = img;
  const out = new Float32Array(img.data.length);
  const r = (len - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let d = -r; d <= r; d++) {
          s += img.data[(y * W + Math.min(W - 1, Math.max(0, x + d))) * 3 + c];
        }
        out[(y * W + x) * 3 + c] = s / len;
      }
    }
  }
  return { width: W, height: H, data: out };
}

Deno.test("error map: positive where the output is closer to sharp, and the sharpness verdicts", () => {
  const sharp = texture(32, 24);
  const blurred = boxBlur(sharp, 5);
  const smoother = boxBlur(sharp, 11);
  assert.ok(laplacianEnergy(blurred) < laplacianEnergy(sharp));

  const perfect = errorSummary(blurred, sharp, sharp);
  assert.equal(perfect.verdict, "sharpens");
  assert.equal(perfect.outputSharpness, 1);
  assert.ok(perfect.improvedShare > 0.9 && perfect.worsenedShare === 0);
  assert.ok(errorChangeMap(blurred, sharp, sharp).every((v) => v >= 0));

  const same = errorSummary(blurred, blurred, sharp);
  assert.equal(same.verdict, "about as sharp as its input");
  assert.equal(same.improvedShare, 0);

  const smooth = errorSummary(blurred, smoother, sharp);
  assert.equal(smooth.verdict, "smooths");
  assert.ok(smooth.outputSharpness < smooth.inputSharpness);
  assert.ok(smooth.worsenedShare > smooth.improvedShare);

  assert.throws(() => errorChangeMap(blurred, texture(8, 8), sharp), /sizes differ/);
});

Deno.test("error view: four panels and a sentence whose verdict is the summary's", async () => {
  const { errorView } = await import("../lib/notebooks/error_views.ts");
  const sharp = texture(16, 16);
  const blurred = boxBlur(sharp, 5);
  const v = errorView(blurred, boxBlur(sharp, 9), sharp, { model: "m" });
  assert.equal(v.images.length, 4);
  assert.equal(v.images[3].image.width, 16);
  assert.match(v.sentence, /^m brings \d+% of the pixels closer .* it smooths\.$/);
});

Deno.test("error views: the detail sentence without a reference, and which images to show", async () => {
  const { detailSentence, representativeImages } = await import("../lib/notebooks/error_views.ts");
  const sharp = texture(48, 40);
  const blurred = boxBlur(sharp, 7);
  assert.match(detailSentence(sharp, blurred, "m"), /^m's output has 0\.\d\d times .*smooths/);
  assert.match(detailSentence(blurred, sharp, "m"), /more fine detail/);
  assert.match(detailSentence(sharp, sharp, "m"), /1\.00 times .*about the fine detail/);
  const scores = [0.5, -0.2, 3, 1, 0.1].map((g, i) => ({
    name: `i${i}`,
    psnr: 30 + g,
    inputPsnr: 30,
  }));
  const { median, best } = representativeImages(scores);
  assert.equal(median.name, "i0", "gains sorted -0.2, 0.1, 0.5, 1, 3: the median is 0.5");
  assert.equal(best.name, "i2");
  assert.throws(() => representativeImages([]), /no scores/);
});

Deno.test("error view: pixels brought closer to the sharp image are blue, pixels moved away red", async () => {
  const { errorView } = await import("../lib/notebooks/error_views.ts");
  const sharp = texture(16, 16);
  const blurred = boxBlur(sharp, 5);
  // The output is the sharp image on the left half and twice as far off on the right half.
  const out = { ...sharp, data: sharp.data.slice() };
  for (let y = 0; y < 16; y++) {
    for (let x = 8; x < 16; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * 16 + x) * 3 + c;
        out.data[i] = Math.min(
          1,
          Math.max(0, sharp.data[i] + 2 * (blurred.data[i] - sharp.data[i])),
        );
      }
    }
  }
  const map = errorView(blurred, out, sharp).images[3].image;
  const rgb = (x: number, y: number) => [0, 1, 2].map((c) => map.data[(y * 16 + x) * 3 + c]);
  let blueLeft = 0, redRight = 0;
  for (let y = 0; y < 16; y++) {
    const [rl, , bl] = rgb(2, y), [rr, , br] = rgb(13, y);
    if (bl > rl) blueLeft++;
    if (rr > br) redRight++;
  }
  assert.ok(blueLeft >= 14, `left half (closer) blue in ${blueLeft} of 16 rows`);
  assert.ok(redRight >= 12, `right half (further) red in ${redRight} of 16 rows`);
});
