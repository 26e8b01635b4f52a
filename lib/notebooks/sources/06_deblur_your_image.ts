// Source of notebooks/06_deblur_your_image.ipynb in the "percent" format (see
// 01_iir_derivation.ts). Build: `deno run -A lib/notebooks/build.ts 06_deblur_your_image --force`;
// execute: `deno task reproduce --only 06`.

// %% [markdown]
// # 06 · Deblur an image: the controlled model on its own blur, then your photo
//
// **Question.** What do the shipped models do to a blurry image: on the blur they were
// trained for, where a sharp reference says how close they get, and on *my* photo?
//
// Two kinds of shipped model, trained for different things (`deno task deblur --help` lists
// them):
//
// - `svrnn-small-controlled`: `svrnn-small` trained blind on the controlled mix (box,
//   one-pole exponential and camera-shake kernels of 3-33 px at any angle, uniform or
//   spatially varying; `deno task data controlled`), through a four-stage curriculum
//   (`recipes/svrnn-small-controlled.*.json`, docs/studies.md). At a CPU's budget it does
//   **not** learn the blind mix: it ends level with its blurry input there. Its curriculum's
//   stage 2 (`svrnn-small-controlled.stage2`, one 9-px box at any angle) does deblur the
//   blur it was trained on, and section 1 shows both, on crops from photos neither saw.
// - `svrnn-small` (and `nah-small`): trained on the synthetic GoPro-like benchmark
//   (synth-v2) at a CPU's budget, 1/12 of the paper's steps; there it lowers the error
//   mostly by *smoothing*, and on other photos and blur it rarely helps (README, Results).
//   Section 2 runs it on your photo; read its output with that in mind.
//
// Set `IMAGE` below to your photo (PNG or JPEG; a path relative to the repository,
// absolute, or `~/...`); by default it is `clock_motion.png`, a real photograph blurred by
// camera motion. Optionally set `SHARP` to a sharp photo of the same scene (PSNR, SSIM and
// an error map), and `OUTPUT` to save the result. The same as a command:
// `deno task deblur IN.png OUT.png`. Large images are deblurred in overlapping tiles (512
// px, 32 px overlap) above 2.1 megapixels, as `deno task deblur` does.

// %%
import * as tf from "@tensorflow/tfjs";
import { readImage, writeImage } from "#lib/data/image_io.ts";
import { fitWithin, luma } from "#lib/data/image.ts";
import { imageToTensor } from "#lib/data/tensor.ts";
import { loadPair } from "#lib/data/gopro.ts";
import { CONTROLLED_MIX, type ControlledSpec } from "#lib/data/controlled.ts";
import {
  regimeGainFigure,
  regimeRow,
  regimeTestPairs,
  scoreRegime,
} from "#lib/notebooks/regimes.ts";
import * as rf from "#lib/analysis/receptive_field.ts";
import { lineFigure } from "#lib/viz/figure.ts";
import { colormapImage, colorRange } from "#lib/viz/colormap.ts";
import { showImages, showMarkdown } from "#lib/viz/show.ts";
import { showAndSave, showAndSaveTable } from "#lib/viz/write.ts";
import { quick } from "#lib/notebooks/env.ts";
import { notebookSetup } from "#lib/notebooks/setup.ts";
import { degraded } from "#lib/notebooks/degraded.ts";
import { relPath, resolvePath, shippedOrFallback } from "#lib/notebooks/resources.ts";
import {
  busiestWindow,
  comparedImages,
  cropCompared,
  deblurAll,
  enlarge,
} from "#lib/notebooks/experiments.ts";
import { detailSentence, errorView, representativeImages } from "#lib/notebooks/error_views.ts";
import { SHIPPED_MODELS } from "#lib/records/paths.ts";
import { AUTO_TILE_PIXELS } from "#lib/eval/tiled.ts";

const ctx = await notebookSetup("wasm");

// Parameters: edit and re-run.
const CONTROLLED_MODEL = "svrnn-small-controlled"; // results/checkpoints/NAME.safetensors
const CONTROLLED_IMAGES = quick(0, 4); // test crops per regime to deblur (0: all of them)
const IMAGE = "data/fixtures/clock_motion.png"; // your blurry photo
const SHARP = ""; // optional: a sharp photo of the same scene, same size (for PSNR/SSIM)
const OUTPUT = ""; // optional: where to write the deblurred image (.png or .jpg)
const MODEL = "svrnn-small"; // a shipped model: results/checkpoints/MODEL.safetensors
const MAX_SIDE = quick(0, 160); // scale the photo down to this longer side first (0: full size)
const GATE_SIDE = quick(512, 128); // longer side of the copy the memory map is computed on
const CROP = quick(128, 64); // side of the detail crop

