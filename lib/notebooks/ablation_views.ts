/**
 * Tables and figures of an ablation study (results/ablations.json, written by
 * `deno task ablate`, or the same shape built from a notebook's own runs): which factor
 * each variant changes, a results table, PSNR gain by factor, loss curves, and per-image
 * results to browse with a dropdown menu (per variant) or a slider (per image).
 *
 * Browser-safe: no Deno APIs.
 */
import { barFigure, type Figure, lineFigure } from "../viz/figure.ts";
import { menuFigure } from "../viz/menus.ts";
import type { Row } from "../viz/table.ts";
import type { Ablations, AblationVariant } from "./resources.ts";
import { pairedByName, type PairedDifference, resolvedSign } from "../analysis/paired.ts";
import { withRecipeDefaults } from "../train/config.ts";
import { gainByInputPsnr } from "../eval/evaluate.ts";
import { ABLATION_FACTORS, ABLATION_REFERENCE, VARIANT_SHORT } from "../models/variants.ts";

// The ablation's factor groups, labels and reference are declared with its variants.
export { ABLATION_FACTORS, ABLATION_REFERENCE, VARIANT_SHORT };

/** A variant's name without the reference's prefix ("svrnn-small-"), for crowded axes. */
export function shortName(model: string): string {
  const prefix = `${ABLATION_REFERENCE}-`;
  return model.startsWith(prefix) ? model.slice(prefix.length) : model;
}

/** Hides the x tick labels (many categories: names on hover only). */
function withoutCategoryLabels(fig: Figure, hide: boolean): Figure {
  if (!hide) return fig;
  return {
    ...fig,
    layout: { ...fig.layout, xaxis: { ...fig.layout.xaxis, showticklabels: false } },
  };
}

/**
 * One row per variant, in file order. Variants joined from several files carry the CPU
 * they trained on: `train (min)` compares only between rows of one machine.
 */
export function ablationRows(a: Ablations): Row[] {
  const machines = a.variants.some((v) => v.machine !== undefined);
  return a.variants.map((v) => ({
    model: v.model,
    changes: VARIANT_SHORT[v.model] ?? v.description ?? "",
    params: v.params,
    steps: v.steps,
    patches: v.patches,
    "train (min)": v.trainSec === null ? null : v.trainSec / 60,
    ...(machines ? { "trained on": v.machine ?? null } : {}),
    PSNR: v.summary.meanPsnr,
    SSIM: v.summary.meanSsim,
    "gain (dB)": v.summary.gainPsnr,
    "median gain (dB)": v.summary.medianGainPsnr ?? null,
    "input PSNR": v.summary.meanInputPsnr,
    images: v.perImage.length,
  }));
}

/** Input-PSNR edges (dB) of the gain-by-blur tables (notebooks 03 and 05). */
export const GAIN_BANDS = [20, 25, 30, 40];

/**
 * One model's gain by how blurry the input is (`gainByInputPsnr`), as table rows: where a
 * mean comes from, since nearly sharp inputs can swing a mean by a dB while the blurry
 * ones barely move.
 */
export function gainBandRows(
  model: string,
  perImage: Parameters<typeof gainByInputPsnr>[0],
  edges = GAIN_BANDS,
): Row[] {
  return gainByInputPsnr(perImage, edges).map((b) => ({
    model,
    "input PSNR (dB)": b.band,
    images: b.images,
    "mean gain (dB)": b.meanGain,
    "median gain (dB)": b.medianGain,
    improved: `${b.improved}/${b.images}`,
  }));
}

/** `gainBandRows` of every variant of a study. */
export function gainByInputRows(a: Ablations, edges = GAIN_BANDS): Row[] {
  return a.variants.flatMap((v) => gainBandRows(v.model, v.perImage, edges));
}

/** Mean PSNR gain bars, and median gain bars when every variant recorded it. */
function gainSeries(vs: Ablations["variants"]): { name: string; values: number[] }[] {
  const series = [{ name: "mean PSNR gain (dB)", values: vs.map((v) => v.summary.gainPsnr) }];
  const medians = vs.map((v) => v.summary.medianGainPsnr);
  if (medians.every((m) => typeof m === "number")) {
    series.push({ name: "median PSNR gain (dB)", values: medians as number[] });
  }
  return series;
}

