// Source of notebooks/04_ablations.ipynb in the "percent" format (see 01_iir_derivation.ts).
// Build: `deno run -A lib/notebooks/build.ts 04_ablations --force`; execute:
// `deno task reproduce --only 04`.

// %% [markdown]
// # 04 · Ablations: which parts of SVRNN matter?
//
// **Question.** SVRNN combines several ideas: gates that vary per pixel (predicted by a
// CNN from the blurry image), four scan directions, four stacked RNN blocks, a 3x3 conv
// fusing the directions after each block. Which of them earn their keep, and is a
// recurrent network better than a plain CNN with the same number of parameters?
//
// **Method.** Each question is a set of variants of `svrnn-small` that differ in one thing
// only; every variant is a registered config of the same code (declared in
// `lib/models/variants.ts`, registered in `lib/models/registry.ts`),
// trained with exactly the same budget (same data, same batches, same steps, same seed)
// and evaluated on the same test images. `deno task ablate` does this for all of them and
// writes `results/ablations.json`; this notebook shows that file, and lets you train and
// evaluate a variant of your own (section 3).
//
// | factor | variants |
// |---|---|
// | gates | spatially variant (the paper), spatially invariant (one learned value per channel), fixed at 0.5 |
// | RNN blocks | 1, 2, 3, 4 |
// | scan directions | 1 (left→right), 2 (left→right, right→left), 4 |
// | fusing conv | conv_rnnK after each block, or an elementwise max |
// | RNN versus CNN | `cnn-small`: the same skeleton with eight 3x3 convs, same size |

// %%
import { listModels, modelConfig } from "#lib/models/registry.ts";
import { DEFAULT_SVRNN_CONFIG } from "#lib/models/svrnn.ts";
import { lineFigure } from "#lib/viz/figure.ts";
import { showMarkdown, showTable } from "#lib/viz/show.ts";
import { showAndSave, showAndSaveTable } from "#lib/viz/write.ts";
import { quick } from "#lib/notebooks/env.ts";
import { DEFAULT_QUICK_BENCHMARK } from "#lib/data/benchmark.ts";
import { notebookSetup } from "#lib/notebooks/setup.ts";
import { type Ablations, readAblations, resolvePath } from "#lib/notebooks/resources.ts";
import { degraded } from "#lib/notebooks/degraded.ts";
import {
  experimentAsVariant,
  type ExperimentResult,
  trainAndEvaluate,
  trainingProgress,
} from "#lib/notebooks/experiments.ts";
import { ABLATION_VARIANTS } from "#lib/models/variants.ts";
import {
  ablationRows,
  acrossSeedsRows,
  factorFigure,
  lossFigure,
  overviewFigure,
  perImageByImageFigure,
  perImageByVariantFigure,
  vsReferenceFigure,
  vsReferenceRows,
} from "#lib/notebooks/ablation_views.ts";

const ctx = await notebookSetup("wasm");

// Parameters: edit and re-run.
const ABLATIONS_FILE = "results/ablations.json"; // written by `deno task ablate`
const SEED_FILE = "results/ablations.seed1.json"; // the variants again with --seed 1 (optional)

const variantNames = new Set(ABLATION_VARIANTS);
await showAndSaveTable(
  "04_variants",
  listModels().filter((m) => variantNames.has(m.name)).map((m) => ({
    model: m.name,
    params: m.params,
    description: m.description,
  })),
  { title: "The ablation variants (registered configs of svrnn-small)" },
);
await showMarkdown(`Backend: **${ctx.backend}**; quick mode: **${ctx.quick}**.`);

// %% [markdown]
// ## 1. Results of `deno task ablate`
//
// The table and figures below come from `results/ablations.json`. Its recipe (steps,
// batch, patch size, learning rate, seed), data and backend are printed with it; "gain"
// is the mean PSNR of the output minus that of the blurry input on the test images.

// %%
const ablations: Ablations | null = await readAblations(resolvePath(ABLATIONS_FILE));
if (!ablations) {
  degraded(`ablation results (${ABLATIONS_FILE})`, "left out");
  await showMarkdown(
    [
      `**\`${ABLATIONS_FILE}\` is missing**, so there are no ablation results to show yet.`,
      "",
      "Make it with",
      "",
      "```sh",
      "deno task data && deno task data benchmark   # the synthetic benchmark, once (minutes)",
      "deno task ablate                             # every variant, same budget (hours on a 2-core CPU)",
      "```",
      "",
      `\`deno task ablate\` trains the ${ABLATION_VARIANTS.length} variants one after the other (2000 steps of 8 patches of`,
      "64x64 each by default), resumes where it stopped when interrupted, and writes",
      `\`${ABLATIONS_FILE}\`; then re-run this notebook. A smoke test in seconds:`,
      "`deno task ablate --benchmark synth-v2-quick --steps 5 --batch 2 --patch 32 --eval-images 2 --out /tmp/a.json`",
      "(point `ABLATIONS_FILE` at it). Section 3 below trains a variant of your choice right here.",
    ].join("\n"),
  );
} else {
  const r = ablations.recipe ?? {};
  await showMarkdown(
    `\`${ABLATIONS_FILE}\`: ${ablations.variants.length} variants; data: ${
      ablations.data ?? "?"
    }; recipe: ${r.steps} steps x ${r.batchSize} patches of ${r.patchSize}x${r.patchSize}, ` +
      `lr ${r.learningRate}, seed ${r.seed}; backend: ${ablations.backend ?? "?"}; commit ${
        ablations.provenance?.commit?.slice(0, 10) ?? "?"
      } (${ablations.provenance?.date ?? "?"}).`,
  );
  await showAndSaveTable("04_ablations", ablationRows(ablations), {
    title: "Ablations of svrnn-small, same training budget for every variant",
  });
}

