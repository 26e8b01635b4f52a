/**
 * What the notebooks read from disk, with a clear message instead of a crash when
 * something is not there (Deno-only):
 *
 * - shipped checkpoints `results/checkpoints/NAME.safetensors` (`loadShipped`), with a
 *   freshly built model as the quick-mode fallback (`shippedOrFallback`);
 * - training logs: `results/training/NAME.jsonl`, else the run folder's
 *   `runs/NAME/log.jsonl` (`readTrainingLog`);
 * - evaluation JSONs `results/eval/NAME.json` (`readEvalResult`), the ablation study
 *   `results/ablations.json` (`readAblations`) and the joined controlled studies
 *   `results/studies/NAME.json` (`readStudyResult`);
 * - the synthetic benchmarks: the quick ones (`synth-v2-quick`, `synth-v1-quick`) are
 *   regenerated from the committed fixtures when missing (about a second), `synth-v2` and
 *   `synth-v1` need `deno task data` and `deno task data benchmark --name NAME`
 *   (`benchmarkPairs`).
 *
 * Paths are absolute, from the repository root (a notebook's working directory is
 * notebooks/). $SVRNN_CHECKPOINTS overrides the checkpoint folder (tests).
 *
 * Where a notebook goes on without something (`shippedOrFallback` without the checkpoint,
 * `benchmarkOrSubstitute` without the benchmark), it is recorded with `degraded()`
 * (lib/notebooks/degraded.ts), so a non-quick `deno task reproduce` fails instead of storing a
 * thinner notebook.
 */
import * as tf from "@tensorflow/tfjs";
import type { TargetGapFile } from "../analysis/targets.ts";
import { inspectCheckpoint, loadModel } from "../models/checkpoint.ts";
import { createModel } from "../models/registry.ts";
import type { DeblurModel } from "../models/model.ts";
import { BENCHMARKS, prepareBenchmarkCommand } from "../data/benchmark.ts";
import { generateBenchmark } from "../data/benchmark_io.ts";
import { exists } from "../data/image_io.ts";
import type { GoProBlur, PairRef } from "../data/gopro.ts";
import type { DataSource } from "../data/source.ts";
import { listPairs } from "../data/source_io.ts";
import { CONTROLLED_ROOT } from "../data/controlled_io.ts";
import { isQuick } from "./env.ts";
import { degraded } from "./degraded.ts";
import { ABLATION_CHECKPOINTS, repoRoot, SHIPPED_CHECKPOINTS } from "../records/paths.ts";
import {
  type Ablations,
  checkAblations,
  checkEvalResult,
  checkLinearReachFile,
  checkStudyFile,
  type EvalResult,
  type LinearReachFile,
  parseTrainingLog,
  type StudyFile,
  type TrainLogRecord,
} from "../records/formats.ts";

// The results formats are typed by lib/records/formats.ts; notebooks import them from here.
export type { Ablations, AblationVariant, EvalResult, TrainLogRecord } from "../records/formats.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${path}: cannot read JSON: ${(e as Error).message}`);
  }
}