/**
 * Each variant's per-image PSNR minus the reference's on the same test images (matched by
 * name), with a seeded 95% bootstrap interval of the mean and the images won and lost:
 * the table that says which differences the test set can resolve. Empty when the
 * reference is missing; variants sharing no image with it are left out.
 */
export function vsReference(
  a: Ablations,
  reference = ABLATION_REFERENCE,
): { model: string; diff: PairedDifference }[] {
  const ref = a.variants.find((v) => v.model === reference);
  if (!ref) return [];
  return a.variants.filter((v) => v !== ref).flatMap((v) => {
    const diff = pairedByName(v.perImage, ref.perImage, (p) => p.psnr);
    return diff ? [{ model: v.model, diff }] : [];
  });
}

/** `vsReference` as table rows, with a verdict: better, worse, or not resolved. */
export function vsReferenceRows(a: Ablations, reference = ABLATION_REFERENCE): Row[] {
  return vsReference(a, reference).map(({ model, diff: d }) => ({
    model,
    changes: VARIANT_SHORT[model] ?? "",
    [`PSNR - ${reference} (dB)`]: d.mean,
    "95% CI low": d.lo,
    "95% CI high": d.hi,
    "images better": d.wins,
    "images worse": d.losses,
    verdict: ({ 1: "better", 0: "not resolved", [-1]: "worse" } as const)[resolvedSign(d)],
  }));
}

/**
 * The same variants trained with another seed (`b`, e.g. `deno task ablate --seed 1`): how
 * far a retrain moves each variant (b minus a, paired by image), its difference to the
 * reference under each seed, and a verdict only where both seeds resolve it the same way.
 * Rows for the variants present in both studies.
 */
export function acrossSeedsRows(a: Ablations, b: Ablations, reference = ABLATION_REFERENCE): Row[] {
  const seedOf = (x: Ablations) => (x.recipe?.seed as number | undefined) ?? "?";
  const [sa, sb] = [seedOf(a), seedOf(b)];
  const vsA = new Map(vsReference(a, reference).map((r) => [r.model, r.diff]));
  const vsB = new Map(vsReference(b, reference).map((r) => [r.model, r.diff]));
  const fmt = (d: PairedDifference | undefined) =>
    d
      ? `${d.mean >= 0 ? "+" : ""}${d.mean.toFixed(3)} [${d.lo.toFixed(3)}, ${d.hi.toFixed(3)}]`
      : "-";
  return b.variants.flatMap((vb) => {
    const va = a.variants.find((v) => v.model === vb.model);
    const d = va ? pairedByName(vb.perImage, va.perImage, (p) => p.psnr) : null;
    if (!d) return [];
    return [{
      model: vb.model,
      [`seed ${sb} - seed ${sa} (dB)`]: d.mean,
      "95% CI low": d.lo,
      "95% CI high": d.hi,
      [`minus ${reference}, seed ${sa} (95% CI)`]: vb.model === reference
        ? "-"
        : fmt(vsA.get(vb.model)),
      [`minus ${reference}, seed ${sb} (95% CI)`]: vb.model === reference
        ? "-"
        : fmt(vsB.get(vb.model)),
      "verdict under both seeds": vb.model === reference
        ? "-"
        : bothSeedsVerdict(vsA.get(vb.model), vsB.get(vb.model)),
    }];
  });
}

/**
 * Studies of one model that differ in one recipe field (one `deno task ablate --lr X` file
 * per learning rate, say) as a single study whose variants are named `FIELD=VALUE`, so the
 * tables and figures above compare recipes the way they compare variants. Each study
 * contributes its `model` row; a study without it, or two with the same value, is an error
 * (a sweep with a hole or a duplicate would be misread).
 */
