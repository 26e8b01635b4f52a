/**
 * The formats of the files the kit writes under results/, typed once: the writers build
 * them with these types and the readers (notebooks/resources.ts, the study runner, tests)
 * read them through the checks below, so a field renamed on one side fails `deno check`
 * instead of a notebook.
 *
 *   results/eval/NAME.json              EvalResult       (`deno task eval --results`)
 *   results/ablations*.json and the     Ablations        (`deno task ablate`; a notebook's own
 *     sweeps under results/{lr,...}/                      runs in the same shape)
 *   results/training/NAME.jsonl         TrainLogRecord   (lib/train/trainer.ts, one per line)
 *   results/studies/NAME.json           StudyFile        (lib/study/run.ts joinStudy)
 *   results/studies/NAME/runs/KEY.json  RunResult        (lib/study/run.ts runStudyRun)
 *   results/studies/NAME/linear-reach.json
 *                                       LinearReachFile  (`deno task study NAME --linear-reach`)
 *
 * Fields a file written before they were recorded may lack are optional in the reading
 * types. Pure: no file system, no tfjs (types only).
 */
import type { ControlledSpec } from "../data/controlled.ts";
import type { EvalSummary, ImageScore, LabelGain } from "../eval/evaluate.ts";
import type { TileOptions } from "../eval/tiled.ts";
import type { Provenance } from "./provenance.ts";

/** Provenance as files hold it (files joined or built elsewhere may carry only part of it). */
export type StoredProvenance =
  & Partial<Omit<Provenance, "machine">>
  & { machine?: Partial<Provenance["machine"]> };

// ---------------------------------------------------------------------------------------
// Training logs

/** One line of a training log (results/training/NAME.jsonl, a run folder's log.jsonl). */
export interface TrainLogRecord {
  step: number;
  kind: "train" | "val" | "stop";
  loss?: number;
  lr?: number;
  gradNorm?: number;
  clipped?: boolean;
  patchesPerSec?: number;
  /** Seconds since this session of the run started (restarts at 0 on a resume). */
  elapsedSec?: number;
  valPsnr?: number;
  /** Why a "stop" record stopped the run. */
  message?: string;
}

/**
 * The records of a training log. A line that does not parse is skipped: the last one may
 * be being written right now (a run in progress, or one killed mid-line).
 */
export function parseTrainingLog(text: string, where: string): TrainLogRecord[] {
  const records: TrainLogRecord[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    records.push(checkTrainLogRecord(r, `${where}:${i + 1}`));
  }
  return records;
}

export function checkTrainLogRecord(r: unknown, where: string): TrainLogRecord {
  const o = record(r, where);
  need(o, where, { step: "number", kind: "string" });
  if (!["train", "val", "stop"].includes(o.kind as string)) {
    bad(where, `"kind" is ${JSON.stringify(o.kind)}, not train, val or stop`);
  }
  maybe(o, where, {
    loss: "number",
    lr: "number",
    gradNorm: "number",
    patchesPerSec: "number",
    elapsedSec: "number",
    valPsnr: "number",
    message: "string",
  });
  return o as unknown as TrainLogRecord;
}

/** The (step, loss) points of a log's training records: the loss curve. */
export function lossCurve(records: TrainLogRecord[]): { step: number; loss: number }[] {
  return records.flatMap((r) =>
    r.kind === "train" && r.loss !== undefined ? [{ step: r.step, loss: r.loss }] : []
  );
}

/**
 * Seconds a run trained, over every session of it: `elapsedSec` restarts at 0 when a run
 * resumes, so each session adds its last logged value. A run resumed at its last step (a
 * finished training folder) keeps the time it took, instead of the 0 s of the session that
 * only found it finished.
 */
export function trainedSeconds(records: TrainLogRecord[]): number {
  let total = 0, last = 0;
  for (const r of records) {
    if (r.kind !== "train" || r.elapsedSec === undefined) continue;
    if (r.elapsedSec < last) total += last;
    last = r.elapsedSec;
  }
  return total + last;
}

// ---------------------------------------------------------------------------------------
// Evaluations

/** How the eval files' PSNR and SSIM are computed (lib/eval/metrics.ts). */
export const EVAL_METRICS =
  "PSNR (data range 1) and SSIM (scikit-image, Gaussian 11/1.5) of the clipped prediction";

