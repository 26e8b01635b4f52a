// Source of notebooks/06_deblur_your_image.ipynb in the "percent" format (see
// 01_iir_derivation.ts). Build: `deno run -A lib/notebooks/build.ts 06_deblur_your_image --force`;
// execute: `deno task reproduce --only 06`.

// %% [markdown]
// # 06 · Deblur your own image
//
// **Question.** What does the shipped SVRNN do to *my* blurry photo, and where does it
// decide to look far?
//
// Set `IMAGE` in the next cell to your photo (PNG or JPEG; a path relative to the
// repository, absolute, or `~/...`) and run the notebook. By default it uses
// `clock_motion.png`, a real photograph blurred by camera motion. Optionally set `SHARP`
// to a sharp version of the same scene to get PSNR and SSIM, and `OUTPUT` to save the
// result. The same as a command: `deno task deblur IN.png OUT.png`.
//
// Large images are deblurred in overlapping tiles (512 px, 32 px overlap, blended) above
// 2.1 megapixels, as `deno task deblur` does. The gate maps are computed on a copy scaled
// to at most `GATE_SIDE` pixels.

// %%
import * as tf from "@tensorflow/tfjs";
import { readImage, writeImage } from "#lib/data/image_io.ts";
import { fitWithin, luma } from "#lib/data/image.ts";
import { imageToTensor } from "#lib/data/tensor.ts";
import * as rf from "#lib/analysis/receptive_field.ts";
import { heatmapFigure, lineFigure } from "#lib/viz/figure.ts";
import { colormapImage, colorRange } from "#lib/viz/colormap.ts";
import { showImages, showMarkdown } from "#lib/viz/show.ts";
import { showAndSave, showAndSaveTable } from "#lib/viz/write.ts";
import { quick } from "#lib/notebooks/env.ts";
import { notebookSetup } from "#lib/notebooks/setup.ts";
import { relPath, resolvePath, shippedOrFallback } from "#lib/notebooks/resources.ts";
import {
  busiestWindow,
  comparedImages,
  cropCompared,
  deblurAll,
  enlarge,
} from "#lib/notebooks/experiments.ts";
import { AUTO_TILE_PIXELS } from "#lib/eval/tiled.ts";

const ctx = await notebookSetup("wasm");

// Parameters: edit and re-run.
const IMAGE = "data/fixtures/clock_motion.png"; // your blurry photo
const SHARP = ""; // optional: a sharp photo of the same scene, same size (for PSNR/SSIM)
const OUTPUT = ""; // optional: where to write the deblurred image (.png or .jpg)
const MODEL = "svrnn-small"; // a shipped model: results/checkpoints/MODEL.safetensors
const MAX_SIDE = quick(0, 160); // scale the photo down to this longer side first (0: full size)
const GATE_SIDE = quick(512, 128); // longer side of the copy the gate maps are computed on
const CROP = quick(128, 64); // side of the detail crop

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
    `Backend: **${ctx.backend}**; quick mode: **${ctx.quick}**.`,
    `Image \`${IMAGE}\`: ${original.width}x${original.height}${
      blurry !== original ? `, scaled to ${blurry.width}x${blurry.height}` : ""
    }${blurry.width * blurry.height > AUTO_TILE_PIXELS ? " (deblurred in 512 px tiles)" : ""}.`,
    choice.message,
  ].join("\n\n"),
);

// %% [markdown]
// ## 1. Before and after

// %%
const model = choice.model;
let result: ReturnType<typeof deblurAll> = [];
if (!model) {
  await showMarkdown(`Nothing to deblur with: ${choice.message}`);
} else {
  result = deblurAll([{ label: MODEL, model }], blurry, sharpUsed);
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
  if (OUTPUT) {
    await writeImage(resolvePath(OUTPUT), out.image);
    await showMarkdown(`Wrote \`${relPath(resolvePath(OUTPUT))}\`.`);
  }
}

// %% [markdown]
// A detail at full resolution, enlarged 2x without smoothing (the window of the input with
// the most structure), and what the network changed: $|$output − input$|$ in luma.

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
} else {
  await showMarkdown("(no result)");
}

// %% [markdown]
// Deblurring steepens edges: along one row of the image (through the detail window),
// the output's luma profile should show sharper transitions than the input's.