/** A path relative to the repository root, for messages. */
export function relPath(path: string): string {
  const root = repoRoot();
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/**
 * A path a reader types into a parameter cell: absolute, `~/...`, or relative to the
 * repository root (not to notebooks/, the kernel's working directory).
 */
export function resolvePath(path: string): string {
  if (path.startsWith("/")) return path;
  if (path === "~" || path.startsWith("~/")) return `${env("HOME") ?? ""}${path.slice(1)}`;
  return `${repoRoot()}/${path.replace(/^\.\//, "")}`;
}

// ---------------------------------------------------------------------------------------
// Shipped models

/** The shipped checkpoints' folder ($SVRNN_CHECKPOINTS overrides it). */
function shippedDir(): string {
  return env("SVRNN_CHECKPOINTS") ?? `${repoRoot()}/${SHIPPED_CHECKPOINTS}`;
}

/** Where the shipped checkpoint of `name` lives. */
export function shippedCheckpointPath(name: string): string {
  return `${shippedDir()}/${name}.safetensors`;
}

export interface TrainingInfo {
  /** Steps trained (from the checkpoint's "training" metadata). */
  step: number | null;
  /** Steps of the run's schedule (a released best checkpoint can be from before its end). */
  steps: number | null;
  batchSize: number | null;
  patchSize: number | null;
  learningRate: number | null;
  bestValPsnr: number | null;
  /** Training data description. */
  data: string | null;
  /** Backend it was trained on. */
  backend: string | null;
  /** Commit of the training run. */
  commit: string | null;
  /**
   * The run this one started from (`deno task train --init`): its schedule length and the
   * step of the weights taken from it; null for a run from random weights.
   */
  init: { steps: number | null; step: number | null; path: string | null } | null;
}

function parseJson(s: string | undefined): any {
  if (!s) return null;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** The training recipe and provenance stored in a checkpoint's metadata. */
export function trainingInfo(metadata: Record<string, string>): TrainingInfo {
  const t = parseJson(metadata.training);
  const prov = parseJson(metadata.provenance);
  return {
    step: typeof t?.step === "number" ? t.step : null,
    steps: typeof t?.config?.steps === "number" ? t.config.steps : null,
    batchSize: t?.config?.batchSize ?? null,
    patchSize: t?.config?.patchSize ?? null,
    learningRate: t?.config?.learningRate ?? null,
    bestValPsnr: typeof t?.bestValPsnr === "number" ? t.bestValPsnr : null,
    data: metadata.data ?? null,
    backend: metadata.backend ?? null,
    commit: typeof prov?.commit === "string" ? prov.commit : null,
    init: initInfo(parseJson(metadata.init)),
  };
}

function initInfo(record: any): TrainingInfo["init"] {
  if (record === null || record === undefined) return null;
  if (typeof record !== "object") return { steps: null, step: null, path: String(record) };
  const t = record.training;
  return {
    steps: typeof t?.config?.steps === "number" ? t.config.steps : null,
    step: typeof t?.step === "number" ? t.step : null,
    path: typeof record.path === "string" ? record.path : null,
  };
}

/**
 * Where trained weights of `name` may be, in order: the shipped checkpoint, the released
 * ablation weights (`results/checkpoints/ablations/NAME.safetensors`), then the
 * run folder `deno task ablate` leaves (`runs/ablations/NAME/last.safetensors`, read only).
 */
export function trainedCheckpointPaths(name: string): string[] {
  return [
    shippedCheckpointPath(name),
    `${shippedDir()}/${ABLATION_CHECKPOINTS}/${name}.safetensors`,
    `${repoRoot()}/runs/ablations/${name}/last.safetensors`,
  ];
}

export type Shipped =
  | { ok: true; model: DeblurModel; path: string; bytes: number; training: TrainingInfo }
  | { ok: false; path: string; reason: string };

/**
 * Loads the shipped checkpoint of `name` (with `ablationRuns`, else the ablation run's
 * weights), or says why it cannot.
 */
export async function loadShipped(
  name: string,
  opts: { ablationRuns?: boolean } = {},
): Promise<Shipped> {
  let path = shippedCheckpointPath(name);
  if (opts.ablationRuns && !(await exists(path))) {
    for (const p of trainedCheckpointPaths(name)) {
      if (await exists(p)) {
        path = p;
        break;
      }
    }
  }
  if (!(await exists(path))) {
    return {
      ok: false,
      path,
      reason: `no shipped checkpoint at \`${relPath(path)}\` (train it with ` +
        `\`deno task train --model ${name} --release ${relPath(path)}\`)`,
    };
  }
  try {
    const { model, metadata, optimizer } = await loadModel(path);
    tf.dispose(Object.values(optimizer));
    const bytes = (await Deno.stat(path)).size;
    return { ok: true, model, path, bytes, training: trainingInfo(metadata) };
  } catch (e) {
    return { ok: false, path, reason: `cannot load \`${relPath(path)}\`: ${(e as Error).message}` };
  }
}

export interface ModelChoice {
  /** The model to use, or null (full mode without the checkpoint). */
  model: DeblurModel | null;
  /** "shipped", "fresh" (quick-mode fallback: random initial weights) or "missing". */
  status: "shipped" | "fresh" | "missing";
  /** Markdown for the reader: where the weights came from, or what is missing. */
  message: string;
  path: string;
  bytes: number | null;
  training: TrainingInfo | null;
}

/**
 * The shipped `name` when present; otherwise, in quick mode (or with `fallback: true`), a
 * freshly built `name` with its seeded initial weights, and in full mode null; `message`
 * says which.
 */
export async function shippedOrFallback(
  name: string,
  /** `architecture`: the registered model a stand-in is built as (default `name`). */
  opts: { fallback?: boolean; architecture?: string } = {},
): Promise<ModelChoice> {
  const s = await loadShipped(name);
  if (s.ok) {
    const t = s.training;
    return {
      model: s.model,
      status: "shipped",
      path: s.path,
      bytes: s.bytes,
      training: t,
      message: `**${name}**: shipped weights \`${relPath(s.path)}\` (${
        (s.bytes / 1e6).toFixed(2)
      } MB, ${s.model.paramCount().toLocaleString("en-US")} parameters${
        t.step === null
          ? ""
          : t.init?.step
          ? `, ${t.init.step} + ${t.step} training steps (the second run from the first's weights)`
          : `, ${t.step} training steps`
      }).`,
    };
  }
  const what = `shipped checkpoint ${name} (${relPath(s.path)})`;
  if (opts.fallback ?? isQuick()) {
    degraded(what, `a freshly built ${name} with random initial weights`);
    const model = createModel(opts.architecture ?? name);
    return {
      model,
      status: "fresh",
      path: s.path,
      bytes: null,
      training: null,
      message: `**${name}**: ${s.reason}. Using a freshly built ${name} with random initial ` +
        `weights instead, so its outputs below are **not** a trained model's.`,
    };
  }
  degraded(what, "left out (its cells show a note)");
  return {
    model: null,
    status: "missing",
    path: s.path,
    bytes: null,
    training: null,
    message: `**${name} is missing**: ${s.reason}. The cells that need it show this note ` +
      `instead of results.`,
  };
}

/** Metadata of a shipped checkpoint without building the model, or null when absent. */
export async function shippedInfo(
  name: string,
): Promise<{ path: string; bytes: number; training: TrainingInfo } | null> {
  const path = shippedCheckpointPath(name);
  if (!(await exists(path))) return null;
  const info = await inspectCheckpoint(path);
  return { path, bytes: (await Deno.stat(path)).size, training: trainingInfo(info.metadata) };
}

// ---------------------------------------------------------------------------------------
// Logs and results

/**
 * The training log of a shipped model: `results/training/NAME.jsonl`, else
 * `runs/NAME/log.jsonl` (read only). Null when neither exists. A model fine-tuned from an
 * earlier run (`train --init`) also ships that run's log as `results/training/NAME.init.jsonl`:
 * its records come first, and the later run's steps are shifted by the earlier run's last
 * step, so the x axis counts the training compute of both (`offset`).
 */
export async function readTrainingLog(
  name: string,
): Promise<
  { path: string; records: TrainLogRecord[]; initPath: string | null; offset: number } | null
> {
  const root = repoRoot();
  for (const path of [`${root}/results/training/${name}.jsonl`, `${root}/runs/${name}/log.jsonl`]) {
    const records = await readLogFile(path);
    if (records === null) continue;
    const initPath = `${root}/results/training/${name}.init.jsonl`;
    const earlier = path.startsWith(`${root}/results/`) ? await readLogFile(initPath) : null;
    if (earlier === null) return { path, records, initPath: null, offset: 0 };
    const offset = earlier.reduce((m, r) => Math.max(m, r.step), 0);
    return {
      path,
      records: [...earlier, ...records.map((r) => ({ ...r, step: r.step + offset }))],
      initPath,
      offset,
    };
  }
  return null;
}

async function readLogFile(path: string): Promise<TrainLogRecord[] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return null;
  }
  return parseTrainingLog(text, path);
}

