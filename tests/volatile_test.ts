/**
 * lib/records/volatile.ts: two runs of `deno task reproduce` that differ only in timings and
 * provenance compare equal, and a real change (a PSNR cell, a trace value, a notebook's
 * Markdown output, a loss in a progress line) is reported. The files come from the kit's
 * own writers (writeTable, writeFigure, the notebook display bundles) with provenance and
 * timings as two runs of notebooks 01 and 03 wrote them; then lib/cli/reproduce_check.ts on
 * two such folders (exit code 0, then 1).
 */
import assert from "node:assert/strict";
import {
  compareTexts,
  firstJsonDifference,
  isTimingColumn,
  isTimingFigure,
  normalise,
  normaliseTimingText,
} from "../lib/records/volatile.ts";
import { writeFigure, writeTable } from "../lib/viz/write.ts";
import { figureBundle, markdownBundle, tableBundle } from "../lib/viz/show.ts";
import type { Figure } from "../lib/viz/figure.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** What a second run on another day, machine load and core count changes in provenance. */
function secondRun(text: string): string {
  return text
    .replace(/\b[0-9a-f]{40}\b/g, "5f82f30830a187d5e45c276390e47861b3c6cf1e")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z/g, "2026-12-03T19:27:37.064Z")
    .replace(/"dirty": ?(true|false)/g, '"dirty":true')
    .replace(
      /( \(uncommitted changes\))?, (\d{4}-\d{2}-\d{2}T)/g,
      (_m, dirty, d) => `${dirty ? "" : " (uncommitted changes)"}, ${d}`,
    )
    .replace(/\(\d+ cores\)/g, "(7 cores)")
    .replace(/"cores": ?\d+/g, '"cores":7');
}

function verdict(path: string, a: string, b: string, timingFigure = false): string {
  const c = compareTexts(path, a, b, { timingFigure });
  return c.verdict === "changed" ? `changed: ${c.detail}` : c.verdict;
}

Deno.test("volatile: timing columns by name, not every number", () => {
  for (
    const c of [
      "time (s)",
      "train (min)",
      "train (s)",
      "wall time (min)",
      "ms/image",
      "warm ms",
      "s / 1280x720",
      "s / 1280x720 image",
      "median patches/s",
      "seconds per image (log scale)",
    ]
  ) assert.ok(isTimingColumn(c), c);
  for (
    const c of [
      "PSNR",
      "gain (dB)",
      "steps",
      "patches",
      "params",
      "r50 (px)",
      "images",
      "size (MB)",
      "final loss (avg of 10)",
      "runs",
      "model",
    ]
  ) assert.ok(!isTimingColumn(c), c);
  // Prose from notebook 03's output, as two runs wrote it.
  const a = "Trained 150 steps (600 patches) in 132.3 s (4.5 patches/s on wasm (SIMD, 1 thread))";
  const b = "Trained 150 steps (600 patches) in 153.7 s (3.9 patches/s on wasm (SIMD, 1 thread))";
  assert.equal(normaliseTimingText(a), normaliseTimingText(b));
  assert.match(normaliseTimingText(a), /150 steps \(600 patches\) in <time> s/);
  assert.notEqual(
    normaliseTimingText(a),
    normaliseTimingText(a.replace("150 steps", "151 steps")),
  );
  // Notebook 04's interactive cell lists its runs' minutes with one unit.
  const c = "4 runs of 200 steps (training 1.3, 1.3, 1.4, 1.5 min per run, native)";
  assert.equal(
    normaliseTimingText(c),
    normaliseTimingText(c.replace("1.3, 1.3, 1.4, 1.5", "1.4, 1.3, 1.5, 1.2")),
  );
  assert.match(normaliseTimingText(c), /4 runs of 200 steps \(training <time> min per run/);
});

Deno.test("volatile: tables from writeTable: provenance and time (s) ignored, PSNR reported", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    // notebook 06's summary row (results/tables/06_summary.json), timed twice
    const row = (time: number, psnr: string) => ({
      image: "data/fixtures/clock_motion.png",
      model: "svrnn-small (shipped)",
      backend: "wasm (SIMD, 1 thread)",
      "time (s)": time,
      "PSNR in / out": psnr,
      "warm ms": time * 800,
    });
    const written = [
      await writeTable("06_summary", [row(1.051609084, "24.88 / 25.49")], { dir: dirs[0] }),
      await writeTable("06_summary", [row(1.3128, "24.88 / 25.49")], { dir: dirs[1] }),
      await writeTable("06_summary", [row(1.051609084, "24.88 / 25.50")], { dir: dirs[2] }),
    ];
    const read = (i: number, k: "md" | "json") => Deno.readTextFileSync(written[i][k]);
    for (const k of ["md", "json"] as const) {
      const path = `results/tables/06_summary.${k}`;
      assert.equal(verdict(path, read(0, k), secondRun(read(1, k))), "volatile", k);
      const real = verdict(path, read(0, k), secondRun(read(2, k)));
      assert.match(real, /^changed: .*25\.49.*25\.5/, k);
    }
    // the Markdown's first line holds the provenance, and is all that differs from a rerun
    const md = read(0, "md");
    assert.match(md.split("\n")[0], /^<!-- 06_summary: .*commit [0-9a-f]+.*Z -->$/);
    assert.ok(normalise("results/tables/06_summary.md", md).includes("| <time> |"));
    // a PSNR column of notebook 03's live evaluation, one digit changed
    const live = [
      "<!-- 03_live_eval: written by lib/viz/write.ts from notebooks/03_training.ipynb; " +
      "regenerate: deno task reproduce --only 03_training; commit " +
      "73a61222f5e40c07d552d41bc117ce5592b827cb (uncommitted changes), 2026-12-03T18:51:53.036Z -->",
      "**Live svrnn-small after 150 steps, on the test split of synth-v2-quick**",
      "",
      "| image | input PSNR | output PSNR | gain (dB) | input SSIM | output SSIM |",
      "|---|---:|---:|---:|---:|---:|",
      "| astronaut/000000.png | 24.88 | 25.49 | 0.609 | 0.8419 | 0.8342 |",
      "",
    ].join("\n");
    const path = "results/tables/03_live_eval.md";
    assert.equal(verdict(path, live, secondRun(live)), "volatile");
    assert.match(verdict(path, live, live.replace("25.49", "25.48")), /^changed: line 6: /);
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});

