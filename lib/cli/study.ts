/**
 * `deno task study NAME`: trains and evaluates every run (cell x variant x seed) of
 * studies/NAME.json on its controlled benchmarks, then joins them into
 * results/studies/NAME.json with the claims and their verdicts (lib/study/study.ts).
 * Finished runs are cached (results/studies/NAME/runs/), unfinished ones resume from their
 * last checkpoint; `--jobs 2` runs two processes side by side, one core each; `--shard I/N`
 * runs one share of the runs (one machine or array job each) and `--join` gathers them.
 */
import {
  BACKEND_OPTION,
  backendArg,
  type CommandSpec,
  type Context,
  runCommand,
  UsageError,
} from "./common.ts";
import { describeBackend, initBackend } from "../backends/select.ts";
import { provenance } from "../records/provenance.ts";
import { cellBenchmark, parseShard, shardRuns, studyRuns } from "../study/study.ts";
import { ensureControlled } from "../data/controlled_io.ts";
import {
  cachedRun,
  collectRuns,
  joinStudy,
  listStudies,
  readStudy,
  runStudyRun,
  STUDY_RESULTS,
  STUDY_RUNS,
} from "../study/run.ts";
import { modelParamCount } from "../models/registry.ts";

export const STUDY_SPEC: CommandSpec = {
  name: "study",
  summary:
    "Train and evaluate every run of a study; write results/studies/NAME.json with verdicts.",
  usage: "NAME",
  positionals: { min: 0, max: 1 },
  options: {
    list: { type: "boolean", description: "list the studies and how many of their runs are done" },
    plan: { type: "boolean", description: "list the runs of NAME (done or not) and exit" },
    jobs: {
      type: "string",
      valueName: "N",
      default: "1",
      description: "processes side by side (each pinned to one core when taskset exists)",
    },
    shard: {
      type: "string",
      valueName: "I/N",
      description: "run only every N-th run starting at the I-th (no join)",
    },
    join: {
      type: "boolean",
      description: "only gather finished runs into results/studies/NAME.json",
    },
    "no-join": { type: "boolean", description: "do not join after running" },
    backend: { ...BACKEND_OPTION, default: "native" },
    results: {
      type: "string",
      valueName: "DIR",
      default: STUDY_RESULTS,
      description: "finished runs and joined studies",
    },
    runs: {
      type: "string",
      valueName: "DIR",
      default: STUDY_RUNS,
      description: "training folders",
    },
  },
  details: `Studies are the files of studies/ (one per study: benchmark factors, variants, budget,
seeds, and each claim's prediction, written before the runs). Examples:
  deno task study --list
  deno task study receptive-field --plan
  deno task study receptive-field --jobs 2
  deno task study receptive-field --shard 1/4     # on each of four machines: 1/4 .. 4/4
  deno task study receptive-field --join          # after copying their results/studies/ here`,
};

