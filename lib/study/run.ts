/**
 * The study procedure (Deno-only): make a run's controlled benchmark, train the variant with
 * the study's budget and evaluate it on the test split (train_eval.ts, the procedure ablate
 * and the notebooks use too), keep the result. One run at a time; `deno task study`
 * (lib/cli/study.ts) calls `runStudyRun`.
 *
 * Where things live:
 *   results/studies/NAME/runs/KEY.json   a finished run (committed: the study's evidence)
 *   runs/studies/NAME/KEY/               its training folder (checkpoints every 100 steps,
 *                                        so a killed run resumes; not committed)
 *   results/studies/NAME.json            the joined study: provenance, runs, claims
 * A run whose result file exists with the same benchmark, budget and variant is not redone.
 */
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from "../train/config.ts";
import type { LogRecord } from "../train/trainer.ts";
import { ensureControlled } from "../data/controlled_io.ts";
import type { DataSource } from "../data/source.ts";
import { listPairs } from "../data/source_io.ts";
import { type Provenance, writeJsonAtomic } from "../records/provenance.ts";
import { cachedResult, readCached, trainThenEvaluate } from "./train_eval.ts";
import {
  checkStudy,
  gainTable,
  type RunSpec,
  type Study,
  studyClaims,
  studyMarkdown,
  studyRuns,
} from "./study.ts";
import { InputError } from "../data/errors.ts";
import type { RunResult, StudyFile } from "../records/formats.ts";

export const STUDIES_DIR = "studies";
export const STUDY_RESULTS = "results/studies";
export const STUDY_RUNS = "runs/studies";

