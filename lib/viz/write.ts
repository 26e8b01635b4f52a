/**
 * Writes figures and tables under results/ with provenance (Deno-only I/O adapter):
 *
 * - `writeFigure(fig, "01_impulse_response")` writes `results/figures/NAME.html` (a
 *   standalone page: the static SVG, replaced by the interactive plotly.js chart when
 *   plotly.js loads, from a local copy `results/figures/plotly.min.js` (git-ignored, copied
 *   from node_modules) or the pinned CDN), `NAME.svg` (the static rendering) and
 *   `NAME.json` (the plotly figure plus provenance);
 * - `writeTable("01_gate_vs_fir", rows)` writes `results/tables/NAME.md` (provenance in an
 *   HTML comment) and `NAME.json` (rows plus provenance).
 *
 * The folder is `resultsDir()` ($SVRNN_RESULTS or <repo>/results).
 */
import { type Provenance, provenance } from "../records/provenance.ts";
import { notebookName, repoRoot, resultsDir } from "../records/paths.ts";
import type { Figure } from "./figure.ts";
import { figurePage } from "./html.ts";
import { type Bundle, display, show, showTable } from "./show.ts";
import { renderSvg } from "./svg.ts";
import { type Column, markdownTable, type Row } from "./table.ts";

let cached: Promise<Provenance> | undefined;

