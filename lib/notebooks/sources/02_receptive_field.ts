// Source of notebooks/02_receptive_field.ipynb in the "percent" format (see
// 01_iir_derivation.ts). Build: `deno run -A lib/notebooks/build.ts 02_receptive_field --force`;
// execute: `deno task reproduce --only 02`.

// %% [markdown]
// # 02 · How far does each output pixel see?
//
// **Question.** Notebook 01 showed that inverting a blur needs an *infinite* impulse
// response, which a recursion has and a convolution does not. Does that carry over to the
// 2-D networks? How far does an output pixel of SVRNN actually see, with 1, 2 or 4 RNN
// blocks and 1, 2 or 4 scan directions, compared with a CNN of the same size, before and
// after training? And once trained, *which pixels* does SVRNN give a long memory?
//
// **Method.** The *effective receptive field* (ERF, Luo et al. 2016) of an output pixel is
// the gradient of that pixel with respect to every input pixel,
// $|\partial y(c) / \partial x|$, summed over colour channels: zero where the input cannot
// influence the pixel, large where it matters. It is measured, not counted, so it reflects
// the actual gates. Gate maps come from `model.analyze(x)`: for every pixel, block,
// direction and channel the gate $g$ of the recursion $h[t] = (1-g)\,x[t] + g\,h[t-1]$;
// its *memory length* $-1/\ln|g|$ is the number of pixels after which a sample's
// influence has dropped to $1/e$.
//
// 0. the network itself, as a diagram drawn from its config, and its scan as code, run on
//    one impulse;
// 1. the structure of the ERF with the gates held open (fixed $g = 0.9$): blocks and
//    directions;
// 2. the same networks at initialisation (learned gates, random weights);
// 3. the trained networks (the shipped `svrnn-small` and `nah-small`);
// 4. the gate maps of a real motion-blurred photograph: where the memory is long.
//
// The logic lives in `lib/analysis/receptive_field.ts` (tested in
// `tests/receptive_field_test.ts`), the diagram in `lib/viz/architecture.ts`, the rows and
// sentences built from the numbers in `lib/notebooks/receptive_field_views.ts`. Figures go
// to `results/figures/02_*`, tables to `results/tables/02_*`.

// %%
import * as tf from "@tensorflow/tfjs";
import * as rf from "#lib/analysis/receptive_field.ts";
import { backendDifference, scanImpulseResponses } from "#lib/analysis/scan_impulse.ts";
import { createModel, modelConfig } from "#lib/models/registry.ts";
import { ABLATION_REFERENCE, factorVariants } from "#lib/models/variants.ts";
import type { SVRNNConfig } from "#lib/models/svrnn.ts";
import type { DeblurModel } from "#lib/models/model.ts";
import { readImage } from "#lib/data/image_io.ts";
import {
  cropImage,
  fitWithin,
  flipHorizontal,
  flipVertical,
  type RgbImage,
} from "#lib/data/image.ts";
import { imageToTensor } from "#lib/data/tensor.ts";
import { barFigure, heatmapFigure, imageFigure, lineFigure } from "#lib/viz/figure.ts";
import { menuFigure } from "#lib/viz/menus.ts";
import { colormapImage, colorRange, montage } from "#lib/viz/colormap.ts";
import { imageDataUrl } from "#lib/viz/image.ts";
import { showImages, showMarkdown } from "#lib/viz/show.ts";
import { showAndSave, showAndSaveSvg, showAndSaveTable, writeFigure } from "#lib/viz/write.ts";
import { architectureBundle } from "#lib/viz/architecture.ts";
import * as views from "#lib/notebooks/receptive_field_views.ts";
import { codeMarkdown, libFunctionSource } from "#lib/notebooks/source_code.ts";
import { quick } from "#lib/notebooks/env.ts";
import { notebookSetup } from "#lib/notebooks/setup.ts";
import {
  loadShipped,
  relPath,
  resolvePath,
  shippedOrFallback,
  trainedCheckpointPaths,
} from "#lib/notebooks/resources.ts";
import { degraded } from "#lib/notebooks/degraded.ts";

const ctx = await notebookSetup("wasm"); // the wasm backend: 40x the pure-JS cpu backend here