// %% [markdown]
// **Which differences are real?** Hard test images are hard for every variant, so the
// variants are compared image by image: each variant's PSNR minus svrnn-small's on the
// same image, averaged, with a 95% bootstrap interval over the test images (10,000
// resamples, seeded; `lib/analysis/paired.ts`). An interval that contains 0 means this
// test set cannot rank the two at this budget ("not resolved"). It covers the choice of
// test images only: a second training seed would add its own spread. With nine comparisons
// at 95% each, about one verdict in twenty is expected to be chance.

// %%
if (ablations) {
  await showAndSaveTable("04_ablation_vs_reference", vsReferenceRows(ablations), {
    title: "Each variant against svrnn-small on the same test images (paired)",
  });
  const f = vsReferenceFigure(ablations);
  if (f) await showAndSave(f, "04_ablation_vs_reference");
}

// %% [markdown]
// **And the training seed?** The same recipe with another seed draws other initial weights
// and other batches. Retraining the variants that way (`SEED_FILE`) measures how far a
// retrain alone moves a variant, which is the yardstick for the differences above; the
// next columns show each variant against svrnn-small under either seed, and the last
// gives a verdict only where both seeds resolve the difference the same way.

// %%
const seeds: Ablations | null = await readAblations(resolvePath(SEED_FILE));
if (ablations && seeds) {
  await showAndSaveTable("04_ablation_seeds", acrossSeedsRows(ablations, seeds), {
    title: "The same variants with another training seed, paired by image",
  });
} else {
  degraded(`second-seed ablation results (${SEED_FILE})`, "left out");
  await showMarkdown(
    `\`${SEED_FILE}\` is missing: make it with \`deno task ablate --seed 1 ` +
      `--runs runs/ablations-seed1 --out ${SEED_FILE}\`` +
      " (a few hours on one core; `--variants` picks some), then re-run this cell.",
  );
}

// %%
/** Every figure of an ablation study, shown and written as `${prefix}_NAME`. */
async function showAblationFigures(a: Ablations, prefix: string) {
  const out = (fig: ReturnType<typeof overviewFigure>, name: string) =>
    showAndSave(fig, `${prefix}_${name}`);
  await out(overviewFigure(a), "overview");
  const f = factorFigure(a);
  if (f) await out(f, "factors");
  await out(lossFigure(a), "loss");
  const byVariant = perImageByVariantFigure(a);
  if (byVariant) await out(byVariant, "per_image_by_variant");
  const byImage = perImageByImageFigure(a);
  if (byImage) await out(byImage, "per_image_by_image");
}
if (ablations) await showAblationFigures(ablations, "04_ablation");
else await showMarkdown("(no ablation results: no figures; see the note above)");

// %% [markdown]
// The per-variant figure has a **dropdown** (top left) to pick the variant; the per-image
// figure has a **slider** to walk through the test images, showing every variant's gain
// on that image. Both are interactive in JupyterLab and in the HTML files under
// `results/figures/`; static renderings show the first entry.

// %% [markdown]
// ## 2. The knobs
//
// Every field of SVRNN's config can be overridden when a model is built
// (`createModel(name, overrides)`); the ablation names are presets of these. The table
// lists the paper's value and `svrnn-small`'s.

// %%
const small = modelConfig("svrnn-small") as unknown as Record<string, unknown>;
await showTable(
  Object.entries(DEFAULT_SVRNN_CONFIG).map(([k, v]) => ({
    field: k,
    "svrnn (paper)": JSON.stringify(v),
    "svrnn-small": JSON.stringify(small[k]),
  })),
  { title: "SVRNN config fields (lib/models/svrnn.ts)" },
);

