/**
 * Every notebook under notebooks/ executes headlessly with the Deno kernel in quick mode,
 * through the same runner and Jupyter setup as `deno task reproduce` (installing Jupyter
 * from Debian's packages or into .venv when missing), with no cell erroring and every code
 * cell (not tagged no-output) showing output, and every output renderable where only PNG, SVG
 * and text are shown (tests/support/static_mime.ts). Skipped, with the reason, only when Jupyter
 * cannot be installed at all. Also: the runner's checks themselves (and the degradation
 * signal of lib/notebooks/degraded.ts through a real kernel), the committed notebooks carry
 * their outputs, and reproduce's argument errors.
 */
import assert from "node:assert/strict";
import {
  ensureJupyter,
  type JupyterSetup,
  JupyterSetupError,
  onlyOutputDropped,
  runNotebook,
} from "../lib/notebooks/jupyter.ts";
import { buildNotebook, parsePercent } from "../lib/notebooks/build.ts";
import { notebookStaticProblems } from "./support/static_mime.ts";
import { DISPLAY_COUNT, DISPLAY_SEQ_MIME } from "../lib/viz/show.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const NOTEBOOKS = `${root}/notebooks`;

const names: string[] = [];
for await (const e of Deno.readDir(NOTEBOOKS)) {
  if (e.isFile && e.name.endsWith(".ipynb")) names.push(e.name.replace(/\.ipynb$/, ""));
}
names.sort();

let setup: JupyterSetup | null = null;
let skipReason = "";
try {
  setup = await ensureJupyter({ root, progress: (m) => console.error(`notebooks_test: ${m}`) });
} catch (e) {
  if (!(e instanceof JupyterSetupError)) throw e;
  skipReason = e.message;
  console.error(`notebooks_test: SKIPPING notebook execution: ${skipReason}`);
}