// Parameters: edit and re-run.
const SIZE = quick(128, 48); // side of the square input the ERFs are measured on (multiple of 8)
const IMAGE = "data/fixtures/clock_motion.png"; // a real motion-blurred photo (repo-relative)
const OPEN_GATE = 0.9; // section 1: every gate fixed at this value
const FLOOR = 1e-6; // ERF maps are drawn on a log scale down to this fraction of their peak
const GATE_IMAGE_SIDE = quick(384, 128); // section 4: longer side of the analysed photo
const ERF_PHOTOS = quick(
  ["data/fixtures/chelsea.png", "data/fixtures/coffee.png"],
  [] as string[],
); // more ERF inputs besides IMAGE

// Maps are drawn between their 2nd and 98th percentiles (image borders can be extreme).
const Q: [number, number] = [0.02, 0.98];
const rangeText = (v: ArrayLike<number>) => {
  const [lo, hi] = colorRange(v, Q);
  return `${lo.toFixed(2)} to ${hi.toFixed(2)}`;
};
const photo = await readImage(resolvePath(IMAGE));
const centreCrop = (img: RgbImage) =>
  cropImage(img, (img.width - SIZE) >> 1, (img.height - SIZE) >> 1, SIZE, SIZE);
// ERF inputs: centre crops of a few photos, each also rotated by 180 degrees, so that the
// image content favours no side (the ERF of a nonlinear network depends on its input).
const crops: RgbImage[] = [];
for (const path of [IMAGE, ...ERF_PHOTOS]) {
  const c = centreCrop(path === IMAGE ? photo : await readImage(resolvePath(path)));
  crops.push(c, flipVertical(flipHorizontal(c)));
}
await showMarkdown(
  `Backend: **${ctx.backend}**; quick mode: **${ctx.quick}**. ERFs of the centre pixel ` +
    `(${SIZE >> 1}, ${SIZE >> 1}) averaged over ${crops.length} inputs of ${SIZE}x${SIZE}: ` +
    `centre crops of ${
      [IMAGE, ...ERF_PHOTOS].map((p) => `\`${p.split("/").pop()}\``).join(", ")
    } ` +
    `and their 180° rotations.`,
);
await showImages(
  crops.filter((_, i) => i % 2 === 0).map((c, i) => ({ image: c, label: `input ${2 * i + 1}` })),
  { scale: SIZE < 96 ? 2 : 1 },
);

// %% [markdown]
// ## 0. The network, and one scan as code
//
// The diagram is drawn from the model's config by `architectureSvg`
// (`lib/viz/architecture.ts`), with the layer sizes of the builder itself (`svrnnLayers` in
// `lib/models/svrnn.ts`), so it shows any variant:
// `architectureSvg(modelConfig("svrnn-small-2dir") as SVRNNConfig)` draws the two-direction
// ablation, and any other variant's config its own network (its blocks, directions, gate
// source, fusing and widths). The encoder and decoder are plain convolutions; all the
// long-range work is in the RNN blocks, each scanning its input in every direction with
// gates that the gate CNN predicts from the image.

// %%
await showAndSaveSvg(
  architectureBundle(modelConfig("svrnn-small") as SVRNNConfig, { name: "svrnn-small" }),
  "02_architecture",
);

// %% [markdown]
// Every chip in a block is one call of the gate-recurrent operator `gateRecurrent`
// (`lib/ops/gate_rnn.ts`). Its reference loop, the cpu backend's kernel (the wasm and WebGPU
// kernels compute the same recursion), read from the library file:

// %%
await showMarkdown(codeMarkdown(await libFunctionSource("ops/gate_rnn_cpu.ts", "scanForward")));

// %% [markdown]
// Run on a 7x7 single-channel image holding one impulse at its centre, with every gate at
// 0.5, once per direction. Each row of the table is the output along the impulse's row
// (x offsets from it) or column (y offsets, down positive).

// %%
const impulse = scanImpulseResponses({ side: 7, gate: 0.5 });
await showAndSaveTable("02_scan_impulse", views.scanImpulseRows(impulse), {
  title:
    "One scan of a centre impulse per direction, g = 0.5: the output along the impulse's row and column",
});
await showMarkdown(views.scanImpulseSentence(impulse, backendDifference(impulse)));

// %% [markdown]
// ## 1. Structure: the gates held open
//
// First the geometry alone. `svrnn-small-fixed` replaces the learned gates by a constant
// (here $g = 0.9$, a memory of about 9.5 half-resolution pixels, 19 input pixels) while
// keeping everything else of `svrnn-small`; its config overrides choose the number of
// blocks and the scan directions. The CNN control `cnn-small` has the same skeleton and
// the same number of parameters as `svrnn-small`, with eight 3x3 convolutions instead of
// the RNN blocks and the gate CNN.
//
// Expected from the 1-D analysis: one block of four scans reaches along the row and column
// of the pixel (a cross); a second block spreads the cross over the whole plane; a single
// left→right scan only sees to the left (a causal filter); the CNN sees a fixed square and
// nothing beyond it.

// %%
type Probe = { label: string; model: string; overrides?: Record<string, unknown> };
// The small presets' global residual is switched off throughout: its output conv starts at
// zero, so with it every network below would start as the identity, a one-pixel field.
const NO_RESIDUAL = { residual: false };
const open = { gate: "fixed", gateValue: OPEN_GATE, ...NO_RESIDUAL };
const structureProbes: Probe[] = [
  { label: "1 block, 4 dir.", model: "svrnn-small-fixed", overrides: { ...open, numBlocks: 1 } },
  { label: "2 blocks, 4 dir.", model: "svrnn-small-fixed", overrides: { ...open, numBlocks: 2 } },
  { label: "4 blocks, 4 dir.", model: "svrnn-small-fixed", overrides: open },
  {
    label: "4 blocks, 1 dir. (L→R)",
    model: "svrnn-small-fixed",
    overrides: { ...open, directions: ["left-right"] },
  },
  {
    label: "4 blocks, 2 dir. (L→R, R→L)",
    model: "svrnn-small-fixed",
    overrides: { ...open, directions: ["left-right", "right-left"] },
  },
  { label: "CNN control (cnn-small)", model: "cnn-small", overrides: NO_RESIDUAL },
];

/** ERF of a freshly built model (its seeded initial weights) on the crop. */
function erfOf(p: Probe): rf.ReceptiveField {
  const m = createModel(p.model, p.overrides);
  try {
    return rf.effectiveReceptiveField(m, crops);
  } finally {
    m.dispose();
  }
}

const structure = structureProbes.map((p) => ({ ...p, erf: erfOf(p) }));

/** The ERF map on a log colour scale from FLOOR (dark) to its peak (yellow). */
const erfImage = (e: rf.ReceptiveField) =>
  colormapImage(e.data, e.width, e.height, {
    transform: (v) => Math.log10(Math.max(v, FLOOR * 0.1)),
    range: [Math.log10(FLOOR), 0],
    upscale: SIZE < 96 ? 2 : 1,
  });
await showImages(
  structure.map((s) => ({ image: erfImage(s.erf), label: s.label })),
  {
    title: `Effective receptive fields, gates fixed at ${OPEN_GATE} (log scale, ${FLOOR} to 1)`,
    scale: SIZE < 96 ? 1 : 1.5,
  },
);
// The same maps side by side as one figure file (results/figures/02_erf_open_gates_montage.*).
const structureMontage = montage(structure.map((s) => erfImage(s.erf)), { gap: 6 });
const _montageFiles = await writeFigure(
  imageFigure(imageDataUrl(structureMontage), structureMontage.width, structureMontage.height, {
    title: `ERFs, gates at ${OPEN_GATE}: 1, 2, 4 blocks; 1, 2 directions; CNN control`,
  }),
  "02_erf_open_gates_montage",
);

// %%
const FAR = SIZE >> 3; // the "far field": farther than this from the output pixel (px)
const erfRow = (label: string, e: rf.ReceptiveField, extra: Record<string, unknown> = {}) =>
  views.erfRow(label, e, { floor: FLOOR, far: FAR }, extra);
await showAndSaveTable("02_erf_open_gates", structure.map((s) => erfRow(s.label, s.erf)), {
  title:
    `ERF of the centre pixel, gates fixed at ${OPEN_GATE}: radius (px) holding 50/90/99 % of the gradient mass, reach, and the far field (more than ${FAR} px away along an axis): 0.5 = balanced, 1 = all on the left (or top)`,
});

// %%
/** A heatmap figure per ERF (log10), downsampled to at most 32 x 32 to keep files small. */
const erfHeatmap = (e: rf.ReceptiveField, title: string) => {
  const d = rf.downsampleMap(e, Math.max(1, Math.ceil(e.width / 32)));
  return heatmapFigure(
    rf.mapRows(d, (v) => Math.max(Math.log10(Math.max(v, 1e-12)), Math.log10(FLOOR))),
    {
      title,
      zmin: Math.log10(FLOOR),
      zmax: 0,
      colorbarTitle: "log10 |grad|",
      width: 560,
      height: 520,
      xTitle: `x (1 cell = ${Math.ceil(e.width / 32)} px)`,
      yTitle: "y",
    },
  );
};
await showAndSave(
  menuFigure(
    structure.map((s) => ({
      label: s.label,
      figure: erfHeatmap(s.erf, `ERF, gates fixed at ${OPEN_GATE}: ${s.label}`),
    })),
  ),
  "02_erf_open_gates_maps",
);

// %%
const rowProfile = (e: rf.ReceptiveField) =>
  Array.from(rf.profile(e, "row"), (v) => (v > 0 ? v : NaN)); // exact zeros: gaps on a log axis
await showAndSave(
  lineFigure(
    structure.map((s) => ({
      name: s.label,
      x: Array.from({ length: SIZE }, (_, i) => i - s.erf.at.x),
      y: rowProfile(s.erf),
    })),
    {
      title: `ERF along the centre row, gates fixed at ${OPEN_GATE} (gaps: exactly zero)`,
      xTitle: "x offset from the output pixel (px)",
      yTitle: "|grad| / peak",
      logY: true,
    },
  ),
  "02_erf_open_gates_profile",
);
const decay = views.decayOf(structure, { from: FAR });
await showAndSaveTable("02_erf_open_gates_decay", views.decayRows(decay), {
  title:
    `ERF along the centre row beyond ${FAR} px: decay factor per 2 px (one gate step at half resolution; fitted on log |grad|) and where it is exactly zero`,
});
await showMarkdown(
  views.decaySentence(decay, {
    oneBlock: structure[0].label,
    fourBlocks: structure[2].label,
    oneDir: structure[3].label,
    cnn: structure[5].label,
  }, OPEN_GATE),
);

// %% [markdown]
// Read the row profiles away from the centre: the CNN's gradient is **exactly zero**
// beyond its receptive field (the gap on the log axis), while every SVRNN variant's keeps
// going to the border, on both sides or (one direction) on one. The single-direction
// network is exactly zero a little to the right of the pixel, once the convolutions' reach
// is used up: a causal scan, the 2-D twin of notebook 01's causal recursion, which cannot
// invert a kernel with zeros outside the unit circle. In the maps, one block of four scans
// reaches along the pixel's row and column (a cross, as the impulse table of section 0
// predicts); two blocks reach every pixel of the crop. The far-field columns of the first
// table show that four directions see both sides of the pixel but not equally; the CNN
// control, without any scan, is just as uneven.

// %% [markdown]
// ## 2. At initialisation: the learned gates start almost closed
//
// Now the real networks, with the gate CNN that predicts a gate per pixel, block,
// direction and channel, at their seeded initial weights (Xavier, as the paper's Caffe
// code). The variants are the registered ablations of `svrnn-small`: 1, 2 and 4 blocks,
// 1, 2 and 4 directions, plus the CNN control and `nah-small` (Nah et al.'s multi-scale
// CNN at a comparable size), without the small presets' global residual, so that what is
// measured is the network itself (with it, each starts as the identity).

// %%
// The ablation's block and direction groups (lib/models/variants.ts) without 3 blocks (two
// already reach every pixel of the crop, section 1), and its CNN control.
const ablationProbes = [
  ...factorVariants("blocks").filter((m) => (modelConfig(m) as SVRNNConfig).numBlocks !== 3),
  ...factorVariants("directions").filter((m) => m !== ABLATION_REFERENCE),
  ...factorVariants("cnn").filter((m) => m !== ABLATION_REFERENCE),
];
const initProbes: Probe[] = [...ablationProbes, "nah-small"].map((model) => ({
  label: model === ABLATION_REFERENCE ? `${model} (4 blocks, 4 dir.)` : model,
  model,
  overrides: NO_RESIDUAL,
}));
/** Mean |g| over every gate of a model on the crop (NaN without gates). */
function meanAbsGate(m: DeblurModel, img: RgbImage): number {
  const x = imageToTensor(img);
  const a = m.analyze(x);
  const maps = rf.gateMaps(a.intermediates);
  tf.dispose([x, a.output, ...Object.values(a.intermediates)]);
  if (maps.length === 0) return NaN;
  return maps.reduce((s, g) => s + g.stats.meanAbs, 0) / maps.length;
}
const atInit = initProbes.map((p) => {
  const m = createModel(p.model, p.overrides);
  try {
    return {
      ...p,
      params: m.paramCount(),
      erf: rf.effectiveReceptiveField(m, crops),
      gate: meanAbsGate(m, crops[0]),
    };
  } finally {
    m.dispose();
  }
});
await showAndSaveTable(
  "02_erf_init",
  atInit.map((s) =>
    erfRow(s.label, s.erf, {
      params: s.params,
      "mean |g|": Number.isNaN(s.gate) ? "no gates" : s.gate,
    })
  ),
  { title: "ERF of the centre pixel at initialisation (seeded initial weights)" },
);
await showImages(atInit.map((s) => ({ image: erfImage(s.erf), label: s.label })), {
  title: "ERFs at initialisation (log scale)",
  scale: SIZE < 96 ? 1 : 1.5,
});

// %%
await showAndSave(
  lineFigure(
    atInit.map((s) => {
      const c = rf.cumulativeMass(s.erf);
      return { name: s.label, x: c.radius, y: c.fraction };
    }),
    {
      title: "Share of the gradient mass within a radius, at initialisation",
      xTitle: "radius around the output pixel (px)",
      yTitle: "cumulative share",
    },
  ),
  "02_erf_init_mass",
);

// %% [markdown]
// At initialisation the gate CNN's tanh outputs are small (the "mean |g|" column), so the
// recursions forget within a pixel and every network's ERF is dominated by its
// convolutions (conve1_1 is 11x11, convd1_1 9x9 at half resolution): the variants' radii
// r50, r90 and r99 are within a pixel of the CNN control's, and their reach (the farthest
// pixel above the floor) is close to the CNN's: 3 to 13 px farther, and a pixel nearer
// for `svrnn-small-2dir`. Long range is not built in; the gates have to *learn* to open.
// (`nah-small` has the farthest reach and the tightest core, the smallest r50 and r90: its
// coarsest scale works at a quarter of the resolution.)

// %% [markdown]
// ## 3. After training
//
// The shipped models were trained by `deno task train` on the synthetic benchmark (see
// notebook 03 for their curves). Their ERFs on the same crop, against the same
// architecture at initialisation. The other variants' trained weights are those of the
// GoPro-like ablation (2,000 steps each, `recipes/ablation.json`), released in
// `results/checkpoints/ablations/` by `deno task ablate --release results/checkpoints/ablations`.

// %%
const svrnnShipped = await shippedOrFallback("svrnn-small");
const nahShipped = await shippedOrFallback("nah-small");
await showMarkdown([svrnnShipped.message, nahShipped.message].join("\n\n"));
const trained: { label: string; erf: rf.ReceptiveField; gate: number; init: rf.ReceptiveField }[] =
  [];
const initOf = (name: string) => atInit.find((s) => s.model === name)?.erf;
for (const [name, choice] of [["svrnn-small", svrnnShipped], ["nah-small", nahShipped]] as const) {
  if (!choice.model) continue;
  trained.push({
    label: `${name} (${choice.status === "shipped" ? "trained" : "untrained stand-in"})`,
    erf: rf.effectiveReceptiveField(choice.model, crops),
    gate: meanAbsGate(choice.model, crops[0]),
    init: initOf(name)!,
  });
}
// The ablation variants' released weights.
const extra: string[] = [], untrained: string[] = [];
for (const name of ablationProbes.filter((m) => m !== ABLATION_REFERENCE)) {
  const s = await loadShipped(name, { ablationRuns: true });
  if (!s.ok) {
    untrained.push(name);
    continue;
  }
  trained.push({
    label: `${name} (trained)`,
    erf: rf.effectiveReceptiveField(s.model, crops),
    gate: meanAbsGate(s.model, crops[0]),
    init: initOf(name)!,
  });
  extra.push(name);
  s.model.dispose();
}
if (untrained.length > 0) {
  const where = relPath(trainedCheckpointPaths("NAME")[1]);
  degraded(`trained ablation variants ${untrained.join(", ")} (${where})`, "left out");
  await showMarkdown(
    `No trained weights for ${untrained.join(", ")} (\`${where}\`, released by ` +
      "`deno task ablate --release`): their rows are left out below.",
  );
}
if (trained.length === 0) {
  await showMarkdown("No trained model is available: nothing to compare in this section.");
} else {
  await showAndSaveTable(
    "02_erf_trained",
    trained.flatMap((t) => [
      erfRow(t.label, t.erf, { "mean |g|": Number.isNaN(t.gate) ? "no gates" : t.gate }),
      erfRow(`  same, at initialisation`, t.init),
    ]),
    {
      title: `ERF of the centre pixel, trained against initial weights${
        extra.length ? ` (ablation runs: ${extra.join(", ")})` : ""
      }`,
    },
  );
}