async function main(ctx: Context) {
  const results = ctx.str("results")!, runsRoot = ctx.str("runs")!;
  if (ctx.flag("list")) {
    const rows = [];
    for (const name of await listStudies()) {
      const { study } = await readStudy(name);
      const { results: done, missing } = await collectRuns(study, results);
      rows.push({
        name,
        title: study.title,
        done: done.length,
        runs: done.length + missing.length,
      });
    }
    ctx.out(
      rows.map((r) => `${r.name.padEnd(22)} ${r.done}/${r.runs} runs  ${r.title}`).join("\n"),
    );
    return { studies: rows };
  }
  const name = ctx.positionals[0];
  if (!name) throw new UsageError("name a study (deno task study --list shows them)");
  const { study, file } = await readStudy(name);
  const all = studyRuns(study);
  if (ctx.flag("plan")) {
    const rows = [];
    for (const r of all) {
      const done = await cachedRun(study, r, results);
      rows.push({
        key: r.key,
        params: modelParamCount(r.variant.model, r.variant.overrides),
        done: done !== null,
      });
    }
    ctx.out(
      rows.map((r) => `${r.done ? "done" : "todo"}  ${r.key}  (${r.params} parameters)`).join("\n"),
    );
    return { study: study.name, runs: rows };
  }
  const prov = await provenance(`deno task study ${Deno.args.join(" ")}`.trim());
  if (!ctx.flag("join")) {
    const jobs = ctx.int("jobs", 1, 1, 64);
    const backend = backendArg(ctx);
    if (jobs > 1 && ctx.str("shard")) throw new UsageError("--jobs and --shard do not combine");
    if (jobs > 1) await runJobs(ctx, name, jobs, backend);
    else {
      const shard = ctx.str("shard") ? parseShard(ctx.str("shard")!) : { index: 1, count: 1 };
      const mine = shardRuns(all, shard);
      const info = await initBackend(backend);
      const backendText = describeBackend(info);
      ctx.progress(`study ${study.name}: ${mine.length} runs on ${backendText}`);
      for (const [i, run] of mine.entries()) {
        const tag = `[${i + 1}/${mine.length}] ${run.key}`;
        if (await cachedRun(study, run, results)) {
          ctx.progress(`${tag}: done earlier`);
          continue;
        }
        let last = 0;
        const t0 = performance.now();
        const r = await runStudyRun(study, run, {
          resultsRoot: results,
          runsRoot,
          provenance: prov,
          backend: backendText,
          onLog: (rec, total) => {
            if (rec.kind !== "train" || performance.now() - last < 15_000) return;
            last = performance.now();
            const s = (performance.now() - t0) / 1000;
            ctx.progress(
              `${tag}: step ${rec.step}/${total}  loss ${rec.loss!.toPrecision(4)}  ${
                s.toFixed(0)
              } s`,
            );
          },
        });
        if (r) {
          ctx.progress(
            `${tag}: ${(r.meanPsnr - r.meanInputPsnr).toFixed(2)} dB over the input (${
              r.meanInputPsnr.toFixed(2)
            } -> ${r.meanPsnr.toFixed(2)}), ${(r.trainSec / 60).toFixed(1)} min`,
          );
        }
      }
      if (ctx.str("shard")) {
        return { study: study.name, shard: ctx.str("shard"), runs: mine.length };
      }
    }
    if (ctx.flag("no-join")) return { study: study.name };
  }
  const joined = await joinStudy(study, file, prov, results);
  const claims = joined.claims as {
    claim: string;
    meanDb: number;
    ci95: number[];
    verdict: string;
  }[];
  ctx.out(
    claims.map((c) =>
      `${c.verdict.padEnd(20)} ${c.meanDb >= 0 ? "+" : ""}${c.meanDb.toFixed(2)} dB [${
        c.ci95.map((x) => x.toFixed(2)).join(", ")
      }]  ${c.claim}`
    ).join("\n") + `\n(${results}/${study.name}.json)`,
  );
  return joined;
}

/** `--jobs N`: N child processes, one shard each, pinned to a core each when possible. */
async function runJobs(ctx: Context, name: string, jobs: number, backend: string) {
  // every benchmark is made here first, so no two children write the same folder
  const { study } = await readStudy(name);
  for (const c of study.cells) {
    const b = cellBenchmark(study, c);
    const { reused } = await ensureControlled(b);
    if (!reused) ctx.progress(`made data/controlled/${b.name}`);
  }
  const hasTaskset = await new Deno.Command("taskset", {
    args: ["--version"],
    stdout: "null",
    stderr: "null",
  })
    .output().then((o) => o.success, () => false);
  const cores = navigator.hardwareConcurrency;
  const script = new URL(import.meta.url).pathname;
  const children = [];
  for (let j = 1; j <= jobs; j++) {
    const args = [
      "run",
      "-A",
      script,
      name,
      "--shard",
      `${j}/${jobs}`,
      "--no-join",
      "--backend",
      backend,
      "--results",
      ctx.str("results")!,
      "--runs",
      ctx.str("runs")!,
    ];
    if (ctx.quiet) args.push("--quiet");
    const pin = hasTaskset ? ["-c", String((j - 1) % cores), Deno.execPath()] : [];
    children.push(
      new Deno.Command(hasTaskset ? "taskset" : Deno.execPath(), {
        args: [...pin, ...args],
        env: { OPENBLAS_NUM_THREADS: "1" },
        stdout: "null",
        stderr: "inherit",
      }).spawn(),
    );
  }
  const codes = await Promise.all(children.map((c) => c.status));
  const failed = codes.filter((c) => !c.success).length;
  if (failed > 0) throw new UsageError(`${failed} of ${jobs} study processes failed (see above)`);
}

if (import.meta.main) runCommand(STUDY_SPEC, main);
