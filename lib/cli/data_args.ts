/**
 * The dataset options shared by `train`, `eval` and `ablate`: a synthetic benchmark by
 * name (the default), the GoPro dataset, a controlled benchmark by name, or a folder of
 * pairs. They give a `DataSource` (lib/data/source.ts); its pairs are `listPairs`
 * (lib/data/source_io.ts).
 */
import type { Context, OptionSpec } from "./common.ts";
import { UsageError } from "./common.ts";
import { GOPRO_BLURS, type GoProBlur } from "../data/gopro.ts";
import type { DataSource } from "../data/source.ts";
import { DEFAULT_BENCHMARK } from "../data/benchmark.ts";
import { CONTROLLED_ROOT } from "../data/controlled_io.ts";

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
  controlled: {
    type: "string",
    valueName: "NAME",
    description: `controlled benchmark under ${CONTROLLED_ROOT}/ (deno task data controlled)`,
  },
  pairs: { type: "string", valueName: "DIR", description: "use DIR/{blur,sharp}/" },
};

export function sourceFromArgs(ctx: Context): DataSource {
  const gopro = ctx.str("gopro"), pairs = ctx.str("pairs"), controlled = ctx.str("controlled");
  const given = ["gopro", "controlled", "pairs"].filter((k) => ctx.str(k) !== undefined);
  if (given.length > 1) {
    throw new UsageError(
      `give one of --gopro, --controlled and --pairs, not ${
        given.map((k) => `--${k}`).join(" and ")
      }`,
    );
  }
  if (gopro) {
    const v = ctx.str("gopro-variant");
    if (!v || !GOPRO_BLURS.includes(v as GoProBlur)) {
      throw new UsageError(`--gopro needs --gopro-variant blur or blur_gamma, got "${v ?? ""}"`);
    }
    return { kind: "gopro", root: gopro, blur: v as GoProBlur };
  }
  if (controlled) {
    if (!/^[A-Za-z0-9._-]+$/.test(controlled)) {
      throw new UsageError(
        `--controlled takes a benchmark name (letters, digits, . _ or -), got "${controlled}"`,
      );
    }
    return { kind: "controlled", name: controlled, root: `${CONTROLLED_ROOT}/${controlled}` };
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