// %%
if (trained.length > 0) {
  await showImages(
    trained.flatMap((t) => [
      { image: erfImage(t.init), label: `${t.label.split(" ")[0]} at init` },
      { image: erfImage(t.erf), label: t.label },
    ]),
    { title: "ERFs before and after training (log scale)", scale: SIZE < 96 ? 1 : 1.5 },
  );
  await showAndSave(
    lineFigure(
      trained.flatMap((t, i) => [
        {
          name: t.label,
          x: Array.from({ length: SIZE }, (_, k) => k - t.erf.at.x),
          y: rowProfile(t.erf),
          color: ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"][
            i % 7
          ],
        },
        {
          name: `${t.label.split(" ")[0]} at init`,
          x: Array.from({ length: SIZE }, (_, k) => k - t.init.at.x),
          y: rowProfile(t.init),
          dash: "dot" as const,
          width: 1.5,
          color: ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"][
            i % 7
          ],
        },
      ]),
      {
        title: "ERF along the centre row: trained (solid) against initialisation (dotted)",
        xTitle: "x offset from the output pixel (px)",
        yTitle: "|grad| / peak",
        logY: true,
      },
    ),
    "02_erf_trained_profile",
  );
} else {
  await showMarkdown("(no trained model: no figure)");
}

// %% [markdown]
// ## 4. Gate maps of a real blurry photograph: who gets long memory?
//
// `clock_motion.png` is a real photograph blurred by camera motion (scikit-image's sample
// data). SVRNN's gate CNN looks at it and predicts, for every pixel, block, direction and
// channel, how much of the running state to keep. Below: for each pixel the mean $|g|$
// over the channels of each block and direction, and the *memory length*
// $-1/\ln \overline{|g|}$ averaged over all of them (half-resolution pixels; capped at the
// image side). Bright = the scans carry information far through this pixel.

