/**
 * The volatile parts of the files `deno task reproduce` writes, and a comparison that ignores
 * them (issue 20: two runs on the same commit differ only in timings and provenance). Pure:
 * no file access, usable in a browser.
 *
 * `normalise(path, text)` rewrites a file's text, by the kind of its path, so that two runs
 * compare equal when they differ only in:
 *
 * - provenance: the commit and its "(uncommitted changes)" mark, the date, the runtime and
 *   machine line (`deno X, tfjs Y, CPU (N cores)`), a core count "(N cores)" anywhere, the
 *   `provenance` object of a figure's or table's JSON, the kernel's `language_info.version`
 *   in a notebook's metadata;
 * - timings: the cells of a timing column in a table (`isTimingColumn`: "time (s)",
 *   "train (min)", "ms/image", "warm ms", "s / 1280x720", "median patches/s"; in Markdown,
 *   padded text and HTML tables, and the same keys in a table's JSON rows), a duration or a
 *   rate in a notebook's output text ("in 63.3 s", "9.5 patches/s"), the coordinates on a
 *   figure axis whose title is a time ("seconds per image"; `isTimingFigure`) and so that
 *   figure's renderings (its SVG, its HTML page, its notebook display);
 * - layout that carries no content: how a notebook's stream output was chunked, the padding
 *   of a text table's columns, a figure's element id (`svrnn-fig-HASH-N`).
 *
 * Everything else is compared as written: every number of a PSNR column, every trace value
 * of a figure, every line of a notebook's Markdown output. `results/reproduce.json` (seconds
 * per notebook) is volatile as a whole. `compareTexts` says whether two versions of one file
 * are identical, differ only in the volatile parts, or differ for real (with the first real
 * difference); lib/cli/reproduce_check.ts runs it over a reproduce run's files.
 */

/** How a path under the repository is normalised. */
export type FileKind =
  | "table-md"
  | "table-json"
  | "figure-json"
  | "figure-svg"
  | "figure-html"
  | "notebook"
  | "timings"
  | "other";

/** The kind of a path (relative to the repository root, or to a `reproduce --out` folder). */
export function fileKind(path: string): FileKind {
  const p = path.replace(/\\/g, "/");
  if (/(^|\/)results\/reproduce\.json$/.test(p)) return "timings";
  if (/(^|\/)results\/tables\/[^/]+\.md$/.test(p)) return "table-md";
  if (/(^|\/)results\/tables\/[^/]+\.json$/.test(p)) return "table-json";
  if (/(^|\/)results\/figures\/[^/]+\.json$/.test(p)) return "figure-json";
  if (/(^|\/)results\/figures\/[^/]+\.svg$/.test(p)) return "figure-svg";
  if (/(^|\/)results\/figures\/[^/]+\.html$/.test(p)) return "figure-html";
  if (/(^|\/)notebooks\/[^/]+\.ipynb$/.test(p)) return "notebook";
  return "other";
}

/** The figure JSON a figure's SVG or HTML page is rendered from (`NAME.json`), else null. */
export function figureJsonPath(path: string): string | null {
  const k = fileKind(path);
  return k === "figure-svg" || k === "figure-html" ? path.replace(/\.(svg|html)$/, ".json") : null;
}

// ---------------------------------------------------------------------------------------
// Provenance and timings in text

const COMMIT = /\bcommit [0-9a-f]{7,40}( \(uncommitted changes\))?/g;
const ISO_DATE = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\b/g;
const RUNTIME_LINE = /^deno \S+, tfjs \S+, .*$/gm;
const CORES = /\(\d+ cores?\)/g;
const NUMBER = String.raw`\d+(?:\.\d+)?(?:e[+-]?\d+)?`;
/**
 * A duration in prose: "63.3 s", "120 ms", "2.5 min", "3 seconds", "12 ms/image", or a list
 * of them sharing a unit ("1.3, 1.3, 1.4 min").
 */