/**
 * Wall time of a training run from its log, seconds: `elapsedSec` restarts at 0 when a run
 * is resumed, so the sessions' last values are added up.
 */
export function trainingWallSec(records: TrainLogRecord[]): number | null {
  let total = 0, session = 0, seen = false;
  for (const r of records) {
    if (r.elapsedSec === undefined) continue;
    seen = true;
    if (r.elapsedSec < session) total += session;
    session = r.elapsedSec;
  }
  return seen ? total + session : null;
}

/** `results/eval/NAME.json`, or null when absent. */
export async function readEvalResult(
  name: string,
): Promise<{ path: string; result: EvalResult } | null> {
  const path = `${repoRoot()}/results/eval/${name}.json`;
  const result = await readJson<unknown>(path);
  return result === null ? null : { path, result: checkEvalResult(result, path) };
}

/** `results/benchmark/NAME.targets.json` (`deno task data targets`), or null when absent. */
export async function readTargetGap(
  name: string,
): Promise<{ path: string; result: TargetGapFile } | null> {
  const path = `${repoRoot()}/results/benchmark/${name}.targets.json`;
  const result = await readJson<TargetGapFile>(path);
  return result ? { path, result } : null;
}

/** `results/studies/NAME/linear-reach.json` (`deno task study NAME --linear-reach`), or null. */
export async function readLinearReach(
  name: string,
): Promise<{ path: string; result: LinearReachFile } | null> {
  const path = `${repoRoot()}/results/studies/${name}/linear-reach.json`;
  const result = await readJson<unknown>(path);
  return result === null ? null : { path, result: checkLinearReachFile(result, path) };
}