// %%
const gateModel = svrnnShipped.model;
const gatePhoto = fitWithin(photo, GATE_IMAGE_SIDE);
let maps: rf.GateMap[] = [];
if (!gateModel) {
  await showMarkdown(svrnnShipped.message);
} else {
  const x = imageToTensor(gatePhoto);
  const a = gateModel.analyze(x);
  maps = rf.gateMaps(a.intermediates);
  tf.dispose([x, a.output, ...Object.values(a.intermediates)]);
  const mem = rf.memoryMap(maps);
  const up = Math.max(1, Math.round(256 / mem.width));
  await showImages([
    { image: gatePhoto, label: `input ${gatePhoto.width}x${gatePhoto.height}` },
    {
      image: colormapImage(mem.data, mem.width, mem.height, {
        scale: "Hot",
        upscale: up,
        quantiles: Q,
      }),
      label: `memory length, ${rangeText(mem.data)} half-res px (dark to bright)`,
    },
  ], {
    title: `${gateModel.name} (${svrnnShipped.status === "shipped" ? "trained" : "untrained"})`,
    maxWidth: 384,
  });
}

// %%
if (maps.length > 0) {
  const blocks = [...new Set(maps.map((m) => m.block))];
  const shownBlocks = [blocks[0], blocks[blocks.length - 1]].filter((b, i, a) =>
    a.indexOf(b) === i
  );
  await showImages(
    maps.filter((m) => shownBlocks.includes(m.block)).map((m) => ({
      image: colormapImage(m.data, m.width, m.height, { quantiles: Q }),
      label: `block ${m.block}, ${m.direction}: ${rangeText(m.data)}`,
    })),
    {
      title: `Mean |g| per pixel (dark to yellow over the range given), blocks ${
        shownBlocks.join(" and ")
      }`,
      maxWidth: 200,
    },
  );
} else {
  await showMarkdown("(no gate maps)");
}

