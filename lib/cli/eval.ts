/**
 * `deno task eval`: PSNR and SSIM of a model over a dataset's test (or training) split, per
 * image and on average, with the blurry input as the baseline, warm time per image and peak
 * memory.
 */
import { type CommandSpec, type Context, runCommand, UsageError } from "./common.ts";
import { describeBackend } from "../backends/select.ts";
import { loadPair } from "../data/gopro.ts";
import { writeImage } from "../data/image_io.ts";
import { evaluate, gainByGroup, type ImageScore, type LabelGain } from "../eval/evaluate.ts";
import { readControlled } from "../data/controlled_io.ts";
import { evalPairsOf } from "../train/data.ts";
import { type DataSource, describeSource, hasSplits } from "../data/source.ts";
import { listPairs } from "../data/source_io.ts";
import { DATA_OPTIONS, sourceFromArgs } from "./data_args.ts";
import { MODEL_OPTIONS, modelFromArgs, tileFromArgs } from "./model_args.ts";
import { provenance, writeJsonAtomic } from "../records/provenance.ts";
import { evalResult } from "../records/formats.ts";

export const EVAL_SPEC: CommandSpec = {
  name: "eval",
  summary: "Evaluate a model (PSNR, SSIM, time, peak memory) on a dataset's test (or train) split.",
  usage: "",
  positionals: { max: 0 },
  options: {
    ...MODEL_OPTIONS,
    ...DATA_OPTIONS,
    split: {
      type: "string",
      valueName: "NAME",
      default: "test",
      description: "test, or train (the same scores on the training pairs: over- or under-fitting)",
    },
    limit: { type: "string", valueName: "N", description: "only the first N pairs" },
    write: { type: "string", valueName: "DIR", description: "write the deblurred images to DIR" },
    results: {
      type: "string",
      valueName: "PATH",
      description: "write the evaluation JSON (with provenance) to PATH",
    },
  },
  details: `PSNR and SSIM follow scikit-image (data range 1; SSIM with an 11-tap Gaussian window,
sigma 1.5, mean over RGB), on the prediction clipped to [0, 1], against the sharp image.
examples:
  deno task eval --json
  deno task eval --checkpoint results/checkpoints/nah-small.safetensors --limit 20
  deno task eval --gopro ~/GOPRO_Large --gopro-variant blur --model svrnn`,
};

async function main(ctx: Context) {
  const src = sourceFromArgs(ctx);
  const limit = ctx.int("limit", undefined, 1);
  const { model, weights, backend, ensemble } = await modelFromArgs(ctx);
  const split = ctx.choice("split", ["train", "test"] as const, "test");
  if (split === "train" && !hasSplits(src)) {
    throw new UsageError(
      "--split train needs a benchmark, --gopro or --controlled: a --pairs folder has no splits",
    );
  }
  const refs = (await listPairs(src, split)).slice(0, limit);
  const pairs = evalPairsOf(refs);
  ctx.progress(
    `${model.name} (${weights}${ensemble === "none" ? "" : ", flip ensemble"}) on ${
      describeSource(src)
    } (${split}): ${pairs.length} pairs, ${describeBackend(backend)}`,
  );
  const write = ctx.str("write");
  const firstRef = refs[0];
  const probe = firstRef ? await loadPair(firstRef) : null;
  const tile = tileFromArgs(ctx, probe ? probe.blur.width * probe.blur.height : 0);
  const { perImage, summary } = await evaluate(model, pairs, {
    tile,
    onPrediction: write
      ? async (name, img) =>
        void await writeImage(`${write}/${name.replace(/\.(jpe?g)$/i, ".png")}`, img)
      : undefined,
    onImage: (s, k, n) =>
      ctx.progress(
        `[${k}/${n}] ${s.name}: ${s.psnr.toFixed(2)} dB (input ${s.inputPsnr.toFixed(2)}), SSIM ${
          s.ssim.toFixed(4)
        }`,
      ),
  });
  model.dispose();
  const byFactor = await gainsByFactor(src, split, perImage);
  const result = evalResult({
    model: model.name,
    weights,
    params: model.paramCount(),
    data: describeSource(src),
    split,
    backend: describeBackend(backend),
    tile,
    ensemble,
    summary,
    byFactor,
    perImage,
    provenance: await provenance(`deno task eval ${Deno.args.join(" ")}`),
  });
  const resultsPath = ctx.str("results");
  if (resultsPath) await writeJsonAtomic(resultsPath, result);
  ctx.out(
    `${model.name}: PSNR ${summary.meanPsnr.toFixed(2)} dB (input ${
      summary.meanInputPsnr.toFixed(2)
    }, ` +
      `gain ${summary.gainPsnr.toFixed(2)}, median ${summary.medianGainPsnr.toFixed(2)}, ` +
      `${summary.improved}/${summary.images} improved), SSIM ${summary.meanSsim.toFixed(4)} ` +
      `(input ${summary.meanInputSsim.toFixed(4)}) over ${summary.images} images; ` +
      `${summary.warmMsPerImage.toFixed(0)} ms/image warm`,
  );
  for (const [factor, groups] of Object.entries(byFactor ?? {})) {
    ctx.out(
      `  by ${factor}: ` +
        groups.map((g) =>
          `${g.value} ${g.meanGain >= 0 ? "+" : ""}${
            g.meanGain.toFixed(2)
          } dB (${g.improved}/${g.images})`
        ).join(", "),
    );
  }
  return result;
}

/** The factors of a controlled benchmark's manifest the gains are grouped by. */
const GROUPED_FACTORS = ["family", "layout"] as const;

/**
 * Where a model gains and where it loses on a controlled benchmark: the per-image gains by
 * kernel family and by layout (the manifest's factors of each pair); undefined elsewhere.
 */
async function gainsByFactor(
  src: DataSource,
  split: "train" | "test",
  perImage: ImageScore[],
): Promise<Record<string, LabelGain[]> | undefined> {
  if (src.kind !== "controlled") return undefined;
  const factors = new Map(
    (await readControlled(src.root)).pairs.filter((p) => p.split === split).map((
      p,
    ) => [p.file, p.factors]),
  );
  return Object.fromEntries(
    GROUPED_FACTORS.map((f) => [f, gainByGroup(perImage, (p) => factors.get(p.name)?.[f])]),
  );
}

if (import.meta.main) runCommand(EVAL_SPEC, main);
