/**
 * A dataset, described once: what `deno task train`, `deno task eval`, `deno task ablate` and
 * the notebooks read. `listPairs` (lib/data/source_io.ts) resolves a source's split to pairs.
 *
 *   - `benchmark`: a synthetic benchmark made by `deno task data benchmark` (GoPro layout);
 *   - `gopro`: the real GoPro dataset (`GOPRO_Large`, with `blur` or `blur_gamma` chosen);
 *   - `controlled`: a controlled-blur benchmark made by `deno task data controlled`
 *     (`root/{train,test}/{blur,sharp}/` and `root/manifest.json`);
 *   - `pairs`: any folder with `blur/` and `sharp/` subfolders of same-named images (one set
 *     of pairs, whichever split is asked for).
 *
 * Browser-compatible (a description only).
 */
import type { GoProBlur } from "./gopro.ts";

export type DataSource =
  | { kind: "benchmark"; name: string; root: string; blur: GoProBlur }
  | { kind: "gopro"; root: string; blur: GoProBlur }
  | { kind: "controlled"; name: string; root: string }
  | { kind: "pairs"; root: string };

/** Whether the source has its own train and test splits (a pairs folder has one set). */
export function hasSplits(s: DataSource): boolean {
  return s.kind !== "pairs";
}

/** A short description for logs and checkpoint metadata. */
export function describeSource(s: DataSource): string {
  if (s.kind === "benchmark") return `benchmark ${s.name} (${s.root}, ${s.blur})`;
  if (s.kind === "gopro") return `GoPro ${s.root} (${s.blur})`;
  if (s.kind === "controlled") return `controlled benchmark ${s.name} (${s.root})`;
  return `pairs folder ${s.root}`;
}
