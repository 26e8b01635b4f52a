/**
 * `deno task reproduce` without running notebooks: its collaborators (Jupyter setup, the
 * notebook runner, the data preparation) are injected (`reproduce(ctx, deps)`), so these
 * tests check in milliseconds that
 *
 * - a non-quick run calls the preparation step (photos, benchmarks) before the first
 *   notebook, and quick mode and --no-prepare do not;
 * - a notebook that recorded a degradation (lib/notebooks/degraded.ts) fails a non-quick run
 *   with one line naming the notebook and the substitute, passes with --allow-degraded, and
 *   never fails quick mode;
 * - a non-quick run records each notebook's seconds in results/reproduce.json, keeping the
 *   other notebooks' entries;
 * - the degradation file's parser keeps records, drops duplicates and reports a garbled line
 *   instead of dropping it, and `degraded()` appends to $SVRNN_DEGRADED.
 *
 * The end-to-end signal through a real kernel is in tests/notebooks_test.ts (runner test).
 */
import assert from "node:assert/strict";
import { parseCommandLine } from "../lib/cli/common.ts";
import {
  DEFAULT_DEPS,
  failureLines,
  recordTimings,
  reproduce,
  type ReproduceDeps,
  spec,
} from "../lib/cli/reproduce.ts";
import type { JupyterSetup, NotebookReport } from "../lib/notebooks/jupyter.ts";
import {
  degradations,
  degraded,
  DEGRADED_ENV,
  parseDegradations,
  readDegradations,
} from "../lib/notebooks/degraded.ts";
import { prepareNotebookData, type PrepareReport } from "../lib/notebooks/prepare.ts";
import { DEFAULT_QUICK_BENCHMARK } from "../lib/data/benchmark.ts";

const FAKE_SETUP: JupyterSetup = {
  python: "/fake/python",
  source: "system",
  jupyterPath: "/fake/.jupyter",
  kernelName: "svrnn-deno",
  env: {},
};

