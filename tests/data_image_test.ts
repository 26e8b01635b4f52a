// Image I/O (PNG/JPEG codecs, file adapter), image helpers and the seeded PRNG.
import assert from "node:assert/strict";
import { encode as encodePngRaw } from "fast-png";
import { decodeImage, encodeJpeg, encodePng, sniffFormat } from "#lib/data/codec.ts";
import { InputError } from "#lib/data/errors.ts";
import {
  createImage,
  cropImage,
  fitWithin,
  flipHorizontal,
  flipVertical,
  quantize8,
  resizeImage,
} from "#lib/data/image.ts";
import { readImage, writeImage } from "#lib/data/image_io.ts";
import { Rng } from "#lib/data/prng.ts";

const FIX = new URL("../data/fixtures/", import.meta.url).pathname;

function throwsInput(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

function gradient(w: number, h: number) {
  const img = createImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      img.data[i] = x / (w - 1);
      img.data[i + 1] = y / (h - 1);
      img.data[i + 2] = ((x + y) % 7) / 6;
    }
  }
  return img;
}

Deno.test("PNG 8-bit RGB round trip is exact on the 8-bit grid", () => {
  const img = quantize8(gradient(13, 9));
  const back = decodeImage(encodePng(img), "mem.png");
  assert.equal(back.width, 13);
  assert.equal(back.height, 9);
  assert.deepEqual(back.data, img.data);
});

Deno.test("PNG 16-bit round trip keeps 16-bit precision", () => {
  const img = gradient(10, 6);
  const back = decodeImage(encodePng(img, { bitDepth: 16 }), "mem16.png");
  for (let i = 0; i < img.data.length; i++) {
    assert.ok(Math.abs(back.data[i] - img.data[i]) <= 0.5 / 65535 + 1e-7);
  }
});

Deno.test("PNG grey, grey+alpha, RGBA, palette (1/2/4/8-bit) and interlaced decode to RGB", () => {
  // grey 8-bit
  const grey = decodeImage(
    encodePngRaw({
      width: 3,
      height: 2,
      data: new Uint8Array([0, 51, 255, 102, 204, 0]),
      depth: 8,
      channels: 1,
    }),
  );
  assert.deepEqual(Array.from(grey.data.subarray(0, 6)), [0, 0, 0, 0.2, 0.2, 0.2].map(Math.fround));
  // grey 16-bit
  const g16 = decodeImage(
    encodePngRaw({
      width: 2,
      height: 1,
      data: new Uint16Array([65535, 32768]),
      depth: 16,
      channels: 1,
    }),
  );
  assert.equal(g16.data[0], 1);
  assert.ok(Math.abs(g16.data[3] - 32768 / 65535) < 1e-7);
  // grey + alpha: alpha dropped
  const ga = decodeImage(
    encodePngRaw({ width: 1, height: 1, data: new Uint8Array([255, 0]), depth: 8, channels: 2 }),
  );
  assert.deepEqual(Array.from(ga.data), [1, 1, 1]);
  // RGBA: alpha dropped
  const rgba = decodeImage(
    encodePngRaw({
      width: 1,
      height: 1,
      data: new Uint8Array([255, 0, 51, 7]),
      depth: 8,
      channels: 4,
    }),
  );
  assert.deepEqual(Array.from(rgba.data), [1, 0, 0.2].map(Math.fround));
  // Adam7 interlaced RGB
  const img = quantize8(gradient(11, 9));
  const inter = encodePngRaw(
    {
      width: 11,
      height: 9,
      data: Uint8Array.from(img.data, (v) => Math.round(v * 255)),
      depth: 8,
      channels: 3,
    },
    { interlace: "Adam7" },
  );
  assert.deepEqual(decodeImage(inter).data, img.data);
});

Deno.test("PNG palette images of 1, 2, 4 and 8 bits per index", () => {
  const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
  for (const depth of [1, 2, 4, 8] as const) {
    const w = 5, h = 3, n = 1 << Math.min(depth, 2);
    const idx = Array.from({ length: w * h }, (_, i) => i % n);
    const stride = Math.ceil((w * depth) / 8);
    const packed = new Uint8Array(stride * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const bit = x * depth;
        packed[y * stride + (bit >> 3)] |= idx[y * w + x] << (8 - depth - (bit & 7));
      }
    }
    const bytes = encodePngRaw({
      width: w,
      height: h,
      data: packed,
      depth,
      channels: 1,
      palette: palette.slice(0, n),
    });
    const img = decodeImage(bytes, `pal${depth}.png`);
    for (let i = 0; i < w * h; i++) {
      assert.deepEqual(
        Array.from(img.data.subarray(i * 3, i * 3 + 3)),
        palette[idx[i]].map((v) => v / 255),
      );
    }
  }
});

Deno.test("JPEG round trip is close; format sniffed from bytes, not the name", () => {
  const img = gradient(32, 24);
  const bytes = encodeJpeg(img, 95);
  assert.equal(sniffFormat(bytes), "jpeg");
  const back = decodeImage(bytes, "looks-like.png");
  let err = 0;
  for (let i = 0; i < img.data.length; i++) {
    err = Math.max(err, Math.abs(back.data[i] - img.data[i]));
  }
  assert.ok(err < 0.12, `max error ${err}`);
});