/** Reads and checks studies/NAME.json (or a path to a study file). */
export async function readStudy(nameOrPath: string): Promise<{ study: Study; file: string }> {
  const file = nameOrPath.endsWith(".json") ? nameOrPath : `${STUDIES_DIR}/${nameOrPath}.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
    const known = await listStudies().catch(() => []);
    throw new InputError(`${file}: no such study file (studies: ${known.join(", ") || "none"})`);
  }
  let parsed: Study;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return { study: checkStudy(parsed, file), file };
}

/** Names of the committed study files. */
export async function listStudies(): Promise<string[]> {
  const out = [];
  for await (const e of Deno.readDir(STUDIES_DIR)) {
    if (e.isFile && e.name.endsWith(".json")) out.push(e.name.slice(0, -5));
  }
  return out.sort();
}

/** 8 hex digits of the settings a run's training depends on (FNV-1a of their JSON). */
export function settingsTag(run: RunSpec, s: Study): string {
  const text = JSON.stringify([run.benchmark, s.budget, run.variant.model, run.variant.overrides]);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

export function runResultPath(study: string, key: string, root = STUDY_RESULTS): string {
  return `${root}/${study}/runs/${key}.json`;
}

function sameRun(r: RunResult, run: RunSpec, s: Study): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return same(r.benchmark, run.benchmark) && same(r.budget, s.budget) &&
    r.model === run.variant.model && same(r.overrides, run.variant.overrides ?? {});
}

/** The cached result of a run, or null when it has not run (or ran with other settings). */
export function cachedRun(
  s: Study,
  run: RunSpec,
  root = STUDY_RESULTS,
): Promise<RunResult | null> {
  return readCached<RunResult>(runResultPath(s.name, run.key, root), (r) => sameRun(r, run, s));
}

export interface RunOptions {
  /** Where finished runs go (default results/studies). */
  resultsRoot?: string;
  /** Where training folders go (default runs/studies). */
  runsRoot?: string;
  /** Where benchmarks go (default data/controlled). */
  dataRoot?: string;
  /** Benchmarks from the fixtures even when the photo set is there (tests). */
  preferFixtures?: boolean;
  provenance: Provenance;
  backend: string;
  onLog?: (r: LogRecord, total: number) => void;
  /** Stop training after this many steps (tests of resume); the run is then not finished. */
  stopAt?: number;
}

/** Trains and evaluates one run (resuming its training folder), writes and returns its result. */
export async function runStudyRun(
  s: Study,
  run: RunSpec,
  o: RunOptions,
): Promise<RunResult | null> {
  const path = runResultPath(s.name, run.key, o.resultsRoot ?? STUDY_RESULTS);
  const done = await cachedResult<RunResult>(path, (r) => sameRun(r, run, s), async () => {
    const { dir } = await ensureControlled(run.benchmark, {
      root: o.dataRoot,
      preferFixtures: o.preferFixtures,
    });
    const data: DataSource = { kind: "controlled", name: run.benchmark.name, root: dir };
    const recipe: TrainConfig = {
      ...DEFAULT_TRAIN_CONFIG,
      ...s.budget,
      model: run.variant.model,
      seed: run.seed,
      logEvery: 10,
      valEvery: 0,
      checkpointEvery: 100,
    };
    const r = await trainThenEvaluate({
      recipe,
      // The run's seed wins over a seed in the variant's overrides.
      overrides: { ...(run.variant.overrides ?? {}), seed: run.seed },
      train: await listPairs(data, "train"),
      test: await listPairs(data, "test"),
      // The folder names the run's settings too: a run edited (notebook 04) or a quick-mode
      // run never resumes another's checkpoint.
      runDir: `${o.runsRoot ?? STUDY_RUNS}/${s.name}/${run.key}--${settingsTag(run, s)}`,
      metadata: {
        provenance: o.provenance,
        data: `controlled ${run.benchmark.name}`,
        study: s.name,
      },
      stopAt: o.stopAt,
      onLog: o.onLog,
      label: run.key,
    });
    if (r === null) return null;
    return {
      key: run.key,
      cell: run.cell,
      variant: run.variant.name,
      model: run.variant.model,
      overrides: run.variant.overrides ?? {},
      seed: run.seed,
      params: r.params,
      benchmark: run.benchmark,
      budget: s.budget,
      trainSec: r.trainSec,
      machine: o.provenance.machine.cpu,
      backend: o.backend,
      finalLoss: r.lastLoss,
      perImage: r.perImage.map((p) => ({
        name: p.name,
        psnr: p.psnr,
        inputPsnr: p.inputPsnr,
        ssim: p.ssim,
      })),
      meanPsnr: r.summary.meanPsnr,
      meanInputPsnr: r.summary.meanInputPsnr,
    };
  });
  return done?.result ?? null;
}

/** The finished runs of a study and the keys still missing. */
export async function collectRuns(
  s: Study,
  root = STUDY_RESULTS,
): Promise<{ results: RunResult[]; missing: string[] }> {
  const results: RunResult[] = [], missing: string[] = [];
  for (const run of studyRuns(s)) {
    const r = await cachedRun(s, run, root);
    if (r) results.push(r);
    else missing.push(run.key);
  }
  return { results, missing };
}

/** Joins every finished run into results/studies/NAME.json (all runs must be there). */
export async function joinStudy(
  s: Study,
  file: string,
  prov: Provenance,
  root = STUDY_RESULTS,
): Promise<StudyFile> {
  const { results, missing } = await collectRuns(s, root);
  if (missing.length > 0) {
    throw new InputError(
      `study ${s.name}: ${missing.length} of ${
        results.length + missing.length
      } runs not finished (${missing.slice(0, 3).join(", ")}${
        missing.length > 3 ? ", ..." : ""
      }); run \`deno task study ${s.name}\``,
    );
  }
  const out: StudyFile = {
    study: s.name,
    title: s.title,
    question: s.question,
    file,
    provenance: prov,
    budget: s.budget,
    seeds: s.seeds,
    claims: studyClaims(s, results),
    gains: gainTable(s, results),
    runs: results.map((r) => ({
      key: r.key,
      cell: r.cell,
      variant: r.variant,
      seed: r.seed,
      params: r.params,
      trainMinutes: Math.round(r.trainSec / 6) / 10,
      machine: r.machine,
      backend: r.backend,
      meanPsnr: r.meanPsnr,
      meanInputPsnr: r.meanInputPsnr,
      perImage: r.perImage,
    })),
  };
  await writeJsonAtomic(`${root}/${s.name}.json`, out);
  await Deno.writeTextFile(`${root}/${s.name}.md`, studyMarkdown(s, out.claims, out.gains));
  return out;
}
