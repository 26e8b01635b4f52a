/**
 * The one table of numbers this kit quotes from papers rather than measures. Every row is
 * labelled "reported" and carries its source; nothing here is produced by the kit's code,
 * and nothing the kit measures belongs here (measured numbers live under results/, with
 * provenance). Source of every figure: docs/paper.md#reported-results (the SVRNN paper's
 * GoPro comparison, Nah et al.'s own paper, later methods for context) and
 * docs/paper.md#training-recipe (the SVRNN authors' solver.prototxt for the training budget).
 *
 * GoPro test set: 1111 pairs at 1280x720, in two variants that must not be mixed up:
 * `blur` (frames averaged as stored) and `blur_gamma` (averaged in a gamma-2.2 linearised
 * space). SVRNN evaluated on `blur`; Nah et al.'s paper used `blur_gamma`.
 *
 * Browser-safe: no Deno APIs.
 */

export type GoProVariant = "blur" | "blur_gamma" | "not recorded";

export interface ReportedResult {
  /** Always "reported": these numbers were not measured by this kit. */
  kind: "reported";
  method: string;
  /** Which kit model (registry name) implements the method, if any. */
  kitModel?: string;
  /** Where the number comes from. */
  source: string;
  dataset: string;
  goproVariant: GoProVariant;
  psnr: number;
  ssim: number | null;
  /** Seconds per 1280x720 image, as reported. */
  secondsPerImage: number | null;
  /** The hardware or setting the time refers to. */
  timeNote: string | null;
  /** Model size in MB, as reported. */
  sizeMB: number | null;
  sizeNote: string | null;
  /** The training budget, when the source gives it. */
  trainingBudget: string | null;
  /** Year of publication (for ordering the context rows). */
  year: number;
  /** True for the two methods the comparison is about (SVRNN, Nah et al.). */
  primary: boolean;
}

const GOPRO = "GoPro test (1111 pairs, 1280x720)";
const SVRNN_PAPER = "Zhang et al., CVPR 2018 (SVRNN), GoPro table; docs/paper.md#reported-results";

/** Every reported figure the kit quotes. */
export const REPORTED: readonly ReportedResult[] = Object.freeze(
  [
    {
      kind: "reported",
      method: "SVRNN (Zhang et al. 2018)",
      kitModel: "svrnn",
      source: SVRNN_PAPER,
      dataset: GOPRO,
      goproVariant: "blur",
      psnr: 29.19,
      ssim: 0.9306,
      secondsPerImage: 1.4,
      timeNote: "about 1.4 s on a 2018 GPU",
      sizeMB: 37.1,
      sizeNote: "model size",
      trainingBudget:
        "200,000 iterations x batch 20 x 128x128 patches (authors' solver.prototxt, docs/paper.md#training-recipe)",
      year: 2018,
      primary: true,
    },
    {
      kind: "reported",
      method: 'Nah et al. 2017, as SVRNN evaluated it (linear "blur")',
      kitModel: "nah",
      source: SVRNN_PAPER,
      dataset: GOPRO,
      goproVariant: "blur",
      psnr: 28.49,
      ssim: 0.9165,
      secondsPerImage: 3.1,
      timeNote: "about 3.1 s, as reported by Zhang et al. 2018",
      sizeMB: 303.6,
      sizeNote: "checkpoint file",
      trainingBudget: null,
      year: 2017,
      primary: true,
    },
    {
      kind: "reported",
      method: 'Nah et al. 2017, own paper ("blur_gamma")',
      kitModel: "nah",
      source: "Nah, Kim and Lee, CVPR 2017; docs/paper.md#reported-results",
      dataset: GOPRO,
      goproVariant: "blur_gamma",
      psnr: 29.08,
      ssim: 0.9135,
      secondsPerImage: null,
      timeNote: null,
      sizeMB: null,
      sizeNote: null,
      trainingBudget: null,
      year: 2017,
      primary: true,
    },
    ...([
      ["SRN (Tao et al.)", 30.26, 2018],
      ["DMPHN (Zhang et al.)", 30.21, 2019],
      ["MPRNet (Zamir et al.)", 32.66, 2021],
      ["MIMO-UNet++ (Cho et al.)", 32.68, 2021],
      ["Restormer (Zamir et al.)", 32.92, 2022],
      ["NAFNet (Chen et al.)", 33.69, 2022],
    ] as const).map(([method, psnr, year]): ReportedResult => ({
      kind: "reported",
      method,
      source:
        "the method's paper, GoPro PSNR as listed for context in docs/paper.md#reported-results",
      dataset: GOPRO,
      goproVariant: "not recorded",
      psnr,
      ssim: null,
      secondsPerImage: null,
      timeNote: null,
      sizeMB: null,
      sizeNote: null,
      trainingBudget: null,
      year,
      primary: false,
    })),
  ] satisfies ReportedResult[],
);

/** The reported rows, optionally only the primary ones (SVRNN and Nah et al.). */
export function reportedResults(opts: { primaryOnly?: boolean } = {}): ReportedResult[] {
  return REPORTED.filter((r) => !opts.primaryOnly || r.primary);
}

/** The reported row of a method whose name starts with `prefix` (first match), or undefined. */
export function reportedFor(prefix: string): ReportedResult | undefined {
  return REPORTED.find((r) => r.method.startsWith(prefix));
}

/**
 * Table rows for the comparison (the column names the notebooks and docs/results.md use);
 * every row says "reported" in its `kind` column and names its source.
 */
export function reportedTableRows(opts: { primaryOnly?: boolean } = {}) {
  return reportedResults(opts).map((r) => ({
    kind: "reported",
    method: r.method,
    data: `${r.dataset}, ${
      r.goproVariant === "not recorded" ? "variant not recorded" : r.goproVariant
    }`,
    PSNR: r.psnr,
    SSIM: r.ssim,
    params: null as number | null,
    "size (MB)": r.sizeMB,
    "s / 1280x720 image": r.secondsPerImage,
    hardware: r.timeNote,
    "training budget": r.trainingBudget,
    source: r.source,
  }));
}
