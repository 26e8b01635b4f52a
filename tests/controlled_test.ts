/**
 * The controlled-blur generator: each factor is what the spec and manifest say (a
 * horizontal box is row-wise with its spectrum zero at period L, the exp blur inverts with
 * two taps), the photo splits are disjoint and crops do not depend on the blur.
 */
import assert from "node:assert/strict";
import {
  checkSpec,
  type ControlledSpec,
  CROP_MARGIN,
  DEFAULT_CONTROLLED,
  expPole,
  gatherBlur,
  KERNEL_FAMILIES,
  kernelTaps,
  LAYOUTS,
  MAX_BOX_LENGTH,
  MAX_LENGTH,
} from "#lib/data/controlled.ts";
import { ensureControlled } from "#lib/data/controlled_io.ts";
import { fromLinear, toLinear } from "#lib/data/blur.ts";
import { Rng } from "#lib/data/prng.ts";
import type { RgbImage } from "#lib/data/image.ts";

/** An image from a linear-light function of (x, y), grey. */
function linearImage(w: number, h: number, f: (x: number, y: number) => number): RgbImage {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      data.fill(fromLinear(f(x, y)), (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  }
  return { width: w, height: h, data };
}

function assertAlmostEquals(a: number, b: number, tol: number) {
  assert.ok(Math.abs(a - b) <= tol, `${a} is not within ${tol} of ${b}`);
}

const one = (side: number) => new Uint8Array(side * side);

Deno.test("controlled: a horizontal box leaves an image that varies only down the columns unchanged", () => {
  const side = 24, pad = 20;
  const img = linearImage(side + 2 * pad, side + 2 * pad, (_x, y) => 0.5 + 0.4 * Math.sin(y / 3));
  for (const L of [3, 9, 17]) {
    const k = kernelTaps("box", L, 0, new Rng(0));
    assert.deepStrictEqual(
      [...k.dy].every((d) => d === 0),
      true,
      "horizontal taps stay in the row",
    );
    assert.deepStrictEqual(k.w.length, L);
    const out = gatherBlur(img, pad, pad, side, [k], one(side), 0, new Rng(0));
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const s = ((y + pad) * img.width + x + pad) * 3;
        assertAlmostEquals(out.data[(y * side + x) * 3], img.data[s], 1e-5);
      }
    }
  }
});

Deno.test("controlled: a horizontal box of length L has a spectrum zero at period L", () => {
  const side = 24, pad = 20;
  for (const L of [3, 9, 17]) {
    // a cosine of period L in linear light averages to its mean over any L consecutive taps
    const img = linearImage(
      side + 2 * pad,
      side + 2 * pad,
      (x) => 0.5 + 0.4 * Math.cos((2 * Math.PI * x) / L + 0.3),
    );
    const out = gatherBlur(
      img,
      pad,
      pad,
      side,
      [kernelTaps("box", L, 0, new Rng(0))],
      one(side),
      0,
      new Rng(0),
    );
    for (let i = 0; i < out.data.length; i++) assertAlmostEquals(toLinear(out.data[i]), 0.5, 1e-4);
    // and a cosine of another period is not removed
    const other = linearImage(
      side + 2 * pad,
      side + 2 * pad,
      (x) => 0.5 + 0.4 * Math.cos((2 * Math.PI * x) / (2 * L)),
    );
    const o2 = gatherBlur(
      other,
      pad,
      pad,
      side,
      [kernelTaps("box", L, 0, new Rng(0))],
      one(side),
      0,
      new Rng(0),
    );
    const spread = Math.max(...o2.data) - Math.min(...o2.data);
    assert.ok(spread > 0.05, `period ${2 * L} survives a box of ${L}`);
  }
});

Deno.test("controlled: the one-pole exp blur is inverted by its two-tap FIR", () => {
  const L = 9, a = expPole(L), side = 24, pad = 70;
  assertAlmostEquals(a / (1 - a), (L - 1) / 2, 1e-12);
  const rng = new Rng(3);
  const vals = Array.from({ length: side + 2 * pad }, () => rng.range(0.05, 0.95));
  const img = linearImage(side + 2 * pad, side + 2 * pad, (x) => vals[x]);
  const out = gatherBlur(
    img,
    pad,
    pad,
    side,
    [kernelTaps("exp", L, 0, new Rng(0))],
    one(side),
    0,
    new Rng(0),
  );
  for (let x = 1; x < side; x++) {
    const y1 = toLinear(out.data[x * 3]), y0 = toLinear(out.data[(x - 1) * 3]);
    assertAlmostEquals((y1 - a * y0) / (1 - a), vals[x + pad], 2e-3);
  }
});

Deno.test("controlled: every kernel sums to 1 and turning by the angle turns the taps", () => {
  for (const f of KERNEL_FAMILIES) {
    for (const deg of [0, 30, 90]) {
      const k = kernelTaps(f, 11, (deg * Math.PI) / 180, new Rng(7));
      assertAlmostEquals(k.w.reduce((s, w) => s + w, 0), 1, 1e-5);
    }
  }
  const v = kernelTaps("box", 9, Math.PI / 2, new Rng(0));
  assert.deepStrictEqual([...v.dx].every((d) => d === 0), true, "a 90-degree box is vertical");
});