const kernels: Figure = {
  data: [
    { type: "scatter", name: "box, 5 taps", x: [0, 1, 2, 3, 4], y: [0.2, 0.2, 0.2, 0.2, 0.2] },
    { type: "scatter", name: "3 taps", x: [0, 1, 2], y: [0.208333, 0.513889, 0.277778] },
  ],
  layout: { xaxis: { title: { text: "tap m" } }, yaxis: { title: { text: "k[m]" } } },
};

/** Notebook 05's PSNR against time: its x coordinates are timings. */
function psnrVsTime(seconds: number[], psnr: number[]): Figure {
  return {
    data: [
      { type: "scatter", name: "reported", x: [1.4, 3.1], y: [29.19, 28.49], mode: "markers" },
      { type: "scatter", name: "measured here", x: seconds, y: psnr, mode: "markers" },
    ],
    layout: {
      xaxis: { title: { text: "seconds per image (log scale)" }, type: "log" },
      yaxis: { title: { text: "PSNR (dB)" } },
      title: { text: "PSNR against time per 1280x720 image" },
    },
  };
}

Deno.test("volatile: figures from writeFigure: provenance ignored, a trace value reported", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const changed: Figure = structuredClone(kernels);
    (changed.data[1].y as number[])[1] = 0.45;
    const figs = [kernels, kernels, changed];
    const written = await Promise.all(
      figs.map((f, i) => writeFigure(f, "01_kernels", { dir: dirs[i] })),
    );
    for (const k of ["json", "svg", "html"] as const) {
      const read = (i: number) => Deno.readTextFileSync(written[i][k]);
      const path = `results/figures/01_kernels.${k}`;
      assert.notEqual(read(0), secondRun(read(1)), k);
      assert.equal(verdict(path, read(0), secondRun(read(1))), "volatile", k);
      assert.match(verdict(path, read(0), secondRun(read(2))), /^changed: /, k);
    }
    const json = Deno.readTextFileSync(written[0].json);
    assert.equal(isTimingFigure(json), false);
    assert.match(
      compareTexts("results/figures/01_kernels.json", json, Deno.readTextFileSync(written[2].json))
        .detail!,
      /^figure\.data\[1\]\.y\[1\]: 0\.513889 -> 0\.45$/,
    );
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("volatile: a figure with a time axis: its times ignored, its PSNRs reported", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const figs = [
      psnrVsTime([11.2738, 9.88938], [25.837, 25.9129]),
      psnrVsTime([12.0301, 10.2254], [25.837, 25.9129]),
      psnrVsTime([11.2738, 9.88938], [25.837, 25.9130]),
    ];
    const written = await Promise.all(
      figs.map((f, i) => writeFigure(f, "05_psnr_vs_time", { dir: dirs[i] })),
    );
    const json = (i: number) => Deno.readTextFileSync(written[i].json);
    assert.ok(isTimingFigure(json(0)));
    const p = "results/figures/05_psnr_vs_time";
    assert.equal(verdict(`${p}.json`, json(0), json(1)), "volatile");
    assert.match(
      verdict(`${p}.json`, json(0), json(2)),
      /figure\.data\[1\]\.y\[1\]: 25\.9129 -> 25\.913/,
    );
    // the SVG draws the times: ignored only when its JSON is known to be a timing figure
    const svg = (i: number) => Deno.readTextFileSync(written[i].svg);
    assert.match(verdict(`${p}.svg`, svg(0), svg(1)), /^changed: /);
    assert.equal(verdict(`${p}.svg`, svg(0), svg(1), true), "volatile");
    // the HTML page embeds the figure: it tells by itself, and still sees the PSNRs
    const html = (i: number) => Deno.readTextFileSync(written[i].html);
    assert.equal(verdict(`${p}.html`, html(0), html(1)), "volatile");
    assert.match(verdict(`${p}.html`, html(0), html(2)), /^changed: /);
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});

