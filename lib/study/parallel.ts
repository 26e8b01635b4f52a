/**
 * Running a study's runs (Deno-only): one shard in this process (`runShard`), or N worker
 * processes side by side, one shard and one core each (`runInParallel`), which is how two
 * runs share a 2-core machine without their OpenBLAS threads fighting. The CLI
 * (`deno task study`) and notebook 04's interactive cell both come through here, so a
 * study edited in the notebook trains, evaluates and caches exactly as a committed one.
 */
import { describeBackend, initBackend } from "../backends/select.ts";
import type { BackendChoice } from "../backends/choices.ts";
import { ensureControlled } from "../data/controlled_io.ts";
import { type Provenance, provenance } from "../records/provenance.ts";
import { isQuick, repoRoot } from "../records/paths.ts";
import { cachedRun, joinStudy, readStudy, runStudyRun, STUDY_RESULTS, STUDY_RUNS } from "./run.ts";
import { cellBenchmark, shardRuns, type Study, studyRuns } from "./study.ts";
import type { RunResult, StudyFile } from "../records/formats.ts";
import { InputError } from "../data/errors.ts";

export interface ShardOptions {
  resultsRoot?: string;
  runsRoot?: string;
  provenance: Provenance;
  /** The backend's description (describeBackend) stored with each run. */
  backend: string;
  /** Progress lines (a run's steps every 15 s, its result). */
  progress?: (msg: string) => void;
}

/** Trains and evaluates the runs of one shard that are not cached yet; returns them all. */
export async function runShard(
  study: Study,
  shard: { index: number; count: number },
  o: ShardOptions,
): Promise<RunResult[]> {
  const mine = shardRuns(studyRuns(study), shard);
  const say = o.progress ?? (() => {});
  const results = o.resultsRoot ?? STUDY_RESULTS;
  const out: RunResult[] = [];
  for (const [i, run] of mine.entries()) {
    const tag = `[${i + 1}/${mine.length}] ${run.key}`;
    const cached = await cachedRun(study, run, results);
    if (cached) {
      say(`${tag}: done earlier`);
      out.push(cached);
      continue;
    }
    let last = 0;
    const t0 = performance.now();
    const r = await runStudyRun(study, run, {
      resultsRoot: results,
      runsRoot: o.runsRoot ?? STUDY_RUNS,
      provenance: o.provenance,
      backend: o.backend,
      onLog: (rec, total) => {
        if (rec.kind !== "train" || performance.now() - last < 15_000) return;
        last = performance.now();
        const s = (performance.now() - t0) / 1000;
        say(
          `${tag}: step ${rec.step}/${total}  loss ${rec.loss!.toPrecision(4)}  ${s.toFixed(0)} s`,
        );
      },
    });
    if (r) {
      say(
        `${tag}: ${(r.meanPsnr - r.meanInputPsnr).toFixed(2)} dB over the input (${
          r.meanInputPsnr.toFixed(2)
        } -> ${r.meanPsnr.toFixed(2)}), ${(r.trainSec / 60).toFixed(1)} min`,
      );
      out.push(r);
    }
  }
  return out;
}

export interface ParallelOptions {
  jobs: number;
  backend: BackendChoice;
  resultsRoot?: string;
  runsRoot?: string;
  quiet?: boolean;
  progress?: (msg: string) => void;
}

const WORKER = new URL("./worker.ts", import.meta.url).pathname;

async function hasTaskset(): Promise<boolean> {
  return await new Deno.Command("taskset", { args: ["--version"], stdout: "null", stderr: "null" })
    .output().then((o) => o.success, () => false);
}

/**
 * `jobs` worker processes on study FILE, shard j/jobs each, pinned to core (j-1) mod cores
 * when taskset exists, with one OpenBLAS thread each. The benchmarks are made here first, so
 * no two workers write the same folder. Their progress goes to this process's stderr.
 */
export async function runInParallel(file: string, o: ParallelOptions): Promise<void> {
  const { study } = await readStudy(file);
  for (const c of study.cells) {
    const b = cellBenchmark(study, c);
    // Quick mode (the notebook tests) makes its crops from the fixtures; the workers then
    // find this data by its spec.
    const { reused } = await ensureControlled(b, { preferFixtures: isQuick() });
    if (!reused) o.progress?.(`made data/controlled/${b.name}`);
  }
  const pin = await hasTaskset();
  const cores = navigator.hardwareConcurrency;
  const workers = [];
  for (let j = 1; j <= o.jobs; j++) {
    const args = [
      "run",
      "-A",
      WORKER,
      file,
      `${j}/${o.jobs}`,
      o.backend,
      o.resultsRoot ?? STUDY_RESULTS,
      o.runsRoot ?? STUDY_RUNS,
      o.quiet ? "quiet" : "progress",
    ];
    workers.push(
      new Deno.Command(pin ? "taskset" : Deno.execPath(), {
        args: pin ? ["-c", String((j - 1) % cores), Deno.execPath(), ...args] : args,
        env: { OPENBLAS_NUM_THREADS: "1" },
        stdout: "null",
        stderr: "inherit",
      }).spawn(),
    );
  }
  const codes = await Promise.all(workers.map((w) => w.status));
  const failed = codes.filter((c) => !c.success).length;
  if (failed > 0) {
    throw new InputError(`${failed} of ${o.jobs} study processes failed (their errors are above)`);
  }
}

/**
 * A study given as an object (notebook 04's edited copy of a committed one): written to
 * `<runsRoot>/NAME.study.json`, run on `jobs` workers, joined. Its runs are cached under
 * `resultsRoot`, so re-running the cell with the same study only joins.
 */
export async function runStudyNow(
  study: Study,
  o: Omit<ParallelOptions, "jobs"> & { jobs?: number },
): Promise<StudyFile> {
  const runsRoot = o.runsRoot ?? "runs/notebook-studies";
  const resultsRoot = o.resultsRoot ?? `${runsRoot}/results`;
  // Every default path of a study (data/photos, data/controlled, runs/) is relative to the
  // repository root, and a notebook's kernel runs in notebooks/: work from the root, and
  // let the workers inherit it.
  const here = Deno.cwd();
  Deno.chdir(repoRoot());
  try {
    await Deno.mkdir(runsRoot, { recursive: true });
    const file = `${runsRoot}/${study.name}.study.json`;
    await Deno.writeTextFile(file, JSON.stringify(study, null, 2) + "\n");
    const { study: checked } = await readStudy(file);
    await runInParallel(file, { ...o, jobs: o.jobs ?? 2, runsRoot, resultsRoot });
    const prov = await provenance(`runStudyNow(${study.name})`);
    return await joinStudy(checked, file, prov, resultsRoot);
  } finally {
    Deno.chdir(here);
  }
}

/** Initialises `backend` and describes it, for runShard's records. */
export async function backendFor(backend: BackendChoice): Promise<string> {
  return describeBackend(await initBackend(backend));
}