/** The summary as stored: files written before these fields were recorded lack them. */
export type StoredEvalSummary =
  & Omit<EvalSummary, "medianGainPsnr" | "improved" | "peakRssBytes">
  & Partial<Pick<EvalSummary, "medianGainPsnr" | "improved" | "peakRssBytes">>;

/** results/eval/NAME.json: one model on one split, per image and on average. */
export interface EvalResult {
  model: string;
  /** Where the weights came from (a checkpoint path, "shipped", "untrained stand-in"). */
  weights: string;
  params: number;
  /** The data, described (lib/data/source.ts describeSource). */
  data: string;
  split?: "train" | "test";
  backend: string;
  tile?: TileOptions;
  /** "flips4" with the flip self-ensemble (lib/eval/ensemble.ts), else "none". */
  ensemble?: "none" | "flips4";
  metrics?: string;
  summary: StoredEvalSummary;
  /** On a controlled benchmark: the gains grouped by each factor its manifest records. */
  byFactor?: Record<string, LabelGain[]>;
  perImage: ImageScore[];
  provenance?: StoredProvenance;
}

/**
 * The eval file of one evaluation, in the order its fields are written; every writer of
 * the format builds it here (`deno task eval`, notebook 05's quick-mode stand-in).
 */
export function evalResult(
  o: Omit<EvalResult, "summary" | "provenance" | "metrics"> & {
    summary: EvalSummary;
    provenance?: Provenance;
  },
): EvalResult & { summary: EvalSummary } {
  return {
    model: o.model,
    weights: o.weights,
    params: o.params,
    data: o.data,
    split: o.split ?? "test",
    backend: o.backend,
    // evaluate()'s default: the whole image at once.
    tile: o.tile ?? { tile: 0, overlap: 0 },
    ensemble: o.ensemble ?? "none",
    metrics: EVAL_METRICS,
    summary: o.summary,
    // Only on a controlled benchmark: other eval files keep their fields.
    ...(o.byFactor ? { byFactor: o.byFactor } : {}),
    perImage: o.perImage,
    provenance: o.provenance,
  };
}

export function checkEvalResult(v: unknown, where: string): EvalResult {
  const o = record(v, where);
  need(o, where, {
    model: "string",
    weights: "string",
    params: "number",
    data: "string",
    backend: "string",
    summary: "object",
    perImage: "array",
  });
  maybe(o, where, {
    split: "string",
    ensemble: "string",
    metrics: "string",
    byFactor: "object",
    provenance: "object",
  });
  checkSummary(o.summary, `${where}: summary`);
  needEach(o.perImage, `${where}: perImage`, {
    name: "string",
    width: "number",
    height: "number",
    psnr: "number",
    ssim: "number",
    inputPsnr: "number",
    inputSsim: "number",
    ms: "number",
  });
  return o as unknown as EvalResult;
}

function checkSummary(v: unknown, where: string): void {
  const o = record(v, where);
  need(o, where, { meanPsnr: "number", meanSsim: "number", meanInputPsnr: "number" });
  maybe(o, where, { gainPsnr: "number", medianGainPsnr: "number", images: "number" });
}

// ---------------------------------------------------------------------------------------
// Ablations

/** One variant of an ablation file (lib/cli/ablate.ts), or a notebook's run in its shape. */
export interface AblationVariant {
  model: string;
  description?: string;
  params: number;
  /** The benchmark it trained on (a notebook's run: its data, described). */
  benchmark?: string;
  steps: number;
  patches: number;
  /** The training recipe it ran (lib/train/config.ts TrainConfig). */
  recipe?: Record<string, unknown>;
  /** The model's full config (lib/models/registry.ts modelConfig). */
  config?: Record<string, unknown>;
  evalImages?: number;
  /** Training wall time, s; null when the run was resumed (its time is not one session's). */
  trainSec: number | null;
  /** CPU it trained on, set when studies from several files are joined. */
  machine?: string;
  summary: {
    meanPsnr: number;
    meanSsim: number;
    meanInputPsnr: number;
    gainPsnr: number;
    medianGainPsnr?: number;
    [k: string]: number | null | undefined;
  };
  perImage: { name: string; psnr: number; ssim: number; inputPsnr: number }[];
  loss: { step: number; loss: number }[];
}

