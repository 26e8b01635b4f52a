/**
 * `deno task train`: trains a registered model with the paper's recipe (every value
 * overridable) on the synthetic benchmark, the GoPro dataset, a controlled benchmark or a
 * folder of pairs. Resumes from OUT/last.safetensors when it exists.
 */
import cliProgress from "cli-progress";
import {
  BACKEND_OPTION,
  backendArg,
  type CommandSpec,
  type Context,
  InputError,
  runCommand,
  UsageError,
} from "./common.ts";
import { describeBackend, initBackend } from "../backends/select.ts";
import { createModel, MODEL_NAMES, modelConfig } from "../models/registry.ts";
import { inspectCheckpoint, releaseCheckpoint } from "../models/checkpoint.ts";
import { DEFAULT_TRAIN_CONFIG, TRAIN_FIELD_NAMES, type TrainConfig } from "../train/config.ts";
import { readRecipe, type Recipe } from "../train/recipe.ts";
import {
  applyRecipe,
  fieldOrigin,
  recipeKey,
  trainConfigArgs,
  trainOptions,
} from "./train_args.ts";
import { inputPsnr, type LogRecord, train, type TrainResult } from "../train/trainer.ts";
import { makeTrainData } from "../train/data.ts";
import { describeSource, hasSplits } from "../data/source.ts";
import { listPairs } from "../data/source_io.ts";
import { DATA_OPTIONS, sourceFromArgs } from "./data_args.ts";
import { sha256File } from "../data/image_io.ts";
import { provenance } from "../records/provenance.ts";

/**
 * Options a recipe file may set besides TrainConfig's fields, under the camelCase of their
 * names (val-images: valImages): where the data comes from and where the run goes.
 */
export const RECIPE_RUN_OPTIONS = [
  ...Object.keys(DATA_OPTIONS),
  "val-pairs",
  "val-images",
  "val-crop",
  "out",
  "init",
  "release",
  "release-weights",
  "backend",
];

export const TRAIN_SPEC: CommandSpec = {
  name: "train",
  summary: "Train a model (SVRNN recipe by default: Adam 1e-4, poly^2, wd 1e-6, clip 5000, " +
    "L2 loss, batch 20, 128x128 patches). Resumes from OUT/last.safetensors.",
  usage: "",
  positionals: { max: 0 },
  options: {
    recipe: {
      type: "string",
      valueName: "FILE",
      description: "take the run's settings from recipe FILE (recipes/*.json); options given " +
        "beside it override the file's values",
    },
    ...trainOptions(["model"]),
    ...DATA_OPTIONS,
    "val-pairs": { type: "string", valueName: "DIR", description: "validate on DIR/{blur,sharp}/" },
    ...trainOptions(TRAIN_FIELD_NAMES.filter((k) => k !== "model")),
    "val-images": {
      type: "string",
      valueName: "N",
      default: "8",
      description: "validation images (first N of the test split)",
    },
    "val-crop": {
      type: "string",
      valueName: "N",
      default: "256",
      description: "centre crop of validation images",
    },
    "stop-at": {
      type: "string",
      valueName: "N",
      description: "stop after step N of the --steps schedule (resume later; or run a recipe's " +
        "first N steps as they ran)",
    },
    set: {
      type: "string",
      valueName: "KEY=VALUE",
      multiple: true,
      description: "override a field of the model's config (repeatable), e.g. --set numBlocks=2",
    },
    out: { type: "string", valueName: "DIR", description: "run folder (default runs/MODEL)" },
    fresh: { type: "boolean", description: "start over even if OUT has a checkpoint" },
    init: {
      type: "string",
      valueName: "PATH",
      description:
        "start a new run from the weights of checkpoint PATH (fresh Adam and schedule; fine-tuning)",
    },
    release: {
      type: "string",
      valueName: "PATH",
      description: "at the end, write the weights (no optimizer state) to PATH",
    },
    "release-weights": {
      type: "string",
      valueName: "WHICH",
      default: "best",
      description: "which weights --release writes: best (best validation PSNR) or last; " +
        "last when the validation images are test images (no selection on the test split)",
    },
    backend: BACKEND_OPTION,
  },
  details: `quick example (about 2 minutes on one CPU core, on the committed fixtures; the
validation PSNR is printed beside the blurry input's own):
  deno task data benchmark --quick && deno task train --model svrnn-small \\
    --benchmark synth-v2-quick --steps 300 --batch 4 --patch 64 --lr 3e-4 --val-every 100 \\
    --out runs/quick
recipe files (recipes/*.json, the shipped models' runs among them): one JSON object with a
description, optionally a trainingLog, and any of
  fields (beta1, beta2, epsilon have no option): ${TRAIN_FIELD_NAMES.join(", ")}
  run keys (options in camelCase): ${RECIPE_RUN_OPTIONS.map(recipeKey).join(", ")}
for example:
  OPENBLAS_NUM_THREADS=1 deno task train --recipe recipes/svrnn-small.1.json
  deno task train --recipe recipes/svrnn-small.1.json --stop-at 100 --out /tmp/check
examples:
  deno task train --model svrnn-small --steps 2000 --batch 8 --patch 96 --lr 5e-4
  deno task train --model svrnn --gopro ~/GOPRO_Large --gopro-variant blur
  deno task data controlled && deno task train --model svrnn-small --controlled mix
outputs: OUT/last.safetensors (weights + Adam state), OUT/best.safetensors (best validation
PSNR), OUT/log.jsonl (one JSON record per logged step and per validation). A run validates
every --val-every steps and at its last step (--steps).`,
};