await showAndSaveTable(
  "06_shipped_models",
  SHIPPED_MODELS.map((m) => ({
    checkpoint: m.file,
    architecture: m.model,
    "trained for": m.purpose,
  })),
  { title: "The shipped models (lib/records/paths.ts SHIPPED_MODELS)" },
);
await showMarkdown(`Backend: **${ctx.backend}**; quick mode: **${ctx.quick}**.`);

// %% [markdown]
// ## 1. SVRNN on the blur it was trained for
//
// Two checkpoints of the controlled curriculum, each on the test crops of the blur it was
// trained on (128x128, from photos held out of training): stage 2, one kernel (a 9-px box)
// at any angle, the model finding the direction itself; and the released model, after all
// four stages, blind on the whole mix (box, exponential and shake kernels of 3-33 px, any
// angle, uniform or spatially varying). For each, the gain of every crop against its blur
// length, then the crop with the *median* gain (a typical result, not a chosen one) and
// the crop with the largest, beside its sharp reference with the error map: blue where the
// output is closer to the sharp image than the input was, red where it moved away.

// %%
// Quick mode makes its crops from the fixtures in a folder of its own, so a later full run
// never reuses them (and 64-px crops: some fixtures are too small for 128 px with the
// kernels' margin).
const controlledRoot = ctx.quick
  ? await Deno.makeTempDir({ prefix: "svrnn-06-" })
  : resolvePath("data/controlled");
const REGIMES = [
  {
    checkpoint: "svrnn-small-controlled.stage2",
    what: "a 9-px box at any angle (curriculum stage 2)",
    spec: {
      ...CONTROLLED_MIX,
      name: "box9-any",
      families: ["box"],
      length: 9,
      layouts: ["uniform"],
    },
  },
  { checkpoint: CONTROLLED_MODEL, what: "the whole controlled mix, blind", spec: CONTROLLED_MIX },
] as { checkpoint: string; what: string; spec: ControlledSpec }[];
const regimes = [];
for (const r of REGIMES) {
  const pairs = await regimeTestPairs(ctx.quick ? { ...r.spec, crop: 64 } : r.spec, {
    root: controlledRoot,
    photosDir: resolvePath("data/photos"),
    fixturesDir: resolvePath("data/fixtures"),
    preferFixtures: ctx.quick,
    limit: CONTROLLED_IMAGES,
  });
  if (pairs.source === "fixtures" && !ctx.quick) {
    degraded(`controlled benchmark ${r.spec.name} from data/photos`, "crops of the fixtures");
  }
  const m = await shippedOrFallback(r.checkpoint, {
    fallback: ctx.quick,
    architecture: "svrnn-small",
  });
  const scores = m.model ? await scoreRegime(m.model, pairs.refs, pairs.factors) : [];
  regimes.push({ ...r, ...pairs, model: m, scores });
  await showMarkdown(m.message);
}
await showAndSaveTable(
  "06_controlled_summary",
  regimes.map((r) => regimeRow(r.checkpoint, r.what, r.scores)),
  { title: "Controlled checkpoints on the test crops of their own blur" },
);
for (const [i, r] of regimes.entries()) {
  if (r.scores.length > 0) {
    await showAndSave(
      regimeGainFigure(r.scores, `${r.checkpoint}: gain per test crop of ${r.spec.name}`),
      `06_controlled_gains_${i + 1}`,
    );
  }
}

// %%
for (const r of regimes) {
  if (r.scores.length === 0 || !r.model.model) {
    await showMarkdown(`(${r.checkpoint}: no model, nothing to show)`);
    continue;
  }
  const { median, best } = representativeImages(r.scores);
  for (const [role, s] of [["median gain", median], ["largest gain", best]] as const) {
    const { blur, sharp } = await loadPair(r.refs.find((x) => x.frame === s.name)!);
    const [, out] = await deblurAll([{ label: r.checkpoint, model: r.model.model }], blur, sharp);
    const v = errorView(blur, out.image, sharp, { model: r.checkpoint });
    await showImages(v.images.map((im) => ({ ...im, image: enlarge(im.image, 2) })), {
      title:
        `${r.checkpoint}, the crop with the ${role}: ${s.name} (${s.family} ${s.length} px, ${s.layout}), ${
          s.inputPsnr.toFixed(2)
        } -> ${s.psnr.toFixed(2)} dB`,
      maxWidth: 256,
    });
    await showMarkdown(v.sentence);
  }
}

// %% [markdown]
// ## 2. Your photo
//
// The shipped `MODEL` (by default `svrnn-small`, trained on GoPro-like blur) on `IMAGE`.
// Without a sharp reference the notebook cannot say whether the output is closer to the
// truth; it shows what changed, and whether fine detail rose or fell.

