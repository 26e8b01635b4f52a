/**
 * `deno task reproduce`: executes every notebook in notebooks/ in order, headlessly, with
 * Jupyter and the Deno kernel, stores each with its outputs, and so regenerates
 * results/figures and results/tables (the notebooks write them). Sets up Jupyter and the
 * project-local kernelspec on first run (lib/notebooks/jupyter.ts).
 *
 * Outside quick mode it first makes the data the notebooks read (the real-photo set and the
 * benchmarks, lib/notebooks/prepare.ts), and a notebook that still had to substitute or
 * leave something out (`degraded()`, lib/notebooks/degraded.ts) fails the run, naming what
 * (unless --allow-degraded). `reproduce(ctx, deps)` is the command with its collaborators
 * injectable (tests/reproduce_test.ts).
 */
import { type CommandSpec, type Context, runCommand, toJson, UsageError } from "./common.ts";
import { repoRoot } from "../records/paths.ts";
import {
  ensureJupyter,
  JupyterSetupError,
  type NotebookReport,
  onlyOutputDropped,
  runNotebook,
} from "../notebooks/jupyter.ts";
import { type Degradation, describeDegradations } from "../notebooks/degraded.ts";
import { prepareNotebookData, type PrepareReport } from "../notebooks/prepare.ts";
import { InputError } from "../data/errors.ts";
import { provenance, writeJsonAtomic } from "../records/provenance.ts";

export const spec: CommandSpec = {
  name: "reproduce",
  summary:
    "Execute every notebook (notebooks/*.ipynb, in order) with the Deno Jupyter kernel, store them " +
    "with outputs and regenerate results/figures and results/tables.",
  usage: "",
  positionals: { max: 0 },
  options: {
    only: {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description:
        "run only notebooks whose name starts with NAME (e.g. 01 or 01_iir_derivation); repeatable",
    },
    full: {
      type: "boolean",
      description: "retrain everything instead of using shipped models and stored results (slow)",
    },
    quick: {
      type: "boolean",
      description: "quick mode (seconds per notebook, fixtures only); writes to a temporary folder",
    },
    out: {
      type: "string",
      valueName: "DIR",
      description:
        "write executed notebooks to DIR/notebooks and results to DIR/results (default: in place; " +
        "with --quick: a new temporary folder)",
    },
    timeout: {
      type: "string",
      valueName: "SECONDS",
      default: "1800",
      description: "time limit per cell",
    },
    "no-install": {
      type: "boolean",
      description: "fail instead of installing Jupyter when it is missing",
    },
    "no-prepare": {
      type: "boolean",
      description: "do not fetch the photo set or render the benchmarks first",
    },
    "allow-degraded": {
      type: "boolean",
      description: "report notebooks that substituted missing data or results, but do not fail",
    },
  },
  details: `Jupyter comes from the project's .venv, the system python3, or is installed on first run
(Debian packages via apt-get, else pip into .venv). The kernelspec svrnn-deno is written to
.jupyter/ (git-ignored) and points at the deno running this command.

Before the notebooks run (not with --quick or --no-prepare), the data they read is made
if missing, as \`deno task data\` and \`deno task data benchmark\` would: the real-photo set
data/photos (apt-get download, about a minute) and the benchmark synth-v2 (minutes).

A notebook fails when a cell raises or a code cell shows no output (cells tagged no-output
excepted). One that fails only for missing output is run once more: the Deno kernel can drop
a cell's output. Outside quick mode a notebook also fails as DEGRADED when it had to
substitute something missing (a checkpoint, a benchmark, a results file) or leave it out;
the error line names the notebook and the substitute. The executed notebook is saved
either way. Exit code 1 if any notebook failed.

examples:
  deno task reproduce                 # all notebooks, in place
  deno task reproduce --only 01       # notebooks/01_*.ipynb only
  deno task reproduce --quick --json  # smoke test into a temporary folder`,
};

export interface Summary {
  ok: boolean;
  quick: boolean;
  full: boolean;
  jupyter: { python: string; source: string; kernel: string };
  /** What the preparation step found or made; null with --quick or --no-prepare. */
  prepared: PrepareReport | null;
  notebooksDir: string;
  resultsDir: string;
  notebooks: {
    name: string;
    /** False when it failed, or (outside quick mode, without --allow-degraded) degraded. */
    ok: boolean;
    seconds: number;
    cells: number;
    failures: string[];
    /** What it substituted or left out (lib/notebooks/degraded.ts). */
    degraded: Degradation[];
    output: string;
  }[];
  figures: string[];
  tables: string[];
  seconds: number;
}

/** The command's collaborators, replaceable in tests. */
export interface ReproduceDeps {
  ensureJupyter: typeof ensureJupyter;
  runNotebook: typeof runNotebook;
  prepare: typeof prepareNotebookData;
}