/** A notebook as nbclient saves it, with outputs of notebook 03 (progress, prose, table, figure). */
function notebook(opts: {
  progress: [number, number][];
  trained: string;
  loss?: string;
  psnr?: number;
  seconds?: number;
  chunked?: boolean;
  version?: string;
  answer?: string;
}): string {
  const lines = opts.progress.map(([rate, s], i) =>
    `[##....] step ${8 * (i + 1)}/150  loss ${i === 0 ? opts.loss ?? "17.38" : "11.38"}  ` +
    `${rate} patches/s  ${s} s\n`
  );
  const streams = opts.chunked
    ? lines.map((t) => ({ output_type: "stream", name: "stdout", text: [t, "\n"] }))
    : [{ output_type: "stream", name: "stdout", text: lines.flatMap((t) => [t, "\n"]) }];
  const split = (s: string) => s.split(/(?<=\n)/);
  const bundle = (b: Record<string, unknown>) => ({
    output_type: "display_data",
    metadata: {},
    data: Object.fromEntries(
      Object.entries(b).map(([k, v]) => [k, typeof v === "string" ? split(v) : v]),
    ),
  });
  const table = tableBundle([
    {
      image: "astronaut/000000.png",
      "output PSNR": opts.psnr ?? 25.49,
      "time (s)": opts.seconds ?? 1.05,
    },
  ], { title: "Live svrnn-small after 150 steps" });
  const cells = [
    { cell_type: "markdown", metadata: {}, source: ["# 03 · Training\n"] },
    {
      cell_type: "code",
      execution_count: 1,
      metadata: {},
      source: ["const live = await liveTraining();"],
      outputs: [...streams, bundle(markdownBundle(opts.trained))],
    },
    {
      cell_type: "code",
      execution_count: 2,
      metadata: {},
      source: ["await showTable(rows);"],
      outputs: [bundle(table), bundle(figureBundle(psnrVsTime([opts.seconds ?? 1.05], [25.49])))],
    },
    {
      cell_type: "code",
      execution_count: 3,
      metadata: {},
      source: ["await showMarkdown(answer);"],
      outputs: [bundle(markdownBundle(opts.answer ?? "**Answer.** The live run gains 0.61 dB."))],
    },
  ];
  return JSON.stringify(
    {
      cells,
      metadata: {
        kernelspec: {
          display_name: "Deno (svrnn-kit)",
          language: "typescript",
          name: "svrnn-deno",
        },
        language_info: { name: "typescript", version: opts.version ?? "6.0.3" },
      },
      nbformat: 4,
      nbformat_minor: 5,
    },
    null,
    1,
  );
}