const DURATION = new RegExp(
  String.raw`(?<![\w.])${NUMBER}(?:, ${NUMBER})* ?(ms|s|sec|seconds?|min|minutes?)\b`,
  "g",
);
/** A rate in prose: "9.5 patches/s", "3 images/s", "12 it/s". */
const RATE = new RegExp(String.raw`(?<![\w.])${NUMBER} ?([A-Za-z]+)\/s\b`, "g");

/** The provenance in a text (commit, date, runtime and machine line, core counts) blanked. */
export function normaliseProvenance(text: string): string {
  return text
    .replace(COMMIT, "commit <commit>")
    .replace(ISO_DATE, "<date>")
    .replace(RUNTIME_LINE, "deno <version>, tfjs <version>, <machine>")
    .replace(CORES, "(<n> cores)");
}

/** Durations and rates in prose blanked ("in 63.3 s" -> "in <time> s"), provenance too. */
export function normaliseTimingText(text: string): string {
  return normaliseProvenance(text)
    .replace(RATE, (_m, what: string) => `<rate> ${what}/s`)
    .replace(DURATION, (_m, unit: string) => `<time> ${unit}`);
}

/**
 * A table column that holds a timing (seconds, minutes, milliseconds, or a rate per second):
 * a time unit in parentheses ("time (s)", "train (min)"), a unit per something
 * ("s / 1280x720", "ms/image"), a rate ("median patches/s"), or the words time, seconds,
 * minutes, ms ("warm ms", "wall time (min)"). Not "steps", "patches" or "PSNR".
 */
export function isTimingColumn(name: string): boolean {
  const n = name.trim().toLowerCase();
  return /\((?:s|ms|sec|min|h)\)/.test(n) ||
    /^(?:s|ms|sec|min)\s*\//.test(n) ||
    /\/\s*(?:s|sec)\b/.test(n) ||
    /\b(?:time|seconds|minutes|ms|msec)\b/.test(n);
}

// ---------------------------------------------------------------------------------------
// Tables: Markdown, padded text, HTML

/** Splits a Markdown table row into its cells (`\|` stays inside a cell). */
function splitRow(line: string): string[] {
  const body = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  const cells: string[] = [];
  let cur = "";
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\" && body[i + 1] === "|") {
      cur += "\\|";
      i++;
    } else if (body[i] === "|") {
      cells.push(cur);
      cur = "";
    } else cur += body[i];
  }
  cells.push(cur);
  return cells.map((c) => c.trim());
}

const SEPARATOR_CELL = /^:?-+:?$/;

/**
 * Every Markdown (or padded text) table in `text`: padding dropped, separator cells as
 * "---" (alignment kept), and the cells of timing columns blanked.
 */
export function normaliseMarkdownTables(text: string): string {
  const lines = text.split("\n");
  let header: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!/^\s*\|.*\|\s*$/.test(line)) {
      header = null;
      continue;
    }
    const cells = splitRow(line);
    if (cells.every((c) => SEPARATOR_CELL.test(c))) {
      lines[i] = `|${cells.map((c) => c.replace(/-+/, "---")).join("|")}|`;
      continue;
    }
    if (header === null) header = cells;
    else {
      for (const [j, h] of header.entries()) {
        if (j < cells.length && isTimingColumn(h) && cells[j] !== "" && cells[j] !== "-") {
          cells[j] = "<time>";
        }
      }
    }
    lines[i] = `| ${cells.join(" | ")} |`;
  }
  return lines.join("\n");
}