/** results/ablations.json and every file in its shape. */
export interface Ablations {
  description?: string;
  data?: string;
  /** The recipe shared by every variant. */
  recipe?: Record<string, unknown>;
  backend?: string;
  provenance?: StoredProvenance;
  variants: AblationVariant[];
}

/** The per-image scores an ablation file keeps of an evaluation. */
export function ablationPerImage(perImage: ImageScore[]): AblationVariant["perImage"] {
  return perImage.map((s) => ({
    name: s.name,
    psnr: s.psnr,
    ssim: s.ssim,
    inputPsnr: s.inputPsnr,
  }));
}

export function checkAblations(v: unknown, where: string): Ablations {
  const o = record(v, where);
  if (!Array.isArray(o.variants)) bad(where, `no "variants" list`);
  maybe(o, where, {
    description: "string",
    data: "string",
    recipe: "object",
    backend: "string",
    provenance: "object",
  });
  (o.variants as unknown[]).forEach((x, i) => checkAblationVariant(x, `${where}: variants[${i}]`));
  return o as unknown as Ablations;
}

export function checkAblationVariant(v: unknown, where: string): AblationVariant {
  const o = record(v, where);
  need(o, where, {
    model: "string",
    params: "number",
    steps: "number",
    patches: "number",
    summary: "object",
    perImage: "array",
    loss: "array",
  });
  maybe(o, where, {
    description: "string",
    benchmark: "string",
    recipe: "object",
    config: "object",
    evalImages: "number",
    machine: "string",
  });
  if (o.trainSec !== null && typeof o.trainSec !== "number") {
    bad(where, `"trainSec" must be a number or null`);
  }
  checkSummary(o.summary, `${where}: summary`);
  needEach(o.perImage, `${where}: perImage`, {
    name: "string",
    psnr: "number",
    ssim: "number",
    inputPsnr: "number",
  });
  needEach(o.loss, `${where}: loss`, {
    step: "number",
    loss: "number",
  });
  return o as unknown as AblationVariant;
}

// ---------------------------------------------------------------------------------------
// Studies (lib/study/study.ts computes these from the runs, lib/study/run.ts writes them)

/** The training budget of every run of a study (fields of lib/train/config.ts TrainConfig). */
export interface StudyBudget {
  steps: number;
  batchSize: number;
  patchSize: number;
  learningRate: number;
  /** Poly decay power (0: constant learning rate). */
  lrPower: number;
}

/** What a finished run keeps: one file per run, results/studies/NAME/runs/KEY.json. */
export interface RunResult {
  key: string;
  cell: string;
  variant: string;
  model: string;
  overrides: Record<string, unknown>;
  seed: number;
  params: number;
  benchmark: ControlledSpec;
  budget: StudyBudget;
  trainSec: number;
  /** The CPU the run trained on (train minutes compare only within one machine). */
  machine: string;
  backend: string;
  finalLoss: number | null;
  perImage: { name: string; psnr: number; inputPsnr: number; ssim: number }[];
  meanPsnr: number;
  meanInputPsnr: number;
}

/** A claim's verdict (the rule: lib/study/study.ts verdictOf). */
export type Verdict = "resolved: A better" | "resolved: B better" | "not resolved";

/** One claim of a study with its verdict (lib/study/study.ts studyClaims). */
export interface ClaimResult {
  claim: string;
  prediction: string;
  cell: string;
  comparison: string;
  /** Mean over images of (A - B), each side averaged over the seeds. */
  meanDb: number;
  /** Paired bootstrap 95% interval of that mean. */
  ci95: [number, number];
  perSeed: { seed: number; meanDb: number; ci95: [number, number]; wins: number; n: number }[];
  verdict: Verdict;
}

/** One cell and variant of a study's gain table (lib/study/study.ts gainTable). */
export interface GainRow {
  cell: string;
  variant: string;
  /** Mean PSNR gain over the input, dB, averaged over the seeds. */
  gainDb: number;
  perSeed: number[];
  params: number;
}