// %%
// Maps are drawn between their 2nd and 98th percentiles (image borders can be extreme).
const Q: [number, number] = [0.02, 0.98];
const rangeText = (v: ArrayLike<number>) => {
  const [lo, hi] = colorRange(v, Q);
  return `${lo.toFixed(2)} to ${hi.toFixed(2)}`;
};
const original = await readImage(resolvePath(IMAGE));
const blurry = MAX_SIDE > 0 ? fitWithin(original, MAX_SIDE) : original;
const sharp = SHARP ? await readImage(resolvePath(SHARP)) : undefined;
if (sharp && (sharp.width !== original.width || sharp.height !== original.height)) {
  throw new Error(
    `SHARP is ${sharp.width}x${sharp.height} but IMAGE is ${original.width}x${original.height}`,
  );
}
const sharpUsed = sharp && MAX_SIDE > 0 ? fitWithin(sharp, MAX_SIDE) : sharp;
const choice = await shippedOrFallback(MODEL);
await showMarkdown(
  [
    `Image \`${IMAGE}\`: ${original.width}x${original.height}${
      blurry !== original ? `, scaled to ${blurry.width}x${blurry.height}` : ""
    }${blurry.width * blurry.height > AUTO_TILE_PIXELS ? " (deblurred in 512 px tiles)" : ""}.`,
    choice.message,
    `What ${MODEL} was trained for: ${
      SHIPPED_MODELS.find((m) => m.file.endsWith(`/${MODEL}.safetensors`))?.purpose ??
        "(not a shipped model)"
    }.`,
  ].join("\n\n"),
);

// %%
const model = choice.model;
let result: Awaited<ReturnType<typeof deblurAll>> = [];
if (!model) {
  await showMarkdown(`Nothing to deblur with: ${choice.message}`);
} else {
  result = await deblurAll([{ label: MODEL, model }], blurry, sharpUsed);
  await showImages(comparedImages(result), { maxWidth: 420 });
  const out = result[1];
  await showAndSaveTable(
    "06_summary",
    [{
      image: IMAGE,
      size: `${blurry.width}x${blurry.height}`,
      model: `${MODEL} (${choice.status === "shipped" ? "shipped" : "untrained stand-in"})`,
      backend: ctx.backend,
      "time (s)": out.ms! / 1000,
      tiled: blurry.width * blurry.height > AUTO_TILE_PIXELS ? "yes (512 px, overlap 32)" : "no",
      "PSNR in / out": sharpUsed ? `${result[0].psnr!.toFixed(2)} / ${out.psnr!.toFixed(2)}` : "-",
      "SSIM in / out": sharpUsed ? `${result[0].ssim!.toFixed(4)} / ${out.ssim!.toFixed(4)}` : "-",
    }],
    { title: "Deblurring run" },
  );
  await showMarkdown(detailSentence(blurry, out.image, MODEL));
  if (OUTPUT) {
    await writeImage(resolvePath(OUTPUT), out.image);
    await showMarkdown(`Wrote \`${relPath(resolvePath(OUTPUT))}\`.`);
  }
}

// %% [markdown]
// A detail at full resolution, enlarged 2x without smoothing (the window of the input with
// the most structure), and what the network changed: $|$output − input$|$ in luma; with
// `SHARP` set, the error map against it as well.

// %%
if (result.length > 0) {
  const w = busiestWindow(blurry, CROP);
  await showImages(
    comparedImages(cropCompared(result, w.x, w.y, CROP, CROP)).map((c) => ({
      ...c,
      image: enlarge(c.image, 2),
    })),
    { title: `Detail ${CROP}x${CROP} at (${w.x}, ${w.y}), 2x` },
  );
  const a = luma(result[0].image), b = luma(result[1].image);
  const diff = Float32Array.from(a, (v, i) => Math.abs(b[i] - v));
  let max = 0;
  for (const v of diff) max = Math.max(max, v);
  await showImages([{
    image: colormapImage(diff, blurry.width, blurry.height, { scale: "Hot", range: [0, max] }),
    label: `|output - input| (luma), 0 to ${max.toFixed(3)}`,
  }], { maxWidth: 420 });
  if (sharpUsed) {
    const v = errorView(blurry, result[1].image, sharpUsed, { model: MODEL });
    await showImages(v.images, { title: `Where ${MODEL} helps and where it hurts`, maxWidth: 300 });
    await showMarkdown(v.sentence);
  }
} else {
  await showMarkdown("(no result)");
}

// %% [markdown]
// One row of the image through the detail window: deblurring would steepen the luma
// profile's transitions, smoothing would flatten them. The sentence under the figure
// measures which of the two the output did along this row.

