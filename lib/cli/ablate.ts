/**
 * `deno task ablate`: trains every ablation variant of svrnn-small with the same budget
 * (same data, patches, steps, recipe and seed), evaluates each on the benchmark's test
 * split, and writes results/ablations.json. Each variant trains in its own run folder and
 * is skipped when its evaluation exists, so an interrupted ablation resumes where it was.
 */
import {
  BACKEND_OPTION,
  backendArg,
  type CommandSpec,
  type Context,
  reportError,
  runCommand,
  UsageError,
} from "./common.ts";
import { describeBackend, initBackend } from "../backends/select.ts";
import { listModels, MODEL_NAMES, modelConfig, modelParamCount } from "../models/registry.ts";
import { releaseCheckpoint } from "../models/checkpoint.ts";
import { ABLATION_CHECKPOINTS, SHIPPED_CHECKPOINTS } from "../records/paths.ts";
import { ABLATION_VARIANTS } from "../models/variants.ts";
import { withRecipeDefaults } from "../train/config.ts";
import { ABLATION_RECIPE, readRecipe, recipeConfig } from "../train/recipe.ts";
import { trainConfigArgs, trainOptions } from "./train_args.ts";
import { describeSource } from "../data/source.ts";
import { listPairs } from "../data/source_io.ts";
import { sourceFromArgs } from "./data_args.ts";
import { provenance, writeJsonAtomic } from "../records/provenance.ts";
import { ablationPerImage, type Ablations, type AblationVariant } from "../records/formats.ts";
import { cachedResult, trainThenEvaluate } from "../study/train_eval.ts";

/** The budget of every variant: recipes/ablation.json (a bad file: one line, exit code 2). */
const BUDGET = recipeConfig(
  await readRecipe(ABLATION_RECIPE.name, [], ABLATION_RECIPE.url).catch((e) =>
    Deno.exit(reportError("ablate", e, false))
  ),
);

export const ABLATE_SPEC: CommandSpec = {
  name: "ablate",
  summary:
    "Train and evaluate every ablation variant with the same budget; write results/ablations.json.",
  usage: "",
  positionals: { max: 0 },
  options: {
    variants: {
      type: "string",
      valueName: "LIST",
      description: `comma-separated model names (default: ${ABLATION_VARIANTS.join(",")})`,
    },
    benchmark: {
      type: "string",
      valueName: "NAME",
      default: "synth-v2",
      description: "synthetic benchmark",
    },
    blur: {
      type: "string",
      valueName: "KIND",
      default: "blur_gamma",
      description: "blur_gamma or blur",
    },
    ...trainOptions(
      ["steps", "batchSize", "patchSize", "learningRate", "loss", "seed"],
      BUDGET,
      { steps: "training steps per variant", learningRate: "base learning rate (poly^2 decay)" },
    ),
    "eval-images": {
      type: "string",
      valueName: "N",
      default: "88",
      description: "test images evaluated",
    },
    runs: {
      type: "string",
      valueName: "DIR",
      default: "runs/ablations",
      description: "run folders",
    },
    out: {
      type: "string",
      valueName: "PATH",
      default: "results/ablations.json",
      description: "results file",
    },
    release: {
      type: "string",
      valueName: "DIR",
      description: "also write each variant's trained weights (no optimizer state) as " +
        `DIR/NAME.safetensors (notebook 02 reads ${SHIPPED_CHECKPOINTS}/${ABLATION_CHECKPOINTS})`,
    },
    backend: { ...BACKEND_OPTION, default: "wasm" },
  },
  details: `Every variant sees the same batches (same seed) for the same number of steps; the table
reports test PSNR/SSIM, parameters and training wall time. The budget, the defaults above and the
fields without an option here (Adam, decay, clip, intervals), is ${ABLATION_RECIPE.name}.
Quick check:
  deno task ablate --benchmark synth-v2-quick --steps 5 --batch 2 --patch 32 --eval-images 2 --out /tmp/a.json`,
};

