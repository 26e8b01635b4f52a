/**
 * Tables as Markdown (for notebooks, README and results/tables/*.md) and as HTML (for
 * notebook outputs, which nbconvert and GitHub render from text/html).
 *
 * Browser-safe: no Deno APIs.
 */

export interface Column {
  /** Key in each row object. */
  key: string;
  /** Header text (default: the key). */
  label?: string;
  /** Formats a cell (default: `formatCell`). */
  format?: (value: unknown, row: Record<string, unknown>) => string;
  align?: "left" | "right" | "center";
}

export type Row = Record<string, unknown>;

/** Default cell text: integers as they are, other numbers to 4 significant digits
 * (scientific notation below 1e-3 or from 1e6), arrays joined with ", ". */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }
  if (Array.isArray(v)) return v.map(formatCell).join(", ");
  if (ArrayBuffer.isView(v)) return Array.from(v as Float64Array, formatCell).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function resolveColumns(rows: Row[], columns?: (Column | string)[]): Column[] {
  if (columns) return columns.map((c) => (typeof c === "string" ? { key: c } : c));
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return keys.map((key) => ({ key }));
}

function cellText(c: Column, row: Row): string {
  return (c.format ?? formatCell)(row[c.key], row);
}

function isNumericColumn(c: Column, rows: Row[]): boolean {
  return rows.length > 0 && rows.every((r) => typeof r[c.key] === "number" || r[c.key] == null);
}

/** A GitHub-flavoured Markdown table; numeric columns right-aligned. */
export function markdownTable(rows: Row[], columns?: (Column | string)[]): string {
  const cols = resolveColumns(rows, columns);
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const header = `| ${cols.map((c) => esc(c.label ?? c.key)).join(" | ")} |`;
  const rule = `|${
    cols.map((c) => {
      const a = c.align ?? (isNumericColumn(c, rows) ? "right" : "left");
      return a === "right" ? "---:" : a === "center" ? ":---:" : "---";
    }).join("|")
  }|`;
  const body = rows.map((r) => `| ${cols.map((c) => esc(cellText(c, r))).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

/**
 * The same table as plain text for fixed-width viewers: a Markdown table whose columns are
 * padded to equal width (still valid Markdown), numeric columns right-aligned.
 */
export function textTable(rows: Row[], columns?: (Column | string)[]): string {
  const cols = resolveColumns(rows, columns);
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const right = cols.map((c) =>
    (c.align ?? (isNumericColumn(c, rows) ? "right" : "left")) === "right"
  );
  const header = cols.map((c) => esc(c.label ?? c.key));
  const body = rows.map((r) => cols.map((c) => esc(cellText(c, r))));
  const widths = cols.map((_, j) =>
    Math.max(3, [...header[j]].length, ...body.map((b) => [...b[j]].length))
  );
  const pad = (s: string, j: number) => {
    const fill = " ".repeat(widths[j] - [...s].length);
    return right[j] ? fill + s : s + fill;
  };
  const line = (cells: string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = `|${
    widths.map((w, j) => right[j] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2)).join("|")
  }|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}

function escHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An HTML table with light styling. */
export function htmlTable(rows: Row[], columns?: (Column | string)[], caption?: string): string {
  const cols = resolveColumns(rows, columns);
  const align = (c: Column) => c.align ?? (isNumericColumn(c, rows) ? "right" : "left");
  const th = cols.map((c) =>
    `<th style="text-align:${align(c)};padding:3px 10px;border-bottom:1px solid #999">${
      escHtml(c.label ?? c.key)
    }</th>`
  ).join("");
  const trs = rows.map((r) =>
    `<tr>${
      cols.map((c) =>
        `<td style="text-align:${align(c)};padding:2px 10px">${escHtml(cellText(c, r))}</td>`
      ).join("")
    }</tr>`
  ).join("\n");
  const cap = caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${
      escHtml(caption)
    }</caption>`
    : "";
  return `<table style="border-collapse:collapse;font-size:13px">${cap}<thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}
