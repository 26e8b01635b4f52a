/**
 * The dataset options shared by `train`, `eval` and `ablate`: a synthetic benchmark by
 * name (the default), the GoPro dataset, or a folder of pairs.
 */
import type { Context, OptionSpec } from "./common.ts";
import { InputError, UsageError } from "./common.ts";
import { GOPRO_BLURS, type GoProBlur, type PairRef } from "../data/gopro.ts";
import { type DataSource, listPairs } from "../train/data.ts";
import { BENCHMARKS, DEFAULT_BENCHMARK, prepareBenchmarkCommand } from "../data/benchmark.ts";

export const DATA_OPTIONS: Record<string, OptionSpec> = {
  benchmark: {
    type: "string",
    valueName: "NAME",
    default: DEFAULT_BENCHMARK.name,
    description: "synthetic benchmark under data/benchmarks/ (deno task data benchmark)",
  },
  blur: {
    type: "string",
    valueName: "KIND",
    default: "blur_gamma",
    description: "benchmark's blurred images: blur_gamma (linear light) or blur",
  },
  gopro: { type: "string", valueName: "PATH", description: "use GOPRO_Large at PATH" },
  "gopro-variant": {
    type: "string",
    valueName: "KIND",
    description:
      "GoPro blurred images: blur or blur_gamma (required with --gopro; SVRNN used blur)",
  },
  pairs: { type: "string", valueName: "DIR", description: "use DIR/{blur,sharp}/" },
};

export function sourceFromArgs(ctx: Context): DataSource {
  const gopro = ctx.str("gopro"), pairs = ctx.str("pairs");
  if (gopro && pairs) throw new UsageError("give one of --gopro and --pairs, not both");
  if (gopro) {
    const v = ctx.str("gopro-variant");
    if (!v || !GOPRO_BLURS.includes(v as GoProBlur)) {
      throw new UsageError(`--gopro needs --gopro-variant blur or blur_gamma, got "${v ?? ""}"`);
    }
    return { kind: "gopro", root: gopro, blur: v as GoProBlur };
  }
  if (pairs) return { kind: "pairs", root: pairs };
  const name = ctx.str("benchmark")!;
  return {
    kind: "benchmark",
    name,
    root: `data/benchmarks/${name}`,
    blur: ctx.choice("blur", GOPRO_BLURS, "blur_gamma"),
  };
}

/** listPairs, telling how to make a benchmark that is not there yet. */
export async function pairsOf(src: DataSource, split: "train" | "test"): Promise<PairRef[]> {
  try {
    return await listPairs(src, split);
  } catch (e) {
    if (src.kind === "benchmark" && e instanceof InputError) {
      throw new InputError(
        BENCHMARKS[src.name]
          ? `benchmark ${src.name} not found at ${src.root}: prepare it with ` +
            `\`${prepareBenchmarkCommand(src.name)}\``
          : `benchmark ${src.name} not found at ${src.root}, and no such benchmark can be ` +
            `generated (known: ${Object.keys(BENCHMARKS).join(", ")}; deno task data benchmark)`,
      );
    }
    throw e;
  }
}