export function recipeSweep(
  studies: Ablations[],
  field: string,
  model = ABLATION_REFERENCE,
): Ablations {
  const seen = new Set<string>();
  const variants = studies.map((s, i) => {
    const v = s.variants.find((x) => x.model === model);
    if (!v) throw new Error(`sweep study ${i}: no "${model}" row`);
    const value = withRecipeDefaults({ ...s.recipe, ...v.recipe })[field];
    if (value === undefined) throw new Error(`sweep study ${i}: no recipe field "${field}"`);
    const label = sweepLabel(field, value);
    if (seen.has(label)) throw new Error(`sweep: ${label} appears twice`);
    seen.add(label);
    return { ...withMachine(s, v), model: label, description: `${model}, ${label}` };
  });
  const order = (v: AblationVariant) => Number(v.model.slice(field.length + 1));
  if (variants.every((v) => Number.isFinite(order(v)))) {
    variants.sort((a, b) => order(a) - order(b));
  }
  return { ...studies[0], description: `${model}: sweep of ${field}`, variants };
}

/**
 * Studies of different models under one recipe (the reference run's file and one
 * `deno task ablate --variants svrnn-mid` file, say) as a single study, so a model trained
 * elsewhere is compared with the reference like an ablation variant. Refused when two
 * studies hold the same model or their recipes differ in anything but the model: a
 * comparison across budgets would be misread as one across models.
 */
export function joinStudies(studies: Ablations[]): Ablations {
  if (studies.length === 0) throw new Error("joinStudies: no studies");
  const recipeOf = (s: Ablations) => {
    const { model: _, ...rest } = withRecipeDefaults(s.recipe ?? {});
    return rest;
  };
  const base = recipeOf(studies[0]);
  const seen = new Set<string>();
  for (const [i, s] of studies.entries()) {
    const r = recipeOf(s);
    for (const k of new Set([...Object.keys(base), ...Object.keys(r)])) {
      if (JSON.stringify(base[k]) !== JSON.stringify(r[k])) {
        throw new Error(
          `joinStudies: study ${i} differs in ${k} (${JSON.stringify(r[k])} vs ${
            JSON.stringify(base[k])
          })`,
        );
      }
    }
    for (const v of s.variants) {
      if (seen.has(v.model)) throw new Error(`joinStudies: ${v.model} appears twice`);
      seen.add(v.model);
    }
  }
  return {
    ...studies[0],
    variants: studies.flatMap((s) => s.variants.map((v) => withMachine(s, v))),
  };
}

/** A variant labelled with the CPU its study's file was made on (when it records one). */
function withMachine(s: Ablations, v: AblationVariant): AblationVariant {
  const cpu = v.machine ?? s.provenance?.machine?.cpu;
  return cpu === undefined ? v : { ...v, machine: cpu };
}

/** The variant name `recipeSweep` gives a study: `FIELD=VALUE`. */
export function sweepLabel(field: string, value: unknown): string {
  return `${field}=${value}`;
}

/** better or worse only when both studies resolve the difference with the same sign. */
function bothSeedsVerdict(a: PairedDifference | undefined, b: PairedDifference | undefined) {
  const [sa, sb] = [a ? resolvedSign(a) : 0, b ? resolvedSign(b) : 0];
  return sa !== 0 && sa === sb ? (sa > 0 ? "better" : "worse") : "not resolved";
}

/** `vsReference` as bars with their 95% intervals. */
export function vsReferenceFigure(a: Ablations, reference = ABLATION_REFERENCE): Figure | null {
  const rows = vsReference(a, reference);
  if (rows.length === 0) return null;
  return barFigure(
    rows.map((r) => shortName(r.model)),
    [{
      name: `PSNR - ${reference}`,
      values: rows.map((r) => r.diff.mean),
      interval: { lo: rows.map((r) => r.diff.lo), hi: rows.map((r) => r.diff.hi) },
    }],
    {
      title: `Each variant against ${reference}: mean per-image PSNR difference, 95% bootstrap CI`,
      yTitle: "dB (above 0: variant better)",
      height: 420,
    },
  );
}

/**
 * Every lever run against its reference in one figure (notebook 03): one bar per run,
 * labelled "lever value", the mean per-image PSNR difference with its 95% bootstrap CI.
 */