for (const name of names) {
  Deno.test({
    name:
      `notebook ${name} executes in quick mode with output in every cell, all of it static-renderable${
        setup ? "" : ` (skipped: ${skipReason})`
      }`,
    ignore: setup === null,
    sanitizeResources: false,
    fn: async () => {
      const tmp = await Deno.makeTempDir({ prefix: "svrnn-nbtest-" });
      try {
        const run = () =>
          runNotebook(setup!, `${NOTEBOOKS}/${name}.ipynb`, {
            output: `${tmp}/${name}.ipynb`,
            quick: true,
            resultsDir: `${tmp}/results`,
            timeout: 300,
          });
        let report = await run();
        // The Deno kernel can drop a display sent soon after it starts
        // (docs/platform.md#the-output-race):
        // when the only failures are missing outputs, run once more. A cell that never shows
        // output fails both times.
        if (!report.ok && report.failures.every((f) => /shows no output/.test(f))) {
          console.error(`${name}: ${report.failures.join("; ")}; running it once more`);
          report = await run();
        }
        assert.ok(report.ok, `${name} failed: ${report.failures.join("; ")}\n${report.stderr}`);
        assert.ok(report.cells.length > 0);
        for (const c of report.cells) {
          assert.ok(c.ok, `cell ${c.index}: ${c.error}`);
          if (!c.tags.includes("no-output")) assert.ok(c.outputs > 0, `cell ${c.index} has output`);
        }
        // The executed copy has outputs; the results went to the temporary folder.
        const nb = JSON.parse(await Deno.readTextFile(`${tmp}/${name}.ipynb`));
        assert.ok(nb.cells.some((c: { outputs?: unknown[] }) => (c.outputs ?? []).length > 0));
        // Every display renders where only PNG, SVG and text are shown (GitHub's notebook
        // view): the rule of tests/support/static_mime.ts, also tested in static_mime_test.
        const problems = notebookStaticProblems(nb);
        assert.deepEqual(problems, [], `${name}: outputs without a static rendering`);
        const figures = [...Deno.readDirSync(`${tmp}/results/figures`)].map((e) => e.name);
        assert.ok(figures.some((f) => f.endsWith(".svg")), "figures written to SVRNN_RESULTS");
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: `runner: flags a failing cell and a cell without output, accepts no-output tags${
    setup ? "" : ` (skipped: ${skipReason})`
  }`,
  ignore: setup === null,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "svrnn-nbtest-" });
    try {
      const write = (name: string, src: string) =>
        Deno.writeTextFile(
          `${tmp}/${name}.ipynb`,
          JSON.stringify(buildNotebook(name, parsePercent(src))),
        );
      await write(
        "good",
        [
          "// %%",
          // Right after the kernel starts, the Deno kernel can report idle before a display
          // reaches IOPub, and nbclient drops it; the kit's notebooks spend seconds importing
          // before their first display. Let this one do the same.
          "await new Promise((r) => setTimeout(r, 300));",
          'await Deno.jupyter.display({ "text/plain": "shown" }, { raw: true });',
          '// %% tags=["no-output"]',
          "const quiet = 1;",
          "// %%",
          // A display, not console.log: streamed output can also arrive after idle under load.
          'await Deno.jupyter.display({ "text/plain": String(quiet + 1) }, { raw: true });',
        ].join("\n"),
      );
      await write("silent", "// %%\nconst a = 1;\n// %%\nconsole.log(a);");
      // The degradation signal (lib/notebooks/degraded.ts) end to end: recorded in the
      // kernel, read back by the runner; the notebook itself still passes.
      await write(
        "thin",
        [
          "// %%",
          `const { degraded } = await import(${
            JSON.stringify(new URL("../lib/notebooks/degraded.ts", import.meta.url).href)
          });`,
          'degraded("benchmark synth-v2 (data/benchmarks/synth-v2)", "synth-v2-quick images");',
          'await Deno.jupyter.display({ "text/plain": "substituted" }, { raw: true });',
        ].join("\n"),
      );
      await write("boom", '// %%\nconsole.log(1);\n// %%\nthrow new Error("boom");\n// %%\n1;');
      // A display the kernel dropped, as the runner's count sees it: the helpers' counter
      // (lib/viz/show.ts) says two were sent, one arrived.
      await write(
        "dropped",
        [
          "// %%",
          "await new Promise((r) => setTimeout(r, 300));",
          `(globalThis as Record<string, unknown>).${DISPLAY_COUNT} = 2;`,
          `await Deno.jupyter.display({ "text/plain": "second", "${DISPLAY_SEQ_MIME}": "2" }, ` +
          "{ raw: true });",
        ].join("\n"),
      );
      // One retry: under load the Deno kernel can still lose a display sent soon after it
      // starts (docs/platform.md#the-output-race); what is tested here is the runner's verdicts.
      let good = await runNotebook(setup!, `${tmp}/good.ipynb`, { quick: true });
      if (onlyOutputDropped(good)) {
        good = await runNotebook(setup!, `${tmp}/good.ipynb`, { quick: true });
      }
      assert.ok(good.ok, good.failures.join("; "));
      assert.deepEqual(good.cells.map((c) => c.outputs), [1, 0, 1]);
      const silent = await runNotebook(setup!, `${tmp}/silent.ipynb`, { quick: true });
      assert.equal(silent.ok, false);
      assert.match(silent.failures.join(), /cell 0: shows no output/);
      assert.ok(onlyOutputDropped(silent), "a missing output is worth one more run");
      const boom = await runNotebook(setup!, `${tmp}/boom.ipynb`, { quick: true });
      assert.equal(boom.ok, false);
      assert.match(boom.failures.join(), /cell 1: Error: boom/);
      assert.equal(boom.cells[2].error, "not executed");
      assert.ok(!onlyOutputDropped(boom), "an error is not retried");
      assert.ok(!onlyOutputDropped(good));
      assert.deepEqual(good.degraded, []);
      let thin = await runNotebook(setup!, `${tmp}/thin.ipynb`, { quick: true });
      if (onlyOutputDropped(thin)) {
        thin = await runNotebook(setup!, `${tmp}/thin.ipynb`, { quick: true });
      }
      assert.ok(thin.ok, thin.failures.join("; "));
      assert.deepEqual(thin.degraded, [{
        notebook: "thin",
        what: "benchmark synth-v2 (data/benchmarks/synth-v2)",
        instead: "synth-v2-quick images",
      }]);
      let dropped = await runNotebook(setup!, `${tmp}/dropped.ipynb`, { quick: true });
      if (dropped.failures.some((f) => /shows no output/.test(f))) {
        dropped = await runNotebook(setup!, `${tmp}/dropped.ipynb`, { quick: true });
      }
      assert.deepEqual(dropped.failures, ["outputs dropped: 2 displays sent, 1 received"]);
      assert.ok(onlyOutputDropped(dropped), "a dropped display is worth one more run");
      const kept = JSON.parse(await Deno.readTextFile(`${tmp}/dropped.ipynb`));
      assert.equal(kept.cells.length, 1, "the counting cell is not saved");
      assert.deepEqual(Object.keys(kept.cells[0].outputs[0].data), ["text/plain"]);
      // The failed notebook is saved with the outputs it got.
      const saved = JSON.parse(await Deno.readTextFile(`${tmp}/boom.ipynb`));
      assert.equal(saved.cells[1].outputs[0].output_type, "error");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("committed notebooks: Deno kernel, executed, every code cell shows output, all of it static-renderable", async () => {
  assert.ok(names.length > 0, "no notebooks");
  for (const name of names) {
    const nb = JSON.parse(await Deno.readTextFile(`${NOTEBOOKS}/${name}.ipynb`));
    assert.equal(nb.metadata.kernelspec.name, "svrnn-deno", name);
    assert.equal(nb.metadata.kernelspec.language, "typescript", name);
    assert.equal(nb.cells[0].cell_type, "markdown", `${name} opens with its question`);
    for (const [i, c] of nb.cells.entries()) {
      if (c.cell_type !== "code" || (c.metadata?.tags ?? []).includes("no-output")) continue;
      assert.ok(c.outputs.length > 0, `${name} cell ${i} has no stored output`);
      for (const o of c.outputs) assert.notEqual(o.output_type, "error", `${name} cell ${i}`);
    }
    // What GitHub's notebook view (PNG, SVG and text only) shows: every figure and image.
    assert.deepEqual(notebookStaticProblems(nb), [], `${name}: outputs without a static rendering`);
  }
});

Deno.test("committed notebooks hold exactly the cells of their sources (lib/notebooks/sources)", async () => {
  const text = (src: string | string[]) => Array.isArray(src) ? src.join("") : src;
  const cells = (nb: { cells: { cell_type: string; source: string | string[] }[] }) =>
    nb.cells.map((c) => ({ type: c.cell_type, source: text(c.source) }));
  for (const name of names) {
    const src = await Deno.readTextFile(`${root}/lib/notebooks/sources/${name}.ts`);
    const built = buildNotebook(name, parsePercent(src)) as Parameters<typeof cells>[0];
    const committed = JSON.parse(await Deno.readTextFile(`${NOTEBOOKS}/${name}.ipynb`));
    assert.deepEqual(
      cells(committed),
      cells(built),
      `${name}.ipynb differs from its source: deno run -A lib/notebooks/build.ts ${name} --force, ` +
        `then deno task reproduce --only ${name}`,
    );
  }
});

Deno.test("notebook sources: markdown holds no escaped backticks", async () => {
  // A markdown cell is a comment in the source, not a template string: \` there renders as a
  // literal backtick instead of starting inline code.
  for (const name of names) {
    const src = await Deno.readTextFile(`${root}/lib/notebooks/sources/${name}.ts`);
    for (const cell of parsePercent(src)) {
      if (!("md" in cell)) continue;
      const bad = cell.md.split("\n").find((l) => l.includes("\\`"));
      assert.equal(bad, undefined, `${name}: escaped backtick in markdown: ${bad}`);
    }
  }
});

async function reproduce(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}/lib/cli/reproduce.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("reproduce: --help, and bad arguments are one line and exit code 2", async () => {
  const help = await reproduce(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: deno task reproduce/);
  for (
    const [args, msg] of [
      [["--only", "zz_nothing"], /--only zz_nothing matches no notebook/],
      [["--quick", "--full"], /exclude each other/],
      [["--timeout", "soon"], /--timeout must be an integer/],
      [["--bogus"], /bogus/],
    ] as const
  ) {
    const r = await reproduce([...args]);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^reproduce: error: /);
    assert.match(r.stderr, msg);
  }
});

Deno.test({
  name: `reproduce --quick --json runs the notebooks into a temporary folder${
    setup ? "" : ` (skipped: ${skipReason})`
  }`,
  ignore: setup === null,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "svrnn-reproduce-test-" });
    try {
      const r = await reproduce(["--quick", "--json", "--only", names[0], "--out", tmp]);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.equal(s.ok, true);
      assert.equal(s.quick, true);
      assert.equal(s.notebooks.length, 1);
      assert.equal(s.resultsDir, `${tmp}/results`);
      assert.ok(s.figures.length > 0 && s.figures.every((f: string) => f.startsWith("results/")));
      await Deno.stat(`${tmp}/notebooks/${names[0]}.ipynb`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