// %%
// Each gate map against the photo's local edge strength and brightness, on the maps' grid.
const edges = maps.length ? rf.edgeMap(gatePhoto, 2, maps[0].width, maps[0].height) : null;
const bright = maps.length ? rf.brightnessMap(gatePhoto, 2, maps[0].width, maps[0].height) : null;
const gateInputs: views.GateRowInput[] = maps.map((m) => ({
  ...m,
  corrEdges: rf.correlation(m.data, edges!.data),
  corrBrightness: rf.correlation(m.data, bright!.data),
}));
if (maps.length > 0) {
  await showAndSaveTable("02_gate_stats", views.gateRows(gateInputs), {
    title: `Gate statistics of ${
      gateModel!.name
    } on ${IMAGE} (${gatePhoto.width}x${gatePhoto.height}); memory in half-resolution pixels; last columns: correlation of the per-pixel mean |g| with the local edge strength and with the brightness`,
  });
} else {
  await showMarkdown("(no gate statistics)");
}

// %%
if (maps.length > 0) {
  const hist = views.gateHistogram(maps, 20);
  await showAndSave(
    barFigure(
      hist.centres,
      hist.series,
      {
        title: "Distribution of the per-pixel mean |g|, by block",
        xTitle: "mean |g| over channels (bin centre)",
        yTitle: "share of pixels",
      },
    ),
    "02_gate_histogram",
  );
  const mem = rf.memoryMap(maps);
  const d = rf.downsampleMap(mem, Math.max(1, Math.ceil(mem.width / 96)));
  await showAndSave(
    heatmapFigure(rf.mapRows(d), {
      zmin: colorRange(d.data, Q)[0],
      zmax: colorRange(d.data, Q)[1],
      title: `Memory length -1/ln(mean |g|) per pixel, ${IMAGE.split("/").pop()}`,
      colorscale: "Hot",
      colorbarTitle: "px (half res.)",
      width: 640,
      height: Math.round(640 * d.height / d.width) + 40,
    }),
    "02_memory_map",
  );
} else {
  await showMarkdown("(no gate maps: no figures)");
}