/** One run as the joined study file keeps it. */
export interface StudyFileRun {
  key: string;
  cell: string;
  variant: string;
  seed: number;
  params: number;
  /** Training wall time, minutes (one decimal). */
  trainMinutes: number;
  machine: string;
  backend: string;
  meanPsnr: number;
  meanInputPsnr: number;
  perImage: RunResult["perImage"];
}

/** results/studies/NAME.json: every run of a study joined, with the claims' verdicts. */
export interface StudyFile {
  study: string;
  title: string;
  question: string;
  /** The study file it ran (studies/NAME.json). */
  file: string;
  provenance: Provenance;
  budget: StudyBudget;
  seeds: number[];
  claims: ClaimResult[];
  gains: GainRow[];
  runs: StudyFileRun[];
}

export function checkStudyFile(v: unknown, where: string): StudyFile {
  const o = record(v, where);
  need(o, where, {
    study: "string",
    title: "string",
    question: "string",
    file: "string",
    provenance: "object",
    budget: "object",
    seeds: "array",
    claims: "array",
    gains: "array",
    runs: "array",
  });
  needEach(o.claims, `${where}: claims`, {
    claim: "string",
    cell: "string",
    comparison: "string",
    meanDb: "number",
    ci95: "array",
    perSeed: "array",
    verdict: "string",
  });
  needEach(o.runs, `${where}: runs`, {
    key: "string",
    variant: "string",
    seed: "number",
    meanPsnr: "number",
    meanInputPsnr: "number",
    perImage: "array",
  });
  return o as unknown as StudyFile;
}

/** One cell and filter width of a study's linear ceiling (lib/analysis/reach.ts). */
export interface LinearReachRow {
  cell: string;
  /** Blur length of the cell's benchmark, px (a range when the cell draws it per pair). */
  length: number | [number, number];
  /** Taps of the least-squares row filter: it sees (taps - 1) / 2 px on each side. */
  taps: number;
  /** Mean over the test crops of the filter's PSNR minus the input's, on the scored columns. */
  meanGainDb: number;
  improved: number;
  images: number;
}

/** results/studies/NAME/linear-reach.json: the best linear row filter of each width per cell. */
export interface LinearReachFile {
  study: string;
  /** What was fitted and scored, in words (the columns, the rows, the clamp). */
  method: string;
  /** Columns of each crop scored: those where the widest filter sees only the crop. */
  scoredColumns: number;
  provenance: Provenance;
  rows: LinearReachRow[];
}

export function checkLinearReachFile(v: unknown, where: string): LinearReachFile {
  const o = record(v, where);
  need(o, where, {
    study: "string",
    method: "string",
    scoredColumns: "number",
    provenance: "object",
    rows: "array",
  });
  needEach(o.rows, `${where}: rows`, {
    cell: "string",
    taps: "number",
    meanGainDb: "number",
    improved: "number",
    images: "number",
  });
  return o as unknown as LinearReachFile;
}

// ---------------------------------------------------------------------------------------
// Checks: each error names the file (and line or entry) and the field.

type Kind = "number" | "string" | "boolean" | "object" | "array";

function bad(where: string, why: string): never {
  throw new Error(`${where}: ${why}`);
}

function kindOf(v: unknown): Kind | "null" | "undefined" {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v as Kind | "undefined";
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (kindOf(v) !== "object") bad(where, `expected an object, got ${kindOf(v)}`);
  return v as Record<string, unknown>;
}

/** `need` on every entry of the array `list` (entries named `where[i]`). */
function needEach(list: unknown, where: string, spec: Record<string, Kind>): void {
  (list as unknown[]).forEach((v, i) => need(record(v, `${where}[${i}]`), `${where}[${i}]`, spec));
}

function need(o: Record<string, unknown>, where: string, spec: Record<string, Kind>): void {
  for (const [k, kind] of Object.entries(spec)) {
    if (kindOf(o[k]) !== kind) bad(where, `"${k}" must be ${kind}, got ${kindOf(o[k])}`);
  }
}

function maybe(o: Record<string, unknown>, where: string, spec: Record<string, Kind>): void {
  for (const [k, kind] of Object.entries(spec)) {
    if (o[k] !== undefined && kindOf(o[k]) !== kind) {
      bad(where, `"${k}" must be ${kind} when present, got ${kindOf(o[k])}`);
    }
  }
}
