/**
 * Which sharp image a synthetic blur determines. GoPro's target is the middle frame of the
 * burst; with the kit's random trajectories the middle frame sits about a tenth of the path
 * length from the blur's centre (the mean pose), and is barely visible in the blur. This
 * measures, per sample of a benchmark, what that costs:
 *
 * - `blurryVsMiddle`: the input's PSNR against the middle frame (synth-v1's score of doing
 *   nothing);
 * - `blurryVsCentroid`: the same against the centroid pose (synth-v2's);
 * - `middleVsCentroid`: a perfect deblurring to the pose the blur is centred on, scored
 *   against the middle frame: about the best a model that cannot tell where the middle frame
 *   is along the path can do on synth-v1;
 * - `middleVsNeighbour`: the middle frame against the frames one step before and after
 *   (mean PSNR): how much one frame of position error costs.
 *
 * PSNR as lib/eval/metrics.ts (data range 1); the blurry input is the linear-light average
 * (blur_gamma), which the shipped models train and are evaluated on.
 */
import { synthesizeBlur } from "../data/blur.ts";
import type { BenchmarkSpec } from "../data/benchmark.ts";
import { benchmarkPhotos, benchmarkSamples, type GenerateOptions } from "../data/benchmark_io.ts";
import { psnr } from "../eval/metrics.ts";
import type { Provenance } from "../records/provenance.ts";

export interface TargetGapRow {
  split: "train" | "test";
  photo: string;
  index: number;
  frames: number;
  /** Camera translation path length, px. */
  cameraPathPx: number;
  blurryVsMiddle: number;
  blurryVsCentroid: number;
  middleVsCentroid: number;
  middleVsNeighbour: number;
}

/** One row per sample of `spec` in the given splits (the spec's own target is ignored). */
export async function targetGap(
  spec: BenchmarkSpec,
  opts: GenerateOptions & { splits?: ("train" | "test")[]; limit?: number } = {},
): Promise<TargetGapRow[]> {
  const splits = opts.splits ?? ["test"];
  const rows: TargetGapRow[] = [];
  const photos = await benchmarkPhotos(spec, opts);
  for await (const { plan, photo, options } of benchmarkSamples(spec, photos)) {
    if (!splits.includes(plan.split)) continue;
    if (opts.limit !== undefined && rows.length >= opts.limit) break;
    const m = synthesizeBlur(photo, { ...options, target: "middle", keepFrames: true });
    const c = synthesizeBlur(photo, { ...options, target: "centroid" });
    const f = m.frames!, k = (f.length - 1) >> 1;
    rows.push({
      split: plan.split,
      photo: plan.photo,
      index: plan.index,
      frames: f.length,
      cameraPathPx: m.meta.camera.pathLength,
      blurryVsMiddle: psnr(m.blurLinear, m.sharp),
      blurryVsCentroid: psnr(m.blurLinear, c.sharp),
      middleVsCentroid: psnr(c.sharp, m.sharp),
      middleVsNeighbour: (psnr(f[k - 1], m.sharp) + psnr(f[k + 1], m.sharp)) / 2,
    });
    opts.log?.(`${plan.split}/${plan.photo}/${plan.index}`);
  }
  return rows;
}

type Column = Exclude<keyof TargetGapRow, "split" | "photo" | "index">;
export const TARGET_GAP_COLUMNS: readonly Column[] = [
  "blurryVsMiddle",
  "blurryVsCentroid",
  "middleVsCentroid",
  "middleVsNeighbour",
];

/** Mean and median of each PSNR column (identical images, PSNR inf, count as 100 dB). */
export function summarizeTargetGap(rows: readonly TargetGapRow[]) {
  const stat = (col: Column) => {
    const v = rows.map((r) => Math.min(r[col], 100)).sort((a, b) => a - b);
    const n = v.length, mid = n >> 1;
    return {
      mean: v.reduce((s, x) => s + x, 0) / n,
      median: n % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2,
    };
  };
  return Object.fromEntries(TARGET_GAP_COLUMNS.map((c) => [c, stat(c)])) as Record<
    Column,
    { mean: number; median: number }
  >;
}

/** What `deno task data targets --results FILE` writes. */
export interface TargetGapFile {
  benchmark: string;
  split: "train" | "test" | "all";
  samples: number;
  metric: string;
  summary: ReturnType<typeof summarizeTargetGap>;
  rows: TargetGapRow[];
  provenance?: Provenance;
}