// %% [markdown]
// ## What this means
//
// The answers to the opening questions, each with the numbers from the tables above that
// it rests on (written by `erfAnswer` in `lib/notebooks/receptive_field_views.ts` from this
// run's measurements, so the words follow the numbers):

// %%
{
  const sum = (e: rf.ReceptiveField) => rf.erfSummary(e, { threshold: FLOOR, far: FAR });
  const initOfModel = (name: string) => atInit.find((s) => s.model === name)!;
  const trainedOf = (name: string) => trained.find((t) => t.label.startsWith(`${name} (`));
  const sv = trainedOf("svrnn-small"), nah = trainedOf("nah-small");
  const dir1 = trainedOf("svrnn-small-1dir"), cnnT = trainedOf("cnn-small");
  const mem = maps.length ? rf.memoryMap(maps) : null;
  await showMarkdown(views.erfAnswer({
    size: SIZE,
    far: FAR,
    openGate: OPEN_GATE,
    open: {
      oneBlock: sum(structure[0].erf),
      fourBlocks: sum(structure[2].erf),
      oneDir: sum(structure[3].erf),
      cnn: sum(structure[5].erf),
    },
    init: {
      svrnn: sum(initOfModel("svrnn-small").erf),
      svrnnGate: initOfModel("svrnn-small").gate,
      cnn: sum(initOfModel("cnn-small").erf),
      variantReach: atInit.filter((s) => s.model.startsWith("svrnn")).map((s) => sum(s.erf).extent),
    },
    trained: sv
      ? {
        shipped: svrnnShipped.status === "shipped",
        svrnn: sum(sv.erf),
        svrnnGate: sv.gate,
        oneDir: dir1 ? sum(dir1.erf) : undefined,
        nah: nah ? sum(nah.erf) : undefined,
        cnn: cnnT ? sum(cnnT.erf) : undefined,
      }
      : undefined,
    gates: mem
      ? {
        maps: gateInputs,
        corr: {
          edges: rf.correlation(mem.data, edges!.data),
          brightness: rf.correlation(mem.data, bright!.data),
        },
      }
      : undefined,
    quick: ctx.quick,
  }));
}

// %% [markdown]
// Next: **03_training** trains a model live and shows the shipped models' full training
// curves.