/** Provenance of this run (computed once per process). */
export function runProvenance(): Promise<Provenance> {
  const nb = notebookName();
  const command = nb ? `deno task reproduce --only ${nb}` : "deno task reproduce";
  cached ??= provenance(command);
  return cached;
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new Error(
      `results name must be a plain file name without extension (letters, digits, _ . -), got "${name}"`,
    );
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Copies plotly.min.js from node_modules next to the figure pages (once), git-ignored. */
async function ensureLocalPlotly(dir: string): Promise<boolean> {
  const dest = `${dir}/plotly.min.js`;
  const src = `${repoRoot()}/node_modules/plotly.js-dist-min/plotly.min.js`;
  try {
    const [s, d] = await Promise.all([Deno.stat(src), Deno.stat(dest).catch(() => null)]);
    if (!d || d.size !== s.size) await Deno.copyFile(src, dest);
  } catch {
    return false; // not installed: the pages fall back to the CDN
  }
  const ignore = `${dir}/.gitignore`;
  try {
    await Deno.stat(ignore);
  } catch {
    await Deno.writeTextFile(
      ignore,
      "# a copy of node_modules/plotly.js-dist-min/plotly.min.js, made by lib/viz/write.ts\nplotly.min.js\n",
    );
  }
  return true;
}

export interface WrittenFigure {
  html: string;
  svg: string;
  json: string;
}

/**
 * Writes a figure as NAME.html, NAME.svg and NAME.json under `<results>/figures/` (or
 * `opts.dir`). `name` is a plain name ("01_kernels") or a path ("out/fig.html", "out/fig":
 * its folder and base name are used). Returns the three paths.
 */
export async function writeFigure(
  fig: Figure,
  name: string,
  opts: { dir?: string; notebook?: string } = {},
): Promise<WrittenFigure> {
  let dir = opts.dir ?? `${resultsDir()}/figures`;
  if (name.includes("/")) {
    dir = name.slice(0, name.lastIndexOf("/")) || "/";
    name = name.slice(name.lastIndexOf("/") + 1);
  }
  name = name.replace(/\.(html|svg|json)$/, "");
  checkName(name);
  await Deno.mkdir(dir, { recursive: true });
  await ensureLocalPlotly(dir);
  const prov = await runProvenance();
  const notebook = opts.notebook ?? notebookName();
  const svg = renderSvg(fig);
  const comment = [
    `${name}: written by lib/viz/write.ts${notebook ? ` from notebooks/${notebook}.ipynb` : ""}`,
    `regenerate: ${prov.command}`,
    `commit ${prov.commit}${prov.dirty ? " (uncommitted changes)" : ""}, ${prov.date}`,
    `deno ${prov.deno}, tfjs ${prov.tfjs}, ${prov.machine.cpu} (${prov.machine.cores} cores)`,
  ].join("\n");
  const paths = {
    html: `${dir}/${name}.html`,
    svg: `${dir}/${name}.svg`,
    json: `${dir}/${name}.json`,
  };
  await writeAtomic(paths.html, figurePage(fig, { comment, svg }));
  // XML comments may not contain "--" (as in "--only"): provenance goes in <metadata>.
  const meta = comment.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  await writeAtomic(
    paths.svg,
    svg.replace(/^<svg[^>]*>/, (m) => `${m}\n<metadata>\n${meta}\n</metadata>`),
  );
  await writeAtomic(
    paths.json,
    JSON.stringify({ name, notebook: notebook ?? null, provenance: prov, figure: fig }) + "\n",
  );
  return paths;
}

/**
 * Writes a standalone SVG (a diagram that is no plotly figure, such as
 * lib/viz/architecture.ts's) as `<results>/figures/NAME.svg` (or `opts.dir`), with the
 * provenance in its `<metadata>`. Returns the path.
 */
export async function writeSvg(
  svg: string,
  name: string,
  opts: { dir?: string; notebook?: string } = {},
): Promise<string> {
  checkName(name);
  if (!/^<svg[\s>]/.test(svg)) throw new Error(`writeSvg: ${name} is not an <svg> document`);
  const dir = opts.dir ?? `${resultsDir()}/figures`;
  await Deno.mkdir(dir, { recursive: true });
  const prov = await runProvenance();
  const notebook = opts.notebook ?? notebookName();
  const meta = [
    `${name}: written by lib/viz/write.ts${notebook ? ` from notebooks/${notebook}.ipynb` : ""}`,
    `regenerate: ${prov.command}`,
    `commit ${prov.commit}${prov.dirty ? " (uncommitted changes)" : ""}, ${prov.date}`,
  ].join("\n").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const path = `${dir}/${name}.svg`;
  await writeAtomic(
    path,
    svg.replace(/^<svg[^>]*>/, (m) => `${m}\n<metadata>\n${meta}\n</metadata>`),
  );
  return path;
}

/**
 * Displays a MIME bundle holding an `image/svg+xml` (e.g. `architectureBundle`) and writes
 * that SVG as `<results>/figures/NAME.svg` (`writeSvg`).
 */
export async function showAndSaveSvg(
  bundle: Bundle,
  name: string,
  opts: { dir?: string; notebook?: string } = {},
): Promise<void> {
  const svg = bundle["image/svg+xml"];
  if (typeof svg !== "string") throw new Error(`showAndSaveSvg: ${name} has no image/svg+xml`);
  await display(bundle);
  await writeSvg(svg, name, opts);
}

export interface WrittenTable {
  md: string;
  json: string;
}

/** Writes a table as NAME.md and NAME.json under `<results>/tables/` (or `opts.dir`). */
export async function writeTable(
  name: string,
  rows: Row[],
  opts: { columns?: (Column | string)[]; title?: string; dir?: string; notebook?: string } = {},
): Promise<WrittenTable> {
  checkName(name);
  const dir = opts.dir ?? `${resultsDir()}/tables`;
  await Deno.mkdir(dir, { recursive: true });
  const prov = await runProvenance();
  const notebook = opts.notebook ?? notebookName();
  const md = [
    `<!-- ${name}: written by lib/viz/write.ts${
      notebook ? ` from notebooks/${notebook}.ipynb` : ""
    }; regenerate: ${prov.command}; commit ${prov.commit}${
      prov.dirty ? " (uncommitted changes)" : ""
    }, ${prov.date} -->`,
    ...(opts.title ? [`**${opts.title}**`, ""] : []),
    markdownTable(rows, opts.columns),
    "",
  ].join("\n");
  const paths = { md: `${dir}/${name}.md`, json: `${dir}/${name}.json` };
  await writeAtomic(paths.md, md);
  await writeAtomic(
    paths.json,
    JSON.stringify(
      { name, title: opts.title ?? null, notebook: notebook ?? null, provenance: prov, rows },
      (_k, v) =>
        typeof v === "number" && !Number.isFinite(v)
          ? null
          : ArrayBuffer.isView(v)
          ? Array.from(v as Float64Array)
          : v,
      2,
    ) + "\n",
  );
  return paths;
}

/**
 * Shows a figure in the notebook and writes it under results/figures (NAME.html/.svg/.json).
 * Resolves to nothing, so a cell ending with it has no execute_result to lose.
 */
export async function showAndSave(
  fig: Figure,
  name: string,
  opts: { dir?: string; notebook?: string } = {},
): Promise<void> {
  await show(fig);
  await writeFigure(fig, name, opts);
}

/** Shows a table in the notebook and writes it under results/tables (NAME.md/.json). */
export async function showAndSaveTable(
  name: string,
  rows: Row[],
  opts: { columns?: (Column | string)[]; title?: string; dir?: string; notebook?: string } = {},
): Promise<void> {
  await showTable(rows, opts);
  await writeTable(name, rows, opts);
}