Deno.test("volatile: notebooks: progress, durations, stream chunks and kernel version ignored", () => {
  const path = "notebooks/03_training.ipynb";
  const runA = notebook({
    progress: [[3.0, 10.8], [4.6, 17.7]],
    trained: "Trained 150 steps (600 patches) in 132.3 s (4.5 patches/s on wasm (SIMD, 1 thread)).",
  });
  const runB = notebook({
    progress: [[2.3, 14.0], [3.0, 24.7]],
    trained: "Trained 150 steps (600 patches) in 153.7 s (3.9 patches/s on wasm (SIMD, 1 thread)).",
    seconds: 1.31,
    chunked: true,
    version: "6.0.4",
  });
  assert.notEqual(runA, runB);
  assert.equal(verdict(path, runA, runB), "volatile");

  const base = {
    progress: [[3.0, 10.8], [4.6, 17.7]] as [number, number][],
    trained: "Trained 150 steps (600 patches) in 132.3 s.",
  };
  const a = notebook(base);
  // a changed Markdown answer
  assert.match(
    verdict(path, a, notebook({ ...base, answer: "**Answer.** The live run gains 0.62 dB." })),
    /^changed: cells\[3\]\.outputs\[0\]\.data\.text\/markdown, line 1: .*0\.61 dB.*0\.62 dB/,
  );
  // a changed loss in a progress line (the run is seeded: the losses are not timings)
  assert.match(
    verdict(path, a, notebook({ ...base, loss: "17.39" })),
    /^changed: cells\[1\]\.outputs\[0\]\.text, line 1: .*17\.38.*17\.39/,
  );
  // a changed PSNR in a displayed table (all three MIME types see it)
  assert.match(
    verdict(path, a, notebook({ ...base, psnr: 25.48 })),
    /^changed: cells\[2\]\.outputs\[0\]/,
  );
  // a changed number of steps in the prose
  assert.match(
    verdict(path, a, notebook({ ...base, trained: "Trained 151 steps (600 patches) in 132.3 s." })),
    /^changed: /,
  );
});

Deno.test("volatile: results/reproduce.json is a timings file; other files are compared as written", () => {
  const timings = (s: number) =>
    JSON.stringify({ totalSeconds: s, notebooks: { "01_iir_derivation": { seconds: s } } });
  assert.equal(
    compareTexts("results/reproduce.json", timings(22.4), timings(21.9)).verdict,
    "volatile",
  );
  assert.equal(compareTexts("results/reproduce.json", null, timings(21.9)).verdict, "volatile");
  assert.equal(compareTexts("results/eval/x.json", '{"psnr":1}', '{"psnr":2}').verdict, "changed");
  assert.equal(compareTexts("results/tables/new.md", null, "| a |\n").verdict, "added");
  assert.equal(firstJsonDifference({ a: [1, 2] }, { a: [1, 2] }), null);
  assert.equal(firstJsonDifference({ a: [1, 2] }, { a: [1] }), "a[1]: 2 -> nothing");
});

Deno.test("volatile: deno task reproduce:check on two run folders: 0 when only volatile, 1 otherwise", async () => {
  const base = await Deno.makeTempDir();
  try {
    const run = async (name: string, time: number, psnr: number) => {
      const dir = `${base}/${name}`;
      await writeTable("06_summary", [{ image: "a.png", "time (s)": time, PSNR: psnr }], {
        dir: `${dir}/results/tables`,
      });
      await Deno.mkdir(`${dir}/notebooks`, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/notebooks/03_training.ipynb`,
        notebook({ progress: [[time, time * 10]], trained: `Trained in ${time} s.` }),
      );
      for (const p of ["results/tables/06_summary.md", "results/tables/06_summary.json"]) {
        await Deno.writeTextFile(`${dir}/${p}`, secondRun(await Deno.readTextFile(`${dir}/${p}`)));
      }
      return dir;
    };
    const [a, b, c] = [
      await run("a", 1.05, 25.49),
      await run("b", 1.31, 25.49),
      await run("c", 1.05, 25.5),
    ];
    const check = async (x: string, y: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}/lib/cli/reproduce_check.ts`, "--quiet", x, y],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, text: new TextDecoder().decode(out.stdout) };
    };
    const same = await check(a, b);
    assert.equal(same.code, 0, same.text);
    assert.match(same.text, /^3 file\(s\) changed, all only in timings and provenance/m);
    const real = await check(a, c);
    assert.equal(real.code, 1, real.text);
    assert.match(
      real.text,
      /^results\/tables\/06_summary\.json: changed: rows\[0\]\.PSNR: 25\.49 -> 25\.5$/m,
    );
    assert.match(real.text, /^results\/tables\/06_summary\.md: changed: line \d+: /m);
    assert.match(real.text, /^2 of 3 changed file\(s\) differ beyond timings and provenance/m);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