// %%
if (result.length > 0) {
  const w = busiestWindow(blurry, CROP);
  const row = Math.min(blurry.height - 1, w.y + (CROP >> 1));
  const x0 = w.x, x1 = Math.min(blurry.width, w.x + CROP);
  const series = result.map((c, i) => {
    const l = luma(c.image);
    return {
      name: c.label,
      x: Array.from({ length: x1 - x0 }, (_, k) => x0 + k),
      y: Array.from({ length: x1 - x0 }, (_, k) => l[row * c.image.width + x0 + k]),
      width: i === 1 ? 2.5 : 1.5,
      color: ["#999999", "#1f77b4", "#2ca02c"][i],
    };
  });
  await showAndSave(
    lineFigure(series, {
      title: `Luma along row ${row}, x ${x0} to ${x1 - 1}`,
      xTitle: "x (px)",
      yTitle: "luma",
    }),
    "06_row_profile",
  );
} else {
  await showMarkdown("(no result: no profile)");
}

// %% [markdown]
// ## 2. The gate maps: where the recurrence looks far
//
// For every pixel, the mean $|g|$ over channels of each block and scan direction, and the
// memory length $-1/\ln \overline{|g|}$ over all of them (notebook 02 explains both).
// Bright = long memory: the scans carry information across that pixel.

// %%
let maps: rf.GateMap[] = [];
const small = fitWithin(blurry, GATE_SIDE);
if (!model) {
  await showMarkdown("(no model: no gate maps)");
} else {
  const x = imageToTensor(small);
  const a = model.analyze(x);
  maps = rf.gateMaps(a.intermediates);
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
    await showImages(
      maps.filter((m) => m.block === 1 || m.block === maps[maps.length - 1].block).map((m) => ({
        image: colormapImage(m.data, m.width, m.height, { quantiles: Q }),
        label: `block ${m.block}, ${m.direction}: ${rangeText(m.data)}`,
      })),
      {
        title: "Mean |g| per pixel, first and last block (dark to yellow over the range given)",
        maxWidth: 200,
      },
    );
  }
}

// %%
if (maps.length > 0) {
  const mem = rf.memoryMap(maps);
  const d = rf.downsampleMap(mem, Math.max(1, Math.ceil(mem.width / 96)));
  await showAndSave(
    heatmapFigure(rf.mapRows(d), {
      zmin: colorRange(d.data, Q)[0],
      zmax: colorRange(d.data, Q)[1],
      title: `Memory length per pixel: ${IMAGE.split("/").pop()}`,
      colorscale: "Hot",
      colorbarTitle: "px (half res.)",
      width: 640,
      height: Math.round(600 * d.height / d.width) + 60,
    }),
    "06_memory_map",
  );
  const edges = rf.edgeMap(small, 2, mem.width, mem.height);
  const blocks = [...new Set(maps.map((m) => m.block))];
  await showAndSaveTable(
    "06_gate_stats",
    blocks.map((b) => {
      const bm = maps.filter((m) => m.block === b);
      const all = new Float32Array(bm.reduce((n, m) => n + m.data.length, 0));
      let o = 0;
      for (const m of bm) all.set(m.data, (o += m.data.length) - m.data.length);
      const st = rf.gateStats(all);
      return {
        block: b,
        "mean |g|": st.meanAbs,
        "p90 |g|": st.p90Abs,
        "median memory (px)": st.medianMemory,
        "p90 memory (px)": st.p90Memory,
        "corr(memory, edges)": rf.correlation(rf.memoryMap(bm).data, edges.data),
      };
    }),
    {
      title:
        `Per block: the per-pixel mean |g| over its directions and channels (memory in half-resolution pixels)`,
    },
  );
} else {
  await showMarkdown("(no gate maps: no figure)");
}

// %%
model?.dispose();
await showMarkdown(
  [
    result.length
      ? `**Done.** ${MODEL} deblurred ${blurry.width}x${blurry.height} pixels in ${
        (result[1].ms! / 1000).toFixed(2)
      } s on ${ctx.backend}${
        sharpUsed ? `: PSNR ${result[0].psnr!.toFixed(2)} → ${result[1].psnr!.toFixed(2)} dB` : ""
      }.`
      : `**Nothing was deblurred**: ${choice.message}`,
    choice.status === "fresh"
      ? "The model is an untrained stand-in (the shipped checkpoint is missing): its output is not a deblurred image."
      : "",
    ctx.quick ? "\n\n*(Quick mode: the photo was scaled down first.)*" : "",
  ].filter(Boolean).join(" "),
);