/** `results/studies/NAME.json` (`deno task study NAME`), or null when absent. */
export async function readStudyResult(
  name: string,
): Promise<{ path: string; result: StudyFile } | null> {
  const path = `${repoRoot()}/results/studies/${name}.json`;
  const result = await readJson<unknown>(path);
  return result === null ? null : { path, result: checkStudyFile(result, path) };
}

/** The default ablation results file. */
export function ablationsPath(): string {
  return `${repoRoot()}/results/ablations.json`;
}

/** results/ablations.json (or `path`), or null when absent; throws on a malformed file. */
export async function readAblations(path = ablationsPath()): Promise<Ablations | null> {
  const a = await readJson<unknown>(path);
  return a === null ? null : checkAblations(a, path);
}

/**
 * Every ablation-shaped results file in `dir` whose name starts with `prefix` (e.g. the
 * one-per-learning-rate files of a sweep), in name order; empty when `dir` is absent.
 */
export async function readAblationsIn(dir: string, prefix = ""): Promise<Ablations[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith(prefix) && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const studies = await Promise.all(names.sort().map((n) => readAblations(`${dir}/${n}`)));
  return studies.filter((a): a is Ablations => a !== null);
}

// ---------------------------------------------------------------------------------------
// Data

/** Folder of a synthetic benchmark. */
export function benchmarkDir(name: string): string {
  return `${repoRoot()}/data/benchmarks/${name}`;
}

/**
 * Makes sure a benchmark is on disk: a quick one is generated from the fixtures when
 * missing (a second); anything else must have been made by `deno task data benchmark`.
 * Returns null with a message when it is not there.
 */
export async function ensureBenchmark(
  name: string,
): Promise<{ ok: true; root: string } | { ok: false; message: string }> {
  const root = benchmarkDir(name);
  if (await exists(`${root}/manifest.json`)) return { ok: true, root };
  const spec = BENCHMARKS[name];
  if (spec?.source === "fixtures") {
    await generateBenchmark(spec, {
      out: `${repoRoot()}/data/benchmarks`,
      fixturesDir: `${repoRoot()}/data/fixtures`,
    });
    return { ok: true, root };
  }
  return {
    ok: false,
    message: `benchmark ${name} is not on disk (\`${relPath(root)}\`): make it with \`${
      prepareBenchmarkCommand(name)
    }\``,
  };
}

/**
 * `name` when it is on disk (a quick benchmark is generated when missing); otherwise
 * `substitute` (which must be a quick one), with a Markdown `message` for the reader and the
 * substitution recorded with `degraded()`.
 */
export async function benchmarkOrSubstitute(
  name: string,
  substitute: string,
): Promise<{ name: string; message: string | null }> {
  const onDisk = await ensureBenchmark(name);
  if (onDisk.ok) return { name, message: null };
  degraded(`benchmark ${name} (${relPath(benchmarkDir(name))})`, `${substitute} images`);
  return { name: substitute, message: `${onDisk.message}; showing ${substitute} instead.` };
}

/** Pairs as lazily loaded EvalPairs (for lib/eval/evaluate.ts). */
export { evalPairsOf as evalPairs } from "../train/data.ts";

/**
 * The pairs of a dataset split, through `listPairs` (lib/data/source_io.ts) like `deno task
 * train` and `eval`: any `DataSource` (its paths taken as given), or the short forms
 * `{ benchmark, blur? }` (under the repository's data/benchmarks/, a quick one generated when
 * missing; blur defaults to blur_gamma), `{ controlled }` (under data/controlled/) and
 * `{ gopro, blur }` (`blur` chosen explicitly).
 */
export async function datasetPairs(
  source:
    | DataSource
    | { benchmark: string; blur?: GoProBlur }
    | { controlled: string }
    | { gopro: string; blur: GoProBlur },
  split: "train" | "test",
  limit?: number,
): Promise<PairRef[]> {
  let src: DataSource;
  if ("kind" in source) src = source;
  else if ("gopro" in source) src = { kind: "gopro", root: source.gopro, blur: source.blur };
  else if ("controlled" in source) {
    const name = source.controlled;
    src = { kind: "controlled", name, root: `${repoRoot()}/${CONTROLLED_ROOT}/${name}` };
  } else {
    const b = await ensureBenchmark(source.benchmark);
    if (!b.ok) throw new Error(b.message);
    src = {
      kind: "benchmark",
      name: source.benchmark,
      root: b.root,
      blur: source.blur ?? "blur_gamma",
    };
  }
  const refs = await listPairs(src, split);
  return limit === undefined ? refs : refs.slice(0, limit);
}