/** The --recipe file, or undefined. */
export async function recipeArg(ctx: Context): Promise<Recipe | undefined> {
  const file = ctx.str("recipe");
  return file === undefined ? undefined : await readRecipe(file, RECIPE_RUN_OPTIONS.map(recipeKey));
}

/** The run's TrainConfig: the defaults, the recipe's values over them, the options over those. */
export function runConfig(ctx: Context, recipe: Recipe | undefined): TrainConfig {
  const cfg = recipe
    ? applyRecipe(ctx, recipe, RECIPE_RUN_OPTIONS)
    : trainConfigArgs(ctx, DEFAULT_TRAIN_CONFIG);
  if (!MODEL_NAMES.includes(cfg.model)) {
    const where = fieldOrigin(ctx, "model", recipe);
    throw new UsageError(
      `${where === "--model" ? "" : `${where}: `}unknown model "${cfg.model}" ` +
        `(one of ${MODEL_NAMES.join(", ")})`,
    );
  }
  return cfg;
}

/**
 * `--set KEY=VALUE` pairs as config overrides; VALUE is read as JSON when it parses
 * (numbers, booleans, arrays) and as a string otherwise. The model's own validation
 * names unknown keys and bad values.
 */
function modelOverrides(ctx: Context, model: string): Record<string, unknown> {
  const raw = ctx.values.set;
  const out: Record<string, unknown> = {};
  for (const item of Array.isArray(raw) ? raw : []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set expects KEY=VALUE, got "${item}"`);
    const key = item.slice(0, eq), text = item.slice(eq + 1);
    if (key === "seed") throw new UsageError("--set seed: use --seed");
    try {
      out[key] = JSON.parse(text);
    } catch {
      out[key] = text;
    }
  }
  try {
    modelConfig(model, out);
  } catch (e) {
    throw new UsageError(`--set: ${(e as Error).message}`);
  }
  return out;
}

/**
 * The progress line. Payload tokens must not reuse cli-progress's own names (eta, duration,
 * percentage...): its values replace the payload's.
 */
export const BAR_FORMAT =
  "{bar} {value}/{total} | loss {loss} | lr {lr} | {pps} patches/s | val {val} dB | ETA {remaining}";

/**
 * "1h05m", "4m10s", "12s" ("-" when unknown). cli-progress's own ETA averages over its
 * updates, which start mid-run on a resume, and prints "INF" until it has two.
 */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  const s = Math.round(seconds);
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** " (input PSNR 24.05 dB)" for the start line, "" without validation images. */
function valInput(psnr: number | null): string {
  return psnr === null ? "" : ` (input PSNR ${psnr.toFixed(2)} dB)`;
}

const dB = (x: number) => `${x.toFixed(2)} dB`;
const signedDb = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)} dB`;

/**
 * The run's one result line: the last validation beside the validation inputs' own PSNR (a
 * gain or a loss, at a glance) and the best; or why there was no validation.
 */
export function summaryLine(r: TrainResult, cfg: TrainConfig, valImages: number): string {
  const parts = [r.message];
  if (valImages === 0) parts.push("no validation images");
  else if (cfg.valEvery === 0) parts.push("validation off (--val-every 0)");
  else if (r.lastVal === null) {
    parts.push(
      `not validated this run (validation every ${cfg.valEvery} steps and at step ${cfg.steps})`,
    );
  } else {
    const input = r.inputValPsnr === null
      ? ""
      : `, input ${dB(r.inputValPsnr)} (${signedDb(r.lastVal.psnr - r.inputValPsnr)})`;
    parts.push(`validation PSNR ${dB(r.lastVal.psnr)} at step ${r.lastVal.step}${input}`);
  }
  if (r.bestValPsnr !== null) parts.push(`best validation PSNR ${dB(r.bestValPsnr)}`);
  if (r.lastVal === null && r.inputValPsnr !== null && valImages > 0) {
    parts.push(`input validation PSNR ${dB(r.inputValPsnr)}`);
  }
  return parts.join("; ");
}

/**
 * Checks that `--init` holds the same model (name and config up to the seed) as the run
 * trains, and returns what the run records about it: the file's path and SHA-256, and the
 * training state and provenance stored in it (its own `init` too, so a chain of runs stays
 * traceable after the file is replaced, e.g. a shipped checkpoint re-released).
 */
async function checkInit(path: string, model: string, config: object): Promise<string> {
  let metadata: Record<string, string>;
  try {
    metadata = (await inspectCheckpoint(path)).metadata;
  } catch (e) {
    throw new InputError(`--init: ${(e as Error).message}`);
  }
  const { seed: _a, ...stored } = JSON.parse(metadata.config ?? "{}");
  const { seed: _b, ...wanted } = config as Record<string, unknown>;
  if (metadata.model !== model) {
    throw new InputError(
      `--init ${path} holds ${metadata.model ?? "no named model"}, not ${model}`,
    );
  }
  if (JSON.stringify(stored) !== JSON.stringify(wanted)) {
    throw new InputError(
      `--init ${path} holds ${model} with config ${JSON.stringify(stored)}, ` +
        `this run wants ${JSON.stringify(wanted)} (--set)`,
    );
  }
  return await initRecord(path, metadata);
}

/** The JSON stored under "init" in a run's checkpoints (see checkInit). */
async function initRecord(path: string, metadata: Record<string, string>): Promise<string> {
  const parse = (s: string | undefined) => {
    try {
      return s === undefined ? undefined : JSON.parse(s);
    } catch {
      return s;
    }
  };
  return JSON.stringify({
    path,
    sha256: await sha256File(path),
    model: metadata.model,
    training: parse(metadata.training),
    provenance: parse(metadata.provenance),
    init: parse(metadata.init),
  });
}

async function main(ctx: Context) {
  const recipe = await recipeArg(ctx);
  const cfg = runConfig(ctx, recipe);
  const overrides = modelOverrides(ctx, cfg.model);
  const src = sourceFromArgs(ctx);
  const backend = backendArg(ctx);
  const out = ctx.str("out") ?? `runs/${cfg.model}`;
  const stopAt = ctx.int("stop-at", undefined, 1);
  const release = ctx.str("release");
  const releaseWeights = ctx.choice("release-weights", ["best", "last"] as const, "best");

  const init = ctx.str("init");
  const initInfo = init
    ? await checkInit(init, cfg.model, modelConfig(cfg.model, { ...overrides, seed: cfg.seed }))
    : undefined;

  const trainPairs = await listPairs(src, "train");
  const valRefs = ctx.str("val-pairs")
    ? await listPairs({ kind: "pairs", root: ctx.str("val-pairs")! }, "test")
    : !hasSplits(src)
    ? []
    : await listPairs(src, "test");
  const valImages = ctx.int("val-images", 8, 0);

  const info = await initBackend(backend);
  const model = createModel(cfg.model, { ...overrides, seed: cfg.seed });
  if (cfg.patchSize % model.multiple !== 0) {
    throw new UsageError(
      `${fieldOrigin(ctx, "patchSize", recipe)} must be a multiple of ${model.multiple} for ` +
        `${cfg.model}, got ${cfg.patchSize}`,
    );
  }
  const data = await makeTrainData({
    train: trainPairs,
    validation: valRefs.slice(0, valImages),
    batchSize: cfg.batchSize,
    patchSize: cfg.patchSize,
    seed: cfg.seed,
    valCrop: ctx.int("val-crop", 256, 8),
  });
  const prov = await provenance(`deno task train ${Deno.args.join(" ")}`);
  ctx.progress(
    `train ${cfg.model} (${model.paramCount().toLocaleString("en-US")} parameters) on ` +
      `${describeSource(src)}: ${trainPairs.length} pairs, ${data.validation.length} validation` +
      `${valInput(inputPsnr(data.validation))}; ` +
      `${describeBackend(info)}; run folder ${out}`,
  );

  const bar = ctx.quiet ? null : new cliProgress.SingleBar({
    format: BAR_FORMAT,
    noTTYOutput: true,
    notTTYSchedule: 10_000,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  let lastVal = "-";
  let started = false;
  const onLog = (r: LogRecord, total: number) => {
    if (!bar) return;
    if (!started) {
      bar.start(total, r.step, { loss: "-", lr: "-", pps: "-", val: lastVal, remaining: "-" });
      started = true;
    }
    if (r.kind === "val") lastVal = r.valPsnr!.toFixed(2);
    bar.update(r.step, {
      ...(r.kind === "train"
        ? {
          loss: r.loss!.toFixed(3),
          lr: r.lr!.toExponential(2),
          pps: r.patchesPerSec!.toFixed(1),
          remaining: duration(((total - r.step) * cfg.batchSize) / r.patchesPerSec!),
        }
        : {}),
      val: lastVal,
    });
  };
  const t0 = performance.now();
  const result = await train({
    config: cfg,
    model,
    data,
    outDir: out,
    resume: !ctx.flag("fresh"),
    initFrom: init,
    stopAt,
    metadata: {
      ...(initInfo ? { init: initInfo } : {}),
      provenance: prov,
      backend: describeBackend(info),
      data: describeSource(src),
    },
    onLog,
  });
  bar?.stop();
  const wallSec = (performance.now() - t0) / 1000;
  if (result.status === "non-finite") {
    model.dispose();
    throw new InputError(result.message);
  }
  if (release) {
    const best = `${out}/best.safetensors`;
    const useBest = releaseWeights === "best" && (await Deno.stat(best).catch(() => null));
    const from = useBest ? best : `${out}/last.safetensors`;
    await releaseCheckpoint(from, release, {
      provenance: prov,
      backend: describeBackend(info),
      data: describeSource(src),
    });
    ctx.progress(`released ${from} as ${release}`);
  }
  model.dispose();
  ctx.out(summaryLine(result, cfg, data.validation.length));
  return { ...result, wallSec, out, backend: describeBackend(info) };
}

if (import.meta.main) runCommand(TRAIN_SPEC, main);