/** HTML tables (`<th>` header, `<td>` rows, lib/viz/table.ts): timing columns' cells blanked. */
export function normaliseHtmlTables(text: string): string {
  return text.replace(/<table\b[\s\S]*?<\/table>/g, (table) => {
    const heads = [...table.matchAll(/<th\b[^>]*>([\s\S]*?)<\/th>/g)].map((m) =>
      m[1].replace(/<[^>]+>/g, "")
    );
    const timing = new Set(heads.flatMap((h, i) => (isTimingColumn(h) ? [i] : [])));
    if (timing.size === 0) return table;
    return table.replace(/<tr\b[^>]*>[\s\S]*?<\/tr>/g, (tr) => {
      let k = -1;
      return tr.replace(/(<td\b[^>]*>)([\s\S]*?)(<\/td>)/g, (_m, open, _v, close) => {
        k++;
        return timing.has(k) ? `${open}<time>${close}` : `${open}${_v}${close}`;
      });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Figures

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function axisTitle(axis: Json | undefined): string {
  if (!isObject(axis)) return "";
  const t = axis.title;
  return typeof t === "string" ? t : isObject(t) && typeof t.text === "string" ? t.text : "";
}

/** The layout keys (xaxis, yaxis2, ...) of the axes whose title is a time. */
function timingAxes(layout: Json | undefined): string[] {
  if (!isObject(layout)) return [];
  return Object.keys(layout).filter((k) =>
    /^[xy]axis\d*$/.test(k) && isTimingColumn(axisTitle(layout[k]))
  );
}

/** A plotly figure ({data, layout}) with an axis titled by a time ("seconds per image"). */
export function isTimingPlot(fig: Json | undefined): boolean {
  return isObject(fig) && timingAxes(fig.layout).length > 0;
}

/** The text of a figure's JSON (`results/figures/NAME.json`) is of a timing figure. */
export function isTimingFigure(figureJson: string): boolean {
  try {
    const v = JSON.parse(figureJson) as Json;
    return isObject(v) && isTimingPlot(v.figure);
  } catch {
    return false;
  }
}

/** A plotly figure with the coordinates on its timing axes (and those axes' ranges) blanked. */
function normalisePlot(fig: Json): Json {
  if (!isObject(fig)) return fig;
  const axes = timingAxes(fig.layout);
  if (axes.length === 0) return fig;
  const layout = { ...(fig.layout as JsonObject) };
  for (const a of axes) {
    const { range: _r, autorange: _a, ...rest } = layout[a] as JsonObject;
    layout[a] = rest;
  }
  const data = Array.isArray(fig.data)
    ? fig.data.map((t) => {
      if (!isObject(t)) return t;
      const out = { ...t };
      for (const dim of ["x", "y"] as const) {
        const ref = typeof t[`${dim}axis`] === "string" ? (t[`${dim}axis`] as string) : dim;
        if (axes.includes(`${dim}axis${ref.slice(1)}`) && dim in out) out[dim] = "<time>";
      }
      return out;
    })
    : fig.data;
  return { ...fig, data, layout };
}

const FIGURE_ID = /svrnn-fig-[0-9a-f]{8}-\d+/g;
const RENDERING = "<rendering of a figure with a timing axis>";

// ---------------------------------------------------------------------------------------
// Per kind

function normaliseJsonStrings(v: Json, f: (s: string) => string): Json {
  if (typeof v === "string") return f(v);
  if (Array.isArray(v)) return v.map((x) => normaliseJsonStrings(x, f));
  if (isObject(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normaliseJsonStrings(x, f)]));
  }
  return v;
}

function normaliseTableJson(v: Json): Json {
  if (!isObject(v)) return v;
  const out: JsonObject = { ...v };
  if ("provenance" in out) out.provenance = "<provenance>";
  if (Array.isArray(out.rows)) {
    out.rows = out.rows.map((r) =>
      isObject(r)
        ? Object.fromEntries(
          Object.entries(r).map(([k, x]) => [k, isTimingColumn(k) && x !== null ? "<time>" : x]),
        )
        : r
    );
  }
  return normaliseJsonStrings(out, normaliseProvenance);
}

function normaliseFigureJson(v: Json): Json {
  if (!isObject(v)) return v;
  const out: JsonObject = { ...v };
  if ("provenance" in out) out.provenance = "<provenance>";
  if ("figure" in out) out.figure = normalisePlot(out.figure);
  return normaliseJsonStrings(out, normaliseProvenance);
}

function outputText(t: Json | undefined): string {
  return Array.isArray(t) ? t.join("") : typeof t === "string" ? t : "";
}

/** One display output's MIME bundle, normalised. */
function normaliseBundle(data: JsonObject): JsonObject {
  const plot = data["application/vnd.plotly.v1+json"];
  const timing = isTimingPlot(plot);
  const out: JsonObject = {};
  for (const [mime, value] of Object.entries(data)) {
    if (mime === "application/vnd.plotly.v1+json") out[mime] = normalisePlot(value);
    else if (timing && (mime === "text/html" || mime === "image/svg+xml")) out[mime] = RENDERING;
    else if (mime.startsWith("text/") || mime === "image/svg+xml") {
      let s = normaliseTimingText(outputText(value)).replace(FIGURE_ID, "svrnn-fig-<id>");
      if (mime === "text/html") s = normaliseHtmlTables(s);
      if (mime === "text/markdown" || mime === "text/plain") s = normaliseMarkdownTables(s);
      out[mime] = s;
    } else out[mime] = value; // image/png and the like: compared as written
  }
  return out;
}

function normaliseOutputs(outputs: Json[]): Json[] {
  const merged: Json[] = [];
  for (const o of outputs) {
    const prev = merged[merged.length - 1];
    if (
      isObject(o) && o.output_type === "stream" && isObject(prev) &&
      prev.output_type === "stream" && prev.name === o.name
    ) {
      prev.text = outputText(prev.text) + outputText(o.text);
    } else merged.push(isObject(o) ? { ...o } : o);
  }
  return merged.map((o) => {
    if (!isObject(o)) return o;
    if (o.output_type === "stream") return { ...o, text: normaliseTimingText(outputText(o.text)) };
    const out = { ...o };
    if (isObject(o.data)) out.data = normaliseBundle(o.data);
    if (o.output_type === "error" && Array.isArray(o.traceback)) {
      out.traceback = o.traceback.map((l) => (typeof l === "string" ? normaliseTimingText(l) : l));
    }
    return out;
  });
}

function normaliseNotebook(v: Json): Json {
  if (!isObject(v)) return v;
  const out: JsonObject = { ...v };
  if (isObject(out.metadata) && isObject(out.metadata.language_info)) {
    out.metadata = {
      ...out.metadata,
      language_info: { ...out.metadata.language_info, version: "<version>" },
    };
  }
  if (Array.isArray(out.cells)) {
    out.cells = out.cells.map((c) => {
      if (!isObject(c)) return c;
      const cell: JsonObject = { ...c };
      if (isObject(cell.metadata) && "execution" in cell.metadata) {
        const { execution: _e, ...rest } = cell.metadata;
        cell.metadata = rest;
      }
      if (Array.isArray(cell.outputs)) cell.outputs = normaliseOutputs(cell.outputs);
      return cell;
    });
  }
  return out;
}

function normaliseSvg(text: string, timingFigure: boolean): string {
  const t = normaliseProvenance(text);
  return timingFigure ? t.replace(/(<\/metadata>)[\s\S]*$/, `$1\n${RENDERING}\n`) : t;
}

function normaliseHtmlPage(text: string, timingFigure: boolean): string {
  let t = normaliseProvenance(text).replace(FIGURE_ID, "svrnn-fig-<id>");
  const embedded = t.match(/^\s*var fig = (.*);$/m);
  let plot: Json | undefined;
  try {
    plot = embedded ? (JSON.parse(embedded[1]) as Json) : undefined;
  } catch { /* not the kit's page: compared as written */ }
  if (timingFigure || isTimingPlot(plot)) {
    t = t.replace(
      /<body>[\s\S]*<\/body>/,
      `<body>\n${RENDERING}\n${plot ? JSON.stringify(normalisePlot(plot)) : ""}\n</body>`,
    );
  }
  return t;
}

export interface NormaliseOptions {
  /**
   * For a figure's SVG or HTML: the figure (its `NAME.json`) has a timing axis, so its
   * rendering holds timings throughout (see `isTimingFigure`, `figureJsonPath`).
   */
  timingFigure?: boolean;
}

function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/**
 * The text of the file at `path` with its volatile parts blanked (see the module doc); JSON
 * kinds come back pretty-printed. A file of kind "other", or JSON that does not parse,
 * comes back as it is.
 */
export function normalise(path: string, text: string, opts: NormaliseOptions = {}): string {
  const kind = fileKind(path);
  const json = (f: (v: Json) => Json) => {
    const v = parseJson(text);
    return v === undefined ? text : JSON.stringify(f(v), null, 1) + "\n";
  };
  switch (kind) {
    case "timings":
      return "<timings: volatile as a whole>\n";
    case "table-md":
      return normaliseMarkdownTables(normaliseProvenance(text));
    case "table-json":
      return json(normaliseTableJson);
    case "figure-json":
      return json(normaliseFigureJson);
    case "figure-svg":
      return normaliseSvg(text, opts.timingFigure ?? false);
    case "figure-html":
      return normaliseHtmlPage(text, opts.timingFigure ?? false);
    case "notebook":
      return json(normaliseNotebook);
    case "other":
      return text;
  }
}

// ---------------------------------------------------------------------------------------
// Comparing two versions

/** How two versions of a file compare. */
export type Verdict = "identical" | "volatile" | "changed" | "added" | "removed";

export interface Comparison {
  verdict: Verdict;
  /** For "changed": where the first real difference is, and what it is (one line). */
  detail?: string;
}

function clip(s: string, n = 80): string {
  const one = JSON.stringify(s);
  return one.length > n ? `${one.slice(0, n - 4)}..."` : one;
}

/** The first difference of two texts, by line: `line N: "before" -> "after"`. */
export function firstDifference(a: string, b: string): string {
  const la = a.split("\n"), lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) {
      if (la[i] === undefined) return `line ${i + 1}: added ${clip(lb[i])}`;
      if (lb[i] === undefined) return `line ${i + 1}: removed ${clip(la[i])}`;
      let k = 0;
      while (k < la[i].length && la[i][k] === lb[i][k]) k++;
      const from = Math.max(0, k - 30);
      return `line ${i + 1}: ${clip(la[i].slice(from))} -> ${clip(lb[i].slice(from))}`;
    }
  }
  return "no difference";
}

function describe(v: Json | undefined): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return clip(v);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 76)}...` : s;
}

/**
 * Where two JSON values first differ, as a path ("cells[12].outputs[0].data.text/plain,
 * line 3: ..."); strings are compared line by line. Null when equal.
 */
export function firstJsonDifference(a: Json, b: Json, at = ""): string | null {
  if (typeof a === "string" && typeof b === "string") {
    return a === b ? null : `${at || "value"}, ${firstDifference(a, b)}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) {
        return `${at}[${i}]: ${describe(a[i])} -> ${describe(b[i])}`;
      }
      const d = firstJsonDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstJsonDifference(a[k] as Json, b[k] as Json, at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return JSON.stringify(a) === JSON.stringify(b)
    ? null
    : `${at || "value"}: ${describe(a)} -> ${describe(b)}`;
}

/**
 * Two versions of the file at `path` (null: absent): identical bytes, different only in
 * the volatile parts, or a real change (with the first difference after normalising).
 */
export function compareTexts(
  path: string,
  before: string | null,
  after: string | null,
  opts: NormaliseOptions = {},
): Comparison {
  if (before === null && after === null) return { verdict: "identical" };
  if (before === after) return { verdict: "identical" };
  if (fileKind(path) === "timings") return { verdict: "volatile" };
  if (before === null) return { verdict: "added", detail: "new file" };
  if (after === null) return { verdict: "removed", detail: "file removed" };
  const a = normalise(path, before, opts), b = normalise(path, after, opts);
  if (a === b) return { verdict: "volatile" };
  const va = parseJson(a), vb = parseJson(b);
  const where = va !== undefined && vb !== undefined ? firstJsonDifference(va, vb) : null;
  return { verdict: "changed", detail: where ?? firstDifference(a, b) };
}