// %% [markdown]
// ## 3. Your variant: edit, train, evaluate
//
// Change `MY_VARIANT` below (any registered model name, any config overrides) and re-run
// the cell: it trains your variant and the unchanged `svrnn-small` with the same budget
// from the same seed, on the synthetic benchmark made from the committed fixtures, and
// compares them. The default budget takes a minute or two on a 2-core CPU; quick mode
// shrinks it to a few steps. At this budget both networks have barely moved from the
// identity they start from (the small presets add a global residual), so the gains over the
// blurry input are small and can be negative: compare the two runs with each other. For numbers worth
// reporting, use `deno task ablate` with your variant registered, or `deno task train`.

// %%
const BUDGET = {
  steps: quick(80, 4),
  batchSize: quick(4, 2),
  patchSize: quick(48, 32),
  learningRate: 1e-3,
  seed: 0,
  benchmark: DEFAULT_QUICK_BENCHMARK.name, // from the committed fixtures
  evalImages: quick(4, 2),
};
const MY_VARIANT = {
  model: "svrnn-small",
  overrides: {
    numBlocks: 2, // 1..4 (the paper: 4)
    directions: ["left-right", "right-left", "top-bottom", "bottom-top"], // any non-empty subset
    gate: "variant", // "variant" | "invariant" | "fixed"
    fuse: true, // conv_rnnK after every block
  } as Record<string, unknown>,
  ...BUDGET,
};
const BASELINE = { model: "svrnn-small", overrides: {}, ...BUDGET };

const runs: ExperimentResult[] = [];
for (const cfg of [BASELINE, MY_VARIANT]) {
  const p = trainingProgress(cfg.model);
  console.log(`training ${JSON.stringify(cfg.overrides)} ...`);
  runs.push(await trainAndEvaluate(cfg, { onLog: p.onLog }));
}
await showAndSaveTable(
  "04_my_variant",
  runs.map((r) => ({
    variant: r.label,
    params: r.params,
    steps: r.steps,
    patches: r.patches,
    "train (s)": r.trainSec,
    PSNR: r.summary.meanPsnr,
    SSIM: r.summary.meanSsim,
    "gain (dB)": r.summary.gainPsnr,
    "input PSNR": r.summary.meanInputPsnr,
  })),
  { title: `Your variant against svrnn-small, same budget (${runs[0].data})` },
);

// %%
await showAndSave(
  lineFigure(
    runs.map((r) => ({
      name: r.label,
      x: r.loss.map((l) => l.step),
      y: r.loss.map((l) => l.loss),
      mode: "lines+markers" as const,
      markerSize: 4,
    })),
    {
      title: "Training loss: your variant against svrnn-small",
      xTitle: "step",
      yTitle: "L2 loss (sum / 2 / batch)",
      logY: true,
    },
  ),
  "04_my_variant_loss",
);

// %% [markdown]
// The same views as section 1, for the two runs of this section (a small study of your
// own: add more configs to the loop above to compare more variants).

// %%
await showAblationFigures(
  { variants: runs.map(experimentAsVariant), description: "this notebook's runs" },
  "04_my_variant",
);
const [base, mine] = runs;
await showMarkdown(
  [
    `**Measured here.** With ${base.steps} steps of ${BUDGET.batchSize} patches, ` +
    `svrnn-small gains ${base.summary.gainPsnr.toFixed(2)} dB and your variant ` +
    `(${mine.params.toLocaleString("en-US")} parameters) ${mine.summary.gainPsnr.toFixed(2)} dB ` +
    `on ${base.perImage.length} test images.`,
    ablations
      ? `In \`${ABLATIONS_FILE}\` (${
        ablations.recipe?.steps ?? "?"
      } steps per variant), the best variant is ${
        [...ablations.variants].sort((a, b) => b.summary.gainPsnr - a.summary.gainPsnr)[0]?.model
      }.`
      : `Run \`deno task ablate\` for the full study.`,
    ctx.quick ? "\n\n*(Quick mode: a few steps per run; the numbers are not meaningful.)*" : "",
  ].join(" "),
);

// %% [markdown]
// ## Reading the ablations
//
// * **Gates.** If spatially variant gates beat invariant ones at the same budget, the
//   network uses its per-pixel estimate of how far to look (notebook 02 shows where the
//   gates open); fixed gates remove learning from the recursion altogether.
// * **Blocks and directions.** Notebook 02 predicts that one direction sees a half-plane
//   and one block a cross; below two blocks of four directions, part of the image is out
//   of reach.
// * **RNN versus CNN.** `cnn-small` has the same parameters and skeleton; the difference
//   is the receptive field (finite for the CNN) and the input-dependent gates.
// * Every variant starts as the identity (the small presets' residual), so the table measures
//   how much sharpening each learned in the same budget. At the CPU budgets used here
//   (thousands of steps, against the paper's 200,000) the differences are tenths of a dB at
//   most and the mean is swayed by the near-flat test crops: read the median gain and the
//   paired table beside it, and compare at several budgets (`deno task ablate --steps N`)
//   and seeds (`--seed`) before drawing conclusions. Notebook 05 compares SVRNN with
//   Nah et al. and with the papers' reported numbers.