// %%
if (result.length > 0) {
  const w = busiestWindow(blurry, CROP);
  const row = Math.min(blurry.height - 1, w.y + (CROP >> 1));
  const x0 = w.x, x1 = Math.min(blurry.width, w.x + CROP);
  const profiles = result.map((c) => {
    const l = luma(c.image);
    return Array.from({ length: x1 - x0 }, (_, k) => l[row * c.image.width + x0 + k]);
  });
  await showAndSave(
    lineFigure(
      result.map((c, i) => ({
        name: c.label,
        x: Array.from({ length: x1 - x0 }, (_, k) => x0 + k),
        y: profiles[i],
        width: i === 1 ? 2.5 : 1.5,
        color: ["#999999", "#1f77b4", "#2ca02c"][i],
      })),
      { title: `Luma along row ${row}, x ${x0} to ${x1 - 1}`, xTitle: "x (px)", yTitle: "luma" },
    ),
    "06_row_profile",
  );
  // Total variation along the row: the sum of |steps|, larger when transitions are steeper.
  const tv = (p: number[]) => p.slice(1).reduce((s, v, k) => s + Math.abs(v - p[k]), 0);
  const ratio = tv(profiles[1]) / tv(profiles[0]);
  await showMarkdown(
    `Along this row the output's total variation is ${ratio.toFixed(2)} times the input's: ` +
      (ratio >= 1.05
        ? "its transitions are steeper."
        : ratio <= 0.95
        ? "its transitions are flatter (smoothing)."
        : "its transitions are about as steep as the input's."),
  );
} else {
  await showMarkdown("(no result: no profile)");
}

// %% [markdown]
// ## 3. Where the recurrence looks far on your photo
//
// The memory length $-1/\ln \overline{|g|}$ of the gates over every block, direction and
// channel, per pixel: bright where the scans carry information across that pixel. Notebook
// 02 explains gates and memory and measures them per block and direction; this is only the
// map for `IMAGE`, computed on a copy scaled to at most `GATE_SIDE` pixels.

// %%
const small = fitWithin(blurry, GATE_SIDE);
if (!model) {
  await showMarkdown("(no model: no memory map)");
} else {
  const x = imageToTensor(small);
  const a = model.analyze(x);
  const maps = rf.gateMaps(a.intermediates);
  tf.dispose([x, a.output, ...Object.values(a.intermediates)]);
  if (maps.length === 0) {
    await showMarkdown(`${MODEL} has no gates (it is not an SVRNN).`);
  } else {
    const mem = rf.memoryMap(maps);
    await showImages([
      { image: small, label: `input ${small.width}x${small.height}` },
      {
        image: colormapImage(mem.data, mem.width, mem.height, {
          scale: "Hot",
          upscale: 2,
          quantiles: Q,
        }),
        label: `memory length, ${rangeText(mem.data)} half-res px (dark to bright)`,
      },
    ], { maxWidth: 420 });
  }
}

// %% [markdown]
// ## Answer
//
// The cell below states, from this run's numbers, what each model did. In short: SVRNN
// deblurs a blur it was trained on when that blur is narrow (stage 2: one kernel at an
// unknown angle; nearly every crop gains, edges come back, and the error maps show more
// pixels brought closer to the sharp image than moved away, though the outputs keep well
// under half the sharp images' fine detail); trained blind on the whole controlled mix,
// the same network at this budget stays level with its input, and the GoPro-like
// `svrnn-small` on a real photo is a demonstration of the pipeline, not of deblurring.
// Wider regimes need the training a GPU gives.

// %%
model?.dispose();
for (const r of regimes) r.model.model?.dispose();
await showMarkdown(
  [
    ...regimes.map((r) => {
      const g = r.scores.map((s) => s.psnr - s.inputPsnr);
      return r.scores.length
        ? `**${r.checkpoint}** (${r.what}) on ${g.length} test crops: mean gain ${
          (g.reduce((a, b) => a + b, 0) / g.length).toFixed(2)
        } dB over the blurry input, ${g.filter((x) => x > 0).length} of ${g.length} improved${
          r.model.status === "fresh" ? " (an untrained stand-in: the numbers mean nothing)" : ""
        }.`
        : `**${r.checkpoint}** was not run: ${r.model.message}`;
    }),
    result.length
      ? `**${MODEL}** on \`${IMAGE}\` (${blurry.width}x${blurry.height}, ${
        (result[1].ms! / 1000).toFixed(2)
      } s on ${ctx.backend})${
        sharpUsed ? `: PSNR ${result[0].psnr!.toFixed(2)} → ${result[1].psnr!.toFixed(2)} dB` : ""
      }; ${detailSentence(blurry, result[1].image, MODEL)}`
      : `**Nothing was deblurred**: ${choice.message}`,
    choice.status === "fresh"
      ? "The model is an untrained stand-in (the shipped checkpoint is missing): its output is not a deblurred image."
      : "",
    ctx.quick ? "\n\n*(Quick mode: a few crops, and the photo scaled down first.)*" : "",
  ].filter(Boolean).join(" "),
);