export function leversFigure(
  levers: { what: string; study: Ablations; reference: string }[],
): Figure | null {
  const bars = levers.flatMap((l) =>
    vsReference(l.study, l.reference).map((r) => ({
      // "lr 0.001", "patch 32", "width mid": short enough for a static axis.
      label: `${l.what} ${r.model.replace(/^[A-Za-z]+=/, "").replace(/^svrnn-/, "")}`,
      d: r.diff,
    }))
  );
  if (bars.length === 0) return null;
  return barFigure(
    bars.map((b) => b.label),
    [{
      name: "PSNR - reference",
      values: bars.map((b) => b.d.mean),
      interval: { lo: bars.map((b) => b.d.lo), hi: bars.map((b) => b.d.hi) },
    }],
    {
      title: "Each lever run against the reference run: mean per-image PSNR difference, 95% CI",
      yTitle: "dB (above 0: the lever helps)",
      height: 460,
    },
  );
}

/** A dropdown of factors, each showing its variants' PSNR gain over the blurry input. */
export function factorFigure(a: Ablations): Figure | null {
  const by = new Map(a.variants.map((v) => [v.model, v]));
  const options = ABLATION_FACTORS.map((f) => {
    const present = f.variants.filter((m) => by.has(m));
    return {
      label: f.factor,
      present,
      figure: barFigure(
        present.map((m) => f.labels[f.variants.indexOf(m)]),
        gainSeries(present.map((m) => by.get(m)!)),
        {
          title: `Ablation: ${f.factor} (PSNR gain over the blurry input)`,
          yTitle: "mean PSNR gain (dB)",
          height: 420,
        },
      ),
    };
  }).filter((o) => o.present.length > 0);
  if (options.length === 0) return null;
  return menuFigure(options);
}

/** Every variant's PSNR gain in one bar chart, grouped by factor order. */
export function overviewFigure(a: Ablations): Figure {
  const vs = a.variants;
  return barFigure(
    vs.map((v) => shortName(v.model)),
    gainSeries(vs),
    {
      title: "All variants: mean PSNR gain over the blurry input (same budget each)",
      yTitle: "dB",
      height: 420,
    },
  );
}

/** Training loss of every variant (log scale). */
export function lossFigure(a: Ablations): Figure {
  return lineFigure(
    a.variants.filter((v) => v.loss.length > 0).map((v) => ({
      name: v.model,
      x: v.loss.map((l) => l.step),
      y: v.loss.map((l) => l.loss),
      width: v.model === ABLATION_REFERENCE ? 3 : 1.5,
    })),
    {
      title: "Training loss of every variant",
      xTitle: "step",
      yTitle: "L2 loss (sum / 2 / batch)",
      logY: true,
      height: 420,
    },
  );
}

/** Per-image PSNR of the output and of the input, one dropdown entry per variant. */
export function perImageByVariantFigure(a: Ablations): Figure | null {
  const vs = a.variants.filter((v) => v.perImage.length > 0);
  if (vs.length === 0) return null;
  return menuFigure(vs.map((v: AblationVariant) => {
    const names = v.perImage.map((p) => p.name);
    return {
      label: v.model,
      figure: withoutCategoryLabels(
        barFigure(names, [
          { name: "blurry input", values: v.perImage.map((p) => p.inputPsnr), color: "#bbbbbb" },
          { name: v.model, values: v.perImage.map((p) => p.psnr), color: "#1f77b4" },
        ], {
          title: `Per-image PSNR: ${v.model}`,
          yTitle: "PSNR (dB)",
          xTitle: names.length > 16 ? `${names.length} test images (hover for names)` : undefined,
          height: 440,
        }),
        names.length > 16,
      ),
    };
  }));
}

/** Every variant's PSNR gain on one image, one slider step per test image. */
export function perImageByImageFigure(a: Ablations, maxImages = 40): Figure | null {
  const vs = a.variants.filter((v) => v.perImage.length > 0);
  if (vs.length === 0) return null;
  const names = vs[0].perImage.map((p) => p.name).slice(0, maxImages);
  return menuFigure(
    names.map((name) => ({
      label: name.replace(/\.png$/, ""),
      figure: barFigure(
        vs.map((v) => shortName(v.model)),
        [{
          name: "PSNR gain (dB)",
          values: vs.map((v) => {
            const p = v.perImage.find((q) => q.name === name);
            return p ? p.psnr - p.inputPsnr : NaN;
          }),
        }],
        { title: `PSNR gain on ${name}`, yTitle: "dB", height: 420 },
      ),
    })),
    { control: "slider", prefix: "test image: " },
  );
}