export const DEFAULT_DEPS: ReproduceDeps = {
  ensureJupyter,
  runNotebook,
  prepare: prepareNotebookData,
};

/**
 * The lines `reproduce` ends with when something failed: one per failed notebook
 * ("NAME failed: cell 3: Error: ..."), one per degraded notebook ("NAME is degraded:
 * WHAT -> INSTEAD; ..."), each on its own line; empty when all is well.
 */
export function failureLines(summary: Summary): string[] {
  return summary.notebooks.filter((r) => !r.ok).map((r) =>
    r.failures.length
      ? `${r.name} failed: ${r.failures[0]}`
      : `${r.name} is degraded (a substitute for missing inputs; --allow-degraded accepts it): ${
        describeDegradations(r.degraded)
      }`
  );
}

/** One notebook's line in results/reproduce.json. */
export interface NotebookTiming {
  seconds: number;
  ok: boolean;
  degraded: number;
  provenance: Awaited<ReturnType<typeof provenance>>;
}

/**
 * Records how long each notebook took (non-quick runs): `<results>/reproduce.json` maps
 * each notebook to its last run's seconds, verdict and provenance (machine, commit, date),
 * keeping the entries of notebooks not run this time, so the file always covers the latest
 * run of every notebook (a timings file: it differs from run to run).
 */
export async function recordTimings(
  path: string,
  reports: Summary["notebooks"],
  command: string,
): Promise<Record<string, NotebookTiming>> {
  let all: Record<string, NotebookTiming> = {};
  try {
    all = JSON.parse(await Deno.readTextFile(path)).notebooks ?? {};
  } catch { /* first run, or unreadable: start afresh */ }
  const prov = await provenance(command);
  for (const r of reports) {
    all[r.name] = { seconds: r.seconds, ok: r.ok, degraded: r.degraded.length, provenance: prov };
  }
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1)));
  const total = Object.values(sorted).reduce((t, n) => t + n.seconds, 0);
  await writeJsonAtomic(path, {
    about: "seconds per notebook of the latest non-quick deno task reproduce of each " +
      "(lib/cli/reproduce.ts); machine in each provenance",
    totalSeconds: Math.round(total * 10) / 10,
    notebooks: sorted,
  });
  return sorted;
}

async function listNotebooks(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".ipynb") && !e.name.startsWith(".")) names.push(e.name);
    }
  } catch {
    throw new InputError(`no notebooks folder at ${dir}`);
  }
  return names.sort().map((n) => n.replace(/\.ipynb$/, ""));
}

/** Files under `dir` modified at or after `since` (ms), as paths relative to `base`. */
async function newerFiles(dir: string, since: number, base: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || e.name.startsWith(".") || e.name === "plotly.min.js") continue;
      const st = await Deno.stat(`${dir}/${e.name}`);
      if ((st.mtime?.getTime() ?? 0) >= since - 1000) {
        out.push(`${dir}/${e.name}`.replace(`${base}/`, ""));
      }
    }
  } catch { /* folder not written */ }
  return out.sort();
}

