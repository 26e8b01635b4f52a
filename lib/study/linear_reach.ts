/**
 * A study's linear ceiling: for every cell, the least-squares row filter of each width fitted
 * on the cell's training crops and scored on its test crops (lib/analysis/reach.ts), written
 * to results/studies/NAME/linear-reach.json. Training-free and seconds to minutes a cell, so
 * a study can state before its runs how much of the blur's inverse lies within a model's
 * receptive field. Deno-only (reads the benchmark from disk).
 */
import { ensureControlled } from "../data/controlled_io.ts";
import { listPairs } from "../data/source_io.ts";
import type { DataSource } from "../data/source.ts";
import { readImage } from "../data/image_io.ts";
import { InputError } from "../data/errors.ts";
import { type ImagePair, linearReach } from "../analysis/reach.ts";
import type { LinearReachFile } from "../records/formats.ts";
import { type Provenance, writeJsonAtomic } from "../records/provenance.ts";
import { cellBenchmark, type Study } from "./study.ts";
import { STUDY_RESULTS } from "./run.ts";

/** The filter widths measured when none are given: those that leave 64 columns to score. */
export function defaultTaps(crop: number): number[] {
  return [1, 9, 17, 33, 65, 73, 97, 129].filter((t) => t <= crop - 64);
}

async function loadSplit(data: DataSource, split: "train" | "test"): Promise<ImagePair[]> {
  const out: ImagePair[] = [];
  for (const p of await listPairs(data, split)) {
    out.push({ blurred: await readImage(p.blur), sharp: await readImage(p.sharp) });
  }
  return out;
}

export function linearReachPath(study: string, root = STUDY_RESULTS): string {
  return `${root}/${study}/linear-reach.json`;
}

/** Measures every cell of `s` at each width of `taps` (default: defaultTaps) and writes the file. */
export async function studyLinearReach(
  s: Study,
  taps: number[] | undefined,
  prov: Provenance,
  o: { root?: string; preferFixtures?: boolean; progress?: (line: string) => void } = {},
): Promise<LinearReachFile> {
  const crop = Math.min(...s.cells.map((c) => cellBenchmark(s, c).crop));
  taps ??= defaultTaps(crop);
  const widest = Math.max(...taps);
  if (widest > crop) {
    throw new InputError(`--linear-reach: ${widest} taps leave no column of a ${crop}-px crop`);
  }
  const rows: LinearReachFile["rows"] = [];
  for (const cell of s.cells) {
    const spec = cellBenchmark(s, cell);
    if (spec.angle !== "horizontal" || spec.layouts.some((l) => l !== "uniform")) {
      o.progress?.(`${cell.name}: skipped (a row filter fits horizontal, uniform blur only)`);
      continue;
    }
    const { dir } = await ensureControlled(spec, { preferFixtures: o.preferFixtures });
    const data: DataSource = { kind: "controlled", name: spec.name, root: dir };
    const train = await loadSplit(data, "train");
    const test = await loadSplit(data, "test");
    o.progress?.(`${cell.name}: fitting ${taps.length} row filters on ${train.length} crops`);
    for (const r of linearReach(train, test, taps)) {
      rows.push({
        cell: cell.name,
        length: spec.length,
        taps: r.taps,
        meanGainDb: Math.round(r.meanGainDb * 1000) / 1000,
        improved: r.gainsDb.filter((g) => g > 0).length,
        images: r.gainsDb.length,
      });
    }
  }
  const file: LinearReachFile = {
    study: s.name,
    method: "least-squares row filter (one for the three channels) fitted on every row of the " +
      "training crops, scored on the test crops as the mean per-crop PSNR gain of its clamped " +
      "output over the input, both on the columns where the widest filter sees only the crop",
    scoredColumns: crop - (widest - 1),
    provenance: prov,
    rows,
  };
  await writeJsonAtomic(linearReachPath(s.name, o.root), file);
  return file;
}
