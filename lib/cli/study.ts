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
import { provenance } from "../records/provenance.ts";
import { isQuick } from "../records/paths.ts";
import { parseShard, shardRuns, studyRuns } from "../study/study.ts";
import { linearReachPath, studyLinearReach } from "../study/linear_reach.ts";
import {
  cachedRun,
  collectRuns,
  joinStudy,
  listStudies,
  readStudy,
  STUDY_RESULTS,
  STUDY_RUNS,
} from "../study/run.ts";
import { backendFor, runInParallel, runShard } from "../study/parallel.ts";
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
    "linear-reach": {
      type: "boolean",
      description:
        "only measure the best linear row filter of each width on every cell (no training): results/studies/NAME/linear-reach.json",
    },
    taps: {
      type: "string",
      valueName: "LIST",
      description:
        "with --linear-reach: the filter widths, odd (default 1,9,...,129 as the crop allows)",
    },
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
  deno task study receptive-field --join          # after copying their results/studies/ here
  deno task study receptive-field-reach --linear-reach   # how far a filter must see, seconds`,
};

function parseTaps(text: string): number[] {
  const taps = text.split(",").map((t) => Number(t.trim()));
  for (const t of taps) {
    if (!(Number.isInteger(t) && t >= 1 && t % 2 === 1)) {
      throw new UsageError(`--taps: odd positive integers separated by commas, got "${text}"`);
    }
  }
  return taps;
}

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
  if (ctx.flag("linear-reach")) {
    const taps = ctx.str("taps") ? parseTaps(ctx.str("taps")!) : undefined;
    const file = await studyLinearReach(study, taps, prov, {
      root: results,
      preferFixtures: isQuick(),
      progress: ctx.progress,
    });
    ctx.out(
      file.rows.map((r) =>
        `${r.cell.padEnd(8)} ${String(r.taps).padStart(4)} taps  ${r.meanGainDb >= 0 ? "+" : ""}${
          r.meanGainDb.toFixed(2)
        } dB  ${r.improved}/${r.images} improved`
      ).join("\n") +
        `\n(${linearReachPath(study.name, results)}; ${file.scoredColumns} columns scored)`,
    );
    return file;
  }
  if (!ctx.flag("join")) {
    const jobs = ctx.int("jobs", 1, 1, 64);
    const backend = backendArg(ctx);
    if (jobs > 1 && ctx.str("shard")) throw new UsageError("--jobs and --shard do not combine");
    if (jobs > 1) {
      await runInParallel(file, {
        jobs,
        backend,
        resultsRoot: results,
        runsRoot,
        quiet: ctx.quiet,
        progress: ctx.progress,
      });
    } else {
      const shard = ctx.str("shard") ? parseShard(ctx.str("shard")!) : { index: 1, count: 1 };
      const text = await backendFor(backend);
      ctx.progress(`study ${study.name}: ${shardRuns(all, shard).length} runs on ${text}`);
      await runShard(study, shard, {
        resultsRoot: results,
        runsRoot,
        provenance: prov,
        backend: text,
        progress: ctx.progress,
      });
      if (ctx.str("shard")) {
        return { study: study.name, shard: ctx.str("shard"), runs: shardRuns(all, shard).length };
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

if (import.meta.main) runCommand(STUDY_SPEC, main);