async function main(ctx: Context) {
  const variants = ctx.str("variants")?.split(",") ?? [...ABLATION_VARIANTS];
  for (const v of variants) {
    if (!MODEL_NAMES.includes(v)) throw new UsageError(`unknown model "${v}" in --variants`);
  }
  const backend = backendArg(ctx);
  // ablate has only --benchmark and --blur of the data options: always a benchmark source.
  const src = sourceFromArgs(ctx);
  const name = ctx.str("benchmark")!;
  const cfg = trainConfigArgs(ctx, BUDGET);
  const runsDir = ctx.str("runs")!;
  const trainPairs = await listPairs(src, "train");
  const testRefs = (await listPairs(src, "test")).slice(0, ctx.int("eval-images", 88, 1));
  const info = await initBackend(backend);
  const prov = await provenance(`deno task ablate ${Deno.args.join(" ")}`.trim());
  const descriptions = new Map(listModels().map((m) => [m.name, m.description]));
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const rows: AblationVariant[] = [];
  for (const [i, variant] of variants.entries()) {
    const dir = `${runsDir}/${variant}`;
    const evalPath = `${dir}/eval.json`;
    const tag = `[${i + 1}/${variants.length}] ${variant}`;
    const recipe = { ...cfg, model: variant };
    const config = modelConfig(variant, { seed: cfg.seed });
    // Both recipes through withRecipeDefaults: it puts `loss` first, and the comparison is of
    // their JSON, so a stored recipe compared with a fresh one never matched.
    const fresh = (done: AblationVariant) =>
      done.benchmark === name && done.evalImages === testRefs.length &&
      same(withRecipeDefaults(done.recipe ?? {}), withRecipeDefaults(recipe)) &&
      same(done.config, config);
    const done = await cachedResult(evalPath, fresh, async (): Promise<AblationVariant> => {
      ctx.progress(
        `${tag}: ${modelParamCount(variant, { seed: cfg.seed })} parameters, ${cfg.steps} steps`,
      );
      let lastLog = 0;
      // Without stopAt a run always finishes: never null.
      const r = (await trainThenEvaluate({
        recipe,
        train: trainPairs,
        test: testRefs,
        runDir: dir,
        metadata: { provenance: prov, data: describeSource(src) },
        onLog: (rec, total) => {
          if (rec.kind === "train" && performance.now() - lastLog > 10_000) {
            lastLog = performance.now();
            ctx.progress(`  ${variant} step ${rec.step}/${total} loss ${rec.loss!.toFixed(3)}`);
          }
        },
      }))!;
      return {
        model: variant,
        description: descriptions.get(variant),
        params: r.params,
        benchmark: name,
        steps: cfg.steps,
        patches: cfg.steps * cfg.batchSize,
        recipe: { ...recipe },
        config: { ...r.config },
        evalImages: testRefs.length,
        // A resumed run's time is not one session's.
        trainSec: r.resumedFrom > 0 ? null : r.trainSec,
        summary: { ...r.summary },
        perImage: ablationPerImage(r.perImage),
        loss: r.loss,
      };
    });
    const row = done!.result;
    rows.push(row);
    const release = ctx.str("release");
    if (release) {
      await releaseCheckpoint(`${dir}/last.safetensors`, `${release}/${variant}.safetensors`, {
        provenance: prov,
        data: describeSource(src),
        eval: { images: row.evalImages, ...row.summary },
      });
      ctx.progress(`${tag}: released as ${release}/${variant}.safetensors`);
    }
    if (done!.cached) ctx.progress(`${tag}: done earlier (${evalPath})`);
    else {
      ctx.progress(
        `  ${variant}: PSNR ${row.summary.meanPsnr.toFixed(2)} dB (input ${
          row.summary.meanInputPsnr.toFixed(2)
        }), SSIM ${row.summary.meanSsim.toFixed(4)}`,
      );
    }
  }
  const out: Ablations = {
    description:
      "Ablations of svrnn-small, every variant trained with the same budget and evaluated on the test split",
    data: describeSource(src),
    recipe: { ...cfg },
    backend: describeBackend(info),
    provenance: prov,
    variants: rows,
  };
  await writeJsonAtomic(ctx.str("out")!, out);
  ctx.out(
    rows.map((r) =>
      `${r.model.padEnd(24)} ${String(r.params).padStart(8)} params  PSNR ${
        r.summary.meanPsnr.toFixed(2)
      }  SSIM ${r.summary.meanSsim.toFixed(4)}`
    ).join("\n"),
  );
  return out;
}

if (import.meta.main) runCommand(ABLATE_SPEC, main);