/** The command: runs the notebooks and returns the summary (it does not exit). */
export async function reproduce(
  ctx: Context,
  deps: ReproduceDeps = DEFAULT_DEPS,
): Promise<Summary> {
  const started = Date.now();
  const quick = ctx.flag("quick"), full = ctx.flag("full");
  if (quick && full) throw new UsageError("--quick and --full exclude each other");
  const timeout = ctx.int("timeout", 1800, 1, 7 * 24 * 3600);
  const allowDegraded = quick || ctx.flag("allow-degraded");
  const root = repoRoot();
  const notebooksDir = `${root}/notebooks`;
  const all = await listNotebooks(notebooksDir);
  const only = (ctx.values.only as string[] | undefined) ?? [];
  const selected = only.length ? all.filter((n) => only.some((o) => n.startsWith(o))) : all;
  if (only.length) {
    const unmatched = only.filter((o) => !all.some((n) => n.startsWith(o)));
    if (unmatched.length) {
      throw new UsageError(
        `--only ${unmatched[0]} matches no notebook in notebooks/ (have: ${
          all.join(", ") || "none"
        })`,
      );
    }
  }
  if (selected.length === 0) throw new InputError(`no notebooks in ${notebooksDir}`);

  let out = ctx.str("out");
  if (out === "") throw new UsageError("--out needs a folder");
  if (!out && quick) out = await Deno.makeTempDir({ prefix: "svrnn-reproduce-quick-" });
  if (out) out = out.startsWith("/") ? out : `${Deno.cwd()}/${out}`;
  const outNotebooks = out ? `${out}/notebooks` : notebooksDir;
  const resultsDir = out ? `${out}/results` : `${root}/results`;
  await Deno.mkdir(outNotebooks, { recursive: true });

  ctx.progress(`reproduce: setting up Jupyter and the svrnn-deno kernel`);
  let setup;
  try {
    setup = await deps.ensureJupyter({
      install: !ctx.flag("no-install"),
      progress: ctx.progress,
      root,
    });
  } catch (e) {
    if (e instanceof JupyterSetupError) throw new InputError(e.message);
    throw e;
  }

  // The data the notebooks read: made here, so that a fresh clone's notebooks need no
  // substitutes (quick mode runs on the fixtures by design).
  let prepared: PrepareReport | null = null;
  if (!quick && !ctx.flag("no-prepare")) {
    ctx.progress("reproduce: preparing the data the notebooks read (photos, benchmarks)");
    prepared = await deps.prepare({ root, progress: ctx.progress });
    for (const p of prepared.problems) ctx.warn(p);
  }

  ctx.progress(
    `reproduce: Jupyter from ${setup.source} (${setup.python}); ${selected.length} notebook(s)${
      quick ? ", quick mode" : full ? ", full retraining" : ""
    }; results -> ${resultsDir}`,
  );

  const reports: Summary["notebooks"] = [];
  for (const [i, name] of selected.entries()) {
    ctx.progress(`[${i + 1}/${selected.length}] ${name} ...`);
    const output = `${outNotebooks}/${name}.ipynb`;
    const runOnce = () =>
      deps.runNotebook(setup, `${notebooksDir}/${name}.ipynb`, {
        output,
        quick,
        full,
        resultsDir,
        timeout,
      });
    let rep: NotebookReport = await runOnce();
    if (onlyOutputDropped(rep)) {
      ctx.progress(
        `[${i + 1}/${selected.length}] ${name}: ${rep.failures.join("; ")}; ` +
          "running it once more (the kernel can drop a cell's output)",
      );
      rep = await runOnce();
    }
    const degraded = rep.degraded ?? [];
    const ok = rep.ok && (allowDegraded || degraded.length === 0);
    reports.push({
      name,
      ok,
      seconds: rep.seconds,
      cells: rep.cells.length,
      failures: rep.failures,
      degraded,
      output,
    });
    const status = !rep.ok
      ? "FAILED"
      : !degraded.length
      ? "ok"
      : allowDegraded
      ? "ok with substitutes"
      : "DEGRADED";
    ctx.progress(
      `[${i + 1}/${selected.length}] ${name}: ${status} (${
        rep.seconds.toFixed(1)
      } s, ${rep.cells.length} code cells)${rep.ok ? "" : `: ${rep.failures.join("; ")}`}${
        degraded.length ? `; substituted: ${describeDegradations(degraded)}` : ""
      }`,
    );
    if (!rep.ok && ctx.debug && rep.stderr) console.error(rep.stderr);
  }

  if (!quick) {
    await recordTimings(
      `${resultsDir}/reproduce.json`,
      reports,
      `deno task reproduce${full ? " --full" : ""}`,
    );
  }
  const summary: Summary = {
    ok: reports.every((r) => r.ok),
    quick,
    full,
    jupyter: { python: setup.python, source: setup.source, kernel: setup.kernelName },
    prepared,
    notebooksDir: outNotebooks,
    resultsDir,
    notebooks: reports,
    figures: await newerFiles(`${resultsDir}/figures`, started, out ?? root),
    tables: await newerFiles(`${resultsDir}/tables`, started, out ?? root),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  const failed = reports.filter((r) => !r.ok);
  const w = Math.max(...reports.map((r) => r.name.length));
  const verdict = (r: Summary["notebooks"][number]) =>
    r.failures.length ? "FAILED  " : !r.ok ? "DEGRADED" : "ok      ";
  ctx.out(
    [
      `${
        summary.ok ? "all notebooks ran" : `${failed.length} notebook(s) failed`
      } in ${summary.seconds} s:`,
      ...reports.map((r) =>
        `  ${r.name.padEnd(w)}  ${verdict(r)}  ${
          r.seconds.toFixed(1).padStart(6)
        } s  ${r.cells} cells${
          r.failures.length
            ? `  ${r.failures[0]}`
            : r.degraded.length
            ? `  ${describeDegradations(r.degraded)}`
            : ""
        }`
      ),
      `notebooks: ${outNotebooks}`,
      `results:   ${resultsDir} (${summary.figures.length} figure files, ${summary.tables.length} table files written)`,
    ].join("\n"),
  );
  return summary;
}

if (import.meta.main) {
  runCommand(spec, async (ctx) => {
    const summary = await reproduce(ctx);
    const lines = failureLines(summary);
    if (lines.length) {
      if (ctx.json) console.log(toJson(summary));
      for (const l of lines) console.error(`reproduce: error: ${l}`);
      Deno.exit(1);
    }
    return summary;
  });
}