/** Deps that record the order of calls; `degradedIn` names notebooks that report one. */
function fakeDeps(degradedIn: string[] = []) {
  const calls: string[] = [];
  const deps: ReproduceDeps = {
    ensureJupyter: () => {
      calls.push("jupyter");
      return Promise.resolve(FAKE_SETUP);
    },
    prepare: (opts) => {
      calls.push("prepare");
      opts?.progress?.("prepare: (fake)");
      const r: PrepareReport = {
        photos: "present",
        benchmarks: [{ name: "synth-v2", status: "present" }],
        problems: [],
      };
      return Promise.resolve(r);
    },
    runNotebook: (_setup, input, opts) => {
      const name = input.replace(/^.*\//, "").replace(/\.ipynb$/, "");
      calls.push(`run ${name}${opts?.quick ? " quick" : ""}`);
      const report: NotebookReport = {
        ok: true,
        seconds: 0.1,
        cells: [{ index: 1, ok: true, outputs: 1, tags: [] }],
        failures: [],
        output: opts?.output ?? input,
        stderr: "",
        degraded: degradedIn.some((d) => name.startsWith(d))
          ? [{
            notebook: name,
            what: "benchmark synth-v2 (data/benchmarks/synth-v2)",
            instead: "synth-v2-quick images",
          }]
          : [],
      };
      return Promise.resolve(report);
    },
  };
  return { deps, calls };
}

/** Runs the command into a temporary folder; `timings` is its results/reproduce.json. */
async function run(args: string[], deps: ReproduceDeps) {
  const tmp = await Deno.makeTempDir({ prefix: "svrnn-reproduce-unit-" });
  try {
    const ctx = parseCommandLine(spec, [...args, "--out", tmp, "--quiet", "--json"]);
    const s = await reproduce(ctx, deps);
    let timings = null;
    try {
      timings = JSON.parse(await Deno.readTextFile(`${tmp}/results/reproduce.json`));
    } catch { /* not written */ }
    return Object.assign(s, { timings });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("reproduce: the default deps are the real ones", () => {
  assert.equal(typeof DEFAULT_DEPS.prepare, "function");
  assert.equal(typeof DEFAULT_DEPS.runNotebook, "function");
});

Deno.test("reproduce: a non-quick run prepares the data before the first notebook", async () => {
  const { deps, calls } = fakeDeps();
  const s = await run(["--only", "01", "--only", "03"], deps);
  assert.deepEqual(calls.slice(0, 2), ["jupyter", "prepare"]);
  assert.ok(calls.indexOf("prepare") < calls.findIndex((c) => c.startsWith("run ")));
  assert.deepEqual(calls.filter((c) => c.startsWith("run ")).length, 2);
  assert.equal(s.ok, true);
  assert.deepEqual(s.prepared?.benchmarks, [{ name: "synth-v2", status: "present" }]);
  assert.deepEqual(failureLines(s), []);
  // Timings: one entry per notebook run, with the machine in its provenance.
  const names = s.notebooks.map((n) => n.name);
  assert.deepEqual(Object.keys(s.timings.notebooks), names);
  assert.equal(s.timings.notebooks[names[0]].seconds, 0.1);
  assert.equal(typeof s.timings.notebooks[names[0]].provenance.machine.cores, "number");
});

Deno.test("reproduce: --quick and --no-prepare skip the preparation", async () => {
  for (const args of [["--quick"], ["--no-prepare"]]) {
    const { deps, calls } = fakeDeps();
    const s = await run([...args, "--only", "01"], deps);
    assert.ok(!calls.includes("prepare"), `${args}: ${calls}`);
    assert.equal(s.prepared, null);
    if (args[0] === "--quick") assert.equal(s.timings, null, "quick runs record no timings");
  }
});

Deno.test("reproduce: a degraded notebook fails a non-quick run with one line naming it", async () => {
  const { deps } = fakeDeps(["03"]);
  const s = await run(["--only", "01", "--only", "03"], deps);
  assert.equal(s.ok, false);
  const lines = failureLines(s);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /^03_training is degraded/);
  assert.match(lines[0], /benchmark synth-v2 \(data\/benchmarks\/synth-v2\) -> synth-v2-quick/);
  assert.equal(s.notebooks.find((n) => n.name.startsWith("01"))!.ok, true);

  const allowed = await run(["--only", "03", "--allow-degraded"], fakeDeps(["03"]).deps);
  assert.equal(allowed.ok, true);
  assert.equal(allowed.notebooks[0].degraded.length, 1, "still reported");

  const quick = await run(["--only", "03", "--quick"], fakeDeps(["03"]).deps);
  assert.equal(quick.ok, true, "quick mode may substitute");
  assert.equal(quick.notebooks[0].degraded.length, 1);
});

Deno.test("reproduce: a failed notebook's line names its first failure", async () => {
  const { deps } = fakeDeps();
  const failing: ReproduceDeps = {
    ...deps,
    runNotebook: async (...a) => ({
      ...(await deps.runNotebook(...a)),
      ok: false,
      failures: ["cell 4: Error: boom"],
    }),
  };
  const s = await run(["--only", "01"], failing);
  assert.deepEqual(failureLines(s), [`${s.notebooks[0].name} failed: cell 4: Error: boom`]);
});

Deno.test("degraded: parser keeps records, drops duplicates, reports garbled lines", () => {
  const a = { notebook: "02_x", what: "trained variant a", instead: "left out" };
  const text = [JSON.stringify(a), "", JSON.stringify(a), "{not json", '{"what": 1}'].join("\n");
  const list = parseDegradations(text);
  assert.equal(list.length, 3);
  assert.deepEqual(list[0], a);
  assert.match(list[1].what, /^unreadable degradation record/);
  assert.match(list[2].what, /^unreadable degradation record/);
  assert.deepEqual(parseDegradations(""), []);
});

Deno.test("degraded: appends one JSON line per distinct record to $SVRNN_DEGRADED", async () => {
  const file = await Deno.makeTempFile({ prefix: "svrnn-degraded-test-" });
  const before = Deno.env.get(DEGRADED_ENV);
  Deno.env.set(DEGRADED_ENV, file);
  try {
    degraded("shipped checkpoint x (results/checkpoints/x.safetensors)", "left out");
    degraded("shipped checkpoint x (results/checkpoints/x.safetensors)", "left out");
    degraded("benchmark y", "y-quick images");
    const back = await readDegradations(file);
    assert.deepEqual(back.map((d) => d.instead), ["left out", "y-quick images"]);
    assert.ok(degradations().length >= 2);
    assert.deepEqual(await readDegradations(`${file}.absent`), []);
  } finally {
    if (before === undefined) Deno.env.delete(DEGRADED_ENV);
    else Deno.env.set(DEGRADED_ENV, before);
    await Deno.remove(file);
  }
});

Deno.test("prepareNotebookData: renders a missing benchmark, then finds it present", async () => {
  const root = await Deno.makeTempDir({ prefix: "svrnn-prepare-test-" });
  try {
    const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
    await Deno.mkdir(`${root}/data`);
    await Deno.symlink(`${repo}/data/fixtures`, `${root}/data/fixtures`);
    const lines: string[] = [];
    const opts = {
      root,
      benchmarks: [DEFAULT_QUICK_BENCHMARK],
      progress: (l: string) => lines.push(l),
    };
    const first = await prepareNotebookData(opts);
    assert.deepEqual(first.problems, []);
    assert.deepEqual(first.benchmarks, [{
      name: DEFAULT_QUICK_BENCHMARK.name,
      status: "generated",
    }]);
    assert.ok(lines.some((l) => /rendering/.test(l)), lines.join("\n"));
    const again = await prepareNotebookData(opts);
    assert.deepEqual(again.benchmarks, [{ name: DEFAULT_QUICK_BENCHMARK.name, status: "present" }]);
    assert.equal(first.photos, "not needed", "the quick benchmark needs no photos");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("recordTimings: keeps the notebooks not run this time, totals the seconds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-timings-test-" });
  try {
    const path = `${dir}/reproduce.json`;
    const nb = (name: string, seconds: number) => ({
      name,
      ok: true,
      seconds,
      cells: 1,
      failures: [],
      degraded: [],
      output: "",
    });
    await recordTimings(path, [nb("02_b", 20), nb("01_a", 10)], "deno task reproduce");
    const after = await recordTimings(path, [nb("02_b", 30)], "deno task reproduce");
    assert.deepEqual(Object.keys(after), ["01_a", "02_b"]);
    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.totalSeconds, 40);
    assert.equal(file.notebooks["02_b"].seconds, 30);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