Deno.test("controlled: the manifest records the factors the spec asks for, on disjoint photo splits", async () => {
  const root = await Deno.makeTempDir();
  try {
    const spec: ControlledSpec = {
      ...DEFAULT_CONTROLLED,
      name: "t-mix",
      families: ["box", "exp", "shake"],
      layouts: [...LAYOUTS],
      length: [5, 9],
      angle: "any",
      crop: 32,
      trainPerPhoto: 3,
      testPerPhoto: 2,
    };
    const { manifest, reused } = await ensureControlled(spec, { root, preferFixtures: true });
    assert.deepStrictEqual(reused, false);
    assert.deepStrictEqual(manifest.source, "fixtures");
    const train = new Set(manifest.split.train), test = new Set(manifest.split.test);
    assert.ok(manifest.split.test.every((p) => !train.has(p)), "no photo in both splits");
    assert.deepStrictEqual(manifest.pairs.length, train.size * 3 + test.size * 2);
    for (const p of manifest.pairs) {
      assert.ok(spec.families.includes(p.factors.family));
      assert.ok(spec.layouts.includes(p.factors.layout));
      assert.ok(p.factors.length >= 5 && p.factors.length <= 9);
      assert.ok(p.factors.angleDeg >= 0 && p.factors.angleDeg < 180);
      assert.deepStrictEqual(p.factors.layout === "two-region", p.factors.boundary !== undefined);
      assert.deepStrictEqual(p.factors.layout === "object", p.factors.object !== undefined);
    }
    assert.deepStrictEqual(
      new Set(manifest.pairs.map((p) => p.factors.family)).size,
      3,
      "all families drawn",
    );
    // crop positions do not depend on the blur: another spec cuts the same crops
    const other = await ensureControlled({
      ...spec,
      name: "t-box",
      families: ["box"],
      layouts: ["uniform"],
      length: 3,
    }, {
      root,
      preferFixtures: true,
    });
    assert.deepStrictEqual(
      other.manifest.pairs.map((p) => [p.photo, p.x, p.y]),
      manifest.pairs.map((p) => [p.photo, p.x, p.y]),
    );
    assert.deepStrictEqual(
      (await ensureControlled(spec, { root, preferFixtures: true })).reused,
      true,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("controlled: a bad spec names its field", () => {
  assert.throws(() => checkSpec({ ...DEFAULT_CONTROLLED, length: 0 }), /length/);
  assert.throws(
    () => checkSpec({ ...DEFAULT_CONTROLLED, families: ["blob" as "box"] }),
    /families/,
  );
  assert.throws(() => checkSpec({ ...DEFAULT_CONTROLLED, angle: "diagonal" as "any" }), /angle/);
});

Deno.test("controlled: a box alone may reach the crop margin; exp and shake stop at MAX_LENGTH", () => {
  const box = { ...DEFAULT_CONTROLLED, families: ["box" as const], length: MAX_BOX_LENGTH };
  assert.equal(checkSpec(box).length, MAX_BOX_LENGTH);
  assert.equal(MAX_BOX_LENGTH, 2 * CROP_MARGIN + 1);
  assert.throws(
    () => checkSpec({ ...box, length: MAX_BOX_LENGTH + 1 }),
    /length must be integers in 1\.\.129/,
  );
  for (const families of [["exp"], ["shake"], ["box", "exp"]] as const) {
    assert.throws(
      () => checkSpec({ ...box, families: [...families], length: MAX_LENGTH + 1 }),
      /length must be integers in 1\.\.64 \(129 for box alone\)/,
    );
    assert.equal(checkSpec({ ...box, families: [...families], length: MAX_LENGTH }).length, 64);
  }
  // the longest box's taps stay inside the margin every crop is cut with
  const k = kernelTaps("box", MAX_BOX_LENGTH, 0, new Rng(0));
  assert.equal(Math.max(...k.dx.map(Math.abs)), CROP_MARGIN);
});

Deno.test("deno task data controlled: writes the benchmark, and a bad factor is one line with exit 2", async () => {
  const out = await Deno.makeTempDir();
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "lib/cli/data.ts", "controlled", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  try {
    const ok = await run([
      "--family",
      "exp",
      "--length",
      "5-9",
      "--layout",
      "object",
      "--fixtures",
      "--crop",
      "32",
      "--out",
      out,
      "--json",
    ]);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    const res = JSON.parse(new TextDecoder().decode(ok.stdout));
    const m = JSON.parse(await Deno.readTextFile(`${res.dir}/manifest.json`));
    assert.ok(
      m.pairs.every((p: { factors: { family: string; layout: string } }) =>
        p.factors.family === "exp" && p.factors.layout === "object"
      ),
    );
    const bad = await run(["--layout", "spiral", "--out", out]);
    assert.equal(bad.code, 2);
    const err = new TextDecoder().decode(bad.stderr).trim().split("\n");
    assert.equal(err.length, 1);
    assert.match(err[0], /--layout has "spiral"/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
