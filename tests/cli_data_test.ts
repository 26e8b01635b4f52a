// The metrics, blur and data tasks as a user runs them: outputs, --json, and every bad input
// answered by one clear line on stderr and exit code 2 (no stack trace).
import assert from "node:assert/strict";
import { encodePng } from "#lib/data/codec.ts";
import { createImage } from "#lib/data/image.ts";
import { writeImage } from "#lib/data/image_io.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIX = `${ROOT}data/fixtures`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}lib/cli/${script}.ts`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Exit 2, nothing on stdout, exactly one stderr line matching `pattern`, no stack trace. */
function badInput(r: Run, pattern: RegExp) {
  assert.equal(r.code, 2, `exit code ${r.code}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

const tmp = await Deno.makeTempDir({ prefix: "cli_data_test_" });
const png = encodePng(createImage(32, 24, 0.5));
await Deno.writeFile(`${tmp}/truncated.png`, png.subarray(0, png.length - 25));
const corrupt = png.slice();
corrupt[40] ^= 0x55;
await Deno.writeFile(`${tmp}/corrupt.png`, corrupt);
await Deno.writeTextFile(`${tmp}/notes.png`, "these are notes, not pixels");
await Deno.writeFile(`${tmp}/anim.gif`, new TextEncoder().encode("GIF89a\x01\x00\x01\x00"));
await writeImage(`${tmp}/a.png`, createImage(32, 24, 0.5));
await writeImage(`${tmp}/b.png`, createImage(32, 24, 0.6));
await writeImage(`${tmp}/c.png`, createImage(30, 24, 0.6));

Deno.test("metrics: text and --json output; identical images give inf / null", async () => {
  const r = await run("metrics", [
    `${FIX}/golden/chelsea_sharp_seed1.png`,
    `${FIX}/golden/chelsea_blur_seed1.png`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PSNR 28\.163\d dB {2}SSIM 0\.8132\d\d\n$/);
  const j = await run("metrics", [`${tmp}/a.png`, `${tmp}/b.png`, "--json"]);
  assert.equal(j.code, 0, j.stderr);
  const o = JSON.parse(j.stdout);
  assert.ok(Math.abs(o.psnr - 20 * Math.log10(255 / 25)) < 1e-4, `${o.psnr}`);
  assert.equal(o.width, 32);
  const same = JSON.parse(
    (await run("metrics", [`${tmp}/a.png`, `${tmp}/a.png`, "--json"])).stdout,
  );
  assert.equal(same.psnr, null);
  assert.equal(same.ssim, 1);
  assert.equal(same.identical, true);
});

Deno.test("metrics: every bad input is one line and exit code 2", async () => {
  const a = `${tmp}/a.png`;
  badInput(
    await run("metrics", [`${tmp}/corrupt.png`, a]),
    /^metrics: error: cannot read PNG .*corrupt\.png: corrupt/,
  );
  badInput(
    await run("metrics", [a, `${tmp}/truncated.png`]),
    /^metrics: error: cannot read PNG .*truncated\.png: truncated/,
  );
  badInput(
    await run("metrics", [`${tmp}/anim.gif`, a]),
    /^metrics: error: cannot read image .*anim\.gif: unsupported format \(GIF file\)/,
  );
  badInput(await run("metrics", [`${tmp}/notes.png`, a]), /notes\.png: unsupported format/);
  badInput(
    await run("metrics", [`${tmp}/missing.png`, a]),
    /^metrics: error: image file not found: .*missing\.png$/,
  );
  badInput(await run("metrics", [tmp, a]), /is a folder, expected an image file/);
  badInput(
    await run("metrics", [a, `${tmp}/c.png`]),
    /images differ in size: .*a\.png is 32x24, .*c\.png is 30x24/,
  );
  badInput(await run("metrics", [a]), /^metrics: error: expected 2 argument/);
  badInput(await run("metrics", [a, a, "--crop", "many"]), /--crop must be an integer, got "many"/);
  badInput(await run("metrics", [a, a, "--crop", "12"]), /crop 12 leaves nothing/);
  badInput(await run("metrics", [a, a, "--frobnicate"]), /Unknown option '--frobnicate'/);
  // --debug adds the stack trace
  const d = await run("metrics", [`${tmp}/missing.png`, a, "--debug"]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /\n\s+at /);
});

Deno.test("blur: same seed gives identical files; uniform mode writes the kernel", async () => {
  const src = `${FIX}/coffee.png`;
  const r1 = await run("blur", [src, `${tmp}/b1.png`, "--seed", "7", "--frames", "7"]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stderr, /mode dynamic, seed 7/);
  await run("blur", [src, `${tmp}/b2.png`, "--seed", "7", "--frames", "7", "-q"]);
  assert.deepEqual(await Deno.readFile(`${tmp}/b1.png`), await Deno.readFile(`${tmp}/b2.png`));
  assert.deepEqual(
    await Deno.readFile(`${tmp}/b1_sharp.png`),
    await Deno.readFile(`${tmp}/b2_sharp.png`),
  );
  const u = await run("blur", [src, `${tmp}/u.png`, "--mode", "uniform", "--json", "--seed", "3"]);
  assert.equal(u.code, 0, u.stderr);
  const o = JSON.parse(u.stdout);
  assert.equal(o.meta.mode, "uniform");
  assert.ok(Math.abs(o.kernel.sum - 1) < 1e-5);
  const k = JSON.parse(await Deno.readTextFile(`${tmp}/u_kernel.json`));
  assert.equal(k.data.length, k.size * k.size);
  assert.ok(Math.abs(k.data.reduce((s: number, v: number) => s + v, 0) - 1) < 1e-5);
  assert.ok((await Deno.stat(`${tmp}/u_kernel.png`)).isFile);
  // --target centroid: the same blurred file, another sharp one
  await run("blur", [src, `${tmp}/b3.png`, "--seed", "7", "--frames", "7", "--target", "centroid"]);
  assert.deepEqual(await Deno.readFile(`${tmp}/b3.png`), await Deno.readFile(`${tmp}/b1.png`));
  assert.notDeepEqual(
    await Deno.readFile(`${tmp}/b3_sharp.png`),
    await Deno.readFile(`${tmp}/b1_sharp.png`),
  );
});

Deno.test("blur: bad inputs exit 2 with one line", async () => {
  const src = `${FIX}/coffee.png`;
  badInput(
    await run("blur", [`${tmp}/truncated.png`, `${tmp}/o.png`]),
    /^blur: error: cannot read PNG .*truncated\.png: truncated/,
  );
  badInput(await run("blur", [src, `${tmp}/o.tiff`]), /o\.tiff: unsupported extension/);
  badInput(
    await run("blur", [src, `${tmp}/o.png`, "--mode", "swirl"]),
    /--mode must be one of dynamic, camera, uniform, got "swirl"/,
  );
  badInput(await run("blur", [src, `${tmp}/o.png`, "--frames", "6"]), /--frames must be odd/);
  badInput(
    await run("blur", [src, `${tmp}/o.png`, "--target", "first"]),
    /--target must be one of middle, centroid, got "first"/,
  );
  badInput(
    await run("blur", [src, `${tmp}/o.png`, "--noise=-0.1"]),
    /--noise must be in 0\.\.1/,
  );
  badInput(
    await run("blur", [src, `${tmp}/o.png`, "--noise", "-0.1"]),
    /--noise must be in 0\.\.1, got -0\.1/,
  );
  badInput(
    await run("blur", [`${tmp}/nope.jpg`, `${tmp}/o.png`]),
    /image file not found: .*nope\.jpg/,
  );
});

Deno.test("data gopro: counts pairs; missing folder, empty folder and mismatched pair exit 2", async () => {
  const g = `${tmp}/GOPRO_Large`;
  for (const f of ["000001.png", "000002.png"]) {
    for (const sub of ["blur", "blur_gamma", "sharp"]) {
      await writeImage(`${g}/test/GOPR0001_11_00/${sub}/${f}`, createImage(16, 12, 0.3));
    }
  }
  const ok = await run("data", ["gopro", g, "--blur", "blur_gamma", "--json", "--check-sizes"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).pairs, 2);
  badInput(await run("data", ["gopro", g]), /^data gopro: error: --blur is required/);
  badInput(
    await run("data", ["gopro", `${tmp}/nothing`, "--blur", "blur"]),
    /GoPro folder not found: .*nothing/,
  );
  badInput(
    await run("data", ["gopro", g, "--blur", "blur", "--split", "train"]),
    /missing folder .*GOPRO_Large\/train/,
  );
  await Deno.mkdir(`${g}/train`);
  badInput(
    await run("data", ["gopro", g, "--blur", "blur", "--split", "train"]),
    /GOPRO_Large\/train is empty: no sequence folders/,
  );
  await writeImage(`${g}/test/GOPR0001_11_00/sharp/000002.png`, createImage(16, 10, 0.3));
  badInput(
    await run("data", ["gopro", g, "--blur", "blur", "--check-sizes"]),
    /pair differs in size: .*blur\/000002\.png is 16x12, .*sharp\/000002\.png is 16x10/,
  );
});

Deno.test("data: unknown subcommand, empty photo folder, help", async () => {
  badInput(await run("data", ["frobnicate"]), /^data: error: unknown subcommand "frobnicate"/);
  badInput(
    await run("data", ["targets", "--name", "synth-v9"]),
    /^data targets: error: unknown benchmark "synth-v9"/,
  );
  badInput(await run("data", ["targets", "--split", "val"]), /--split must be one of/);
  await Deno.mkdir(`${tmp}/emptyphotos`);
  badInput(
    await run("data", ["verify", "--dest", `${tmp}/emptyphotos`]),
    /no photo set in .*emptyphotos/,
  );
  badInput(
    await run("data", ["video", `${tmp}/nope.mp4`, "--window", "7"]),
    /video file not found: .*nope\.mp4/,
  );
  badInput(
    await run("data", ["video", `${tmp}/nope.mp4`, "--window", "8"]),
    /--window must be odd/,
  );
  const h = await run("data", ["--help"]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /subcommands \(default: fetch\)/);
  const l = await run("data", ["list", "--photos", `${tmp}/emptyphotos`, "--json"]);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(JSON.parse(l.stdout).source, "fixtures");
});

Deno.test("data (fetch) without apt-get or dpkg-deb: says what to do, falls back to the fixtures", async () => {
  const r = await run("data", ["--dest", `${tmp}/photos`, "--json"], { PATH: `${tmp}/no-bin` });
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.source, "fixtures");
  assert.equal(o.fallback, true);
  assert.match(r.stderr, /apt-get download lomiri-wallpapers-16\.04 tuxpaint-data lxqt-themes/);
  assert.match(r.stderr, /uses the fixtures in data\/fixtures/);
});

Deno.test({
  name: "cleanup",
  fn: async () => {
    await Deno.remove(tmp, { recursive: true });
  },
});