Deno.test("bad image bytes: empty, truncated, corrupt, unsupported each get a clear error", () => {
  const png = encodePng(gradient(16, 16));
  throwsInput(() => decodeImage(new Uint8Array(0), "empty.png"), /empty\.png: the file is empty/);
  throwsInput(
    () => decodeImage(png.subarray(0, png.length - 30), "cut.png"),
    /cut\.png: truncated/,
  );
  throwsInput(() => decodeImage(png.subarray(0, 20), "head.png"), /head\.png: truncated/);
  const bad = png.slice();
  bad[png.length - 20] ^= 0xff; // inside IDAT data: CRC mismatch
  throwsInput(() => decodeImage(bad, "crc.png"), /crc\.png: corrupt/);
  const jpg = encodeJpeg(gradient(16, 16));
  throwsInput(
    () => decodeImage(jpg.subarray(0, jpg.length - 40), "cut.jpg"),
    /cut\.jpg: truncated/,
  );
  const gif = new TextEncoder().encode("GIF89a......");
  throwsInput(() => decodeImage(gif, "x.gif"), /x\.gif: unsupported format \(GIF file\)/);
  const text = new TextEncoder().encode("hello world, not an image");
  throwsInput(() => decodeImage(text, "notes.png"), /notes\.png: unsupported format \(first bytes/);
});

Deno.test("readImage/writeImage: files, errors naming the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const img = quantize8(gradient(8, 5));
    await writeImage(`${dir}/a/b.png`, img);
    assert.deepEqual((await readImage(`${dir}/a/b.png`)).data, img.data);
    await writeImage(`${dir}/c.jpg`, img, { quality: 90 });
    assert.equal((await readImage(`${dir}/c.jpg`)).width, 8);
    await assert.rejects(() => readImage(`${dir}/missing.png`), /not found: .*missing\.png/);
    await assert.rejects(() => readImage(`${dir}/a`), /is a folder/);
    await assert.rejects(() => writeImage(`${dir}/x.bmp`, img), /x\.bmp: unsupported extension/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fixtures decode: sizes and mean values as computed by scikit-image", async () => {
  // Means over R,G,B of skimage.io.imread(path)[..., :3] / 255, computed once with Debian
  // bookworm python3-skimage 0.19.3 (numpy 1.24.2).
  const expected: Record<string, [number, number, number]> = {
    "astronaut.png": [384, 384, 0.449463],
    "chelsea.png": [384, 255, 0.452181],
    "camera.png": [384, 384, 0.506150],
  };
  for (const [f, [w, h, mean]] of Object.entries(expected)) {
    const img = await readImage(FIX + f);
    assert.equal(img.width, w);
    assert.equal(img.height, h);
    let s = 0;
    for (const v of img.data) s += v;
    assert.ok(Math.abs(s / img.data.length - mean) < 1e-4, `${f}: mean ${s / img.data.length}`);
  }
});

Deno.test("resize: area averaging is exact for integer factors; constants stay constant", () => {
  const img = gradient(8, 6);
  const half = resizeImage(img, 4, 3);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 4; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          s += img.data[((2 * y + dy) * 8 + 2 * x + dx) * 3 + c];
        }
        assert.ok(Math.abs(half.data[(y * 4 + x) * 3 + c] - s / 4) < 1e-6);
      }
    }
  }
  const flat = resizeImage(createImage(7, 5, 0.3), 3, 11);
  for (const v of flat.data) assert.ok(Math.abs(v - 0.3) < 1e-6);
  const fit = fitWithin(createImage(400, 100, 0.5), 200);
  assert.deepEqual([fit.width, fit.height], [200, 50]);
});

Deno.test("crop and flips", () => {
  const img = gradient(5, 4);
  const c = cropImage(img, 1, 2, 3, 2);
  assert.deepEqual(
    Array.from(c.data.subarray(0, 3)),
    Array.from(img.data.subarray((2 * 5 + 1) * 3, (2 * 5 + 1) * 3 + 3)),
  );
  assert.throws(() => cropImage(img, 3, 0, 3, 1), /does not fit/);
  assert.deepEqual(flipHorizontal(flipHorizontal(img)).data, img.data);
  assert.deepEqual(flipVertical(flipVertical(img)).data, img.data);
  assert.deepEqual(
    Array.from(flipHorizontal(img).data.subarray(0, 3)),
    Array.from(img.data.subarray(12, 15)),
  );
});

Deno.test("Rng: same seed same sequence, forks independent, normal has the right moments", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const sa = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(sa, Array.from({ length: 5 }, () => b.nextUint32()));
  assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.nextUint32()));
  assert.equal(new Rng("x").fork("k").uniform(), new Rng("x").fork("k").uniform());
  const r = new Rng(7);
  let m = 0, v = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    m += z / n;
    v += (z * z) / n;
  }
  assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `mean ${m} var ${v}`);
});
