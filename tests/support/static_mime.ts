/**
 * Does a notebook output render in a viewer that shows only PNG, SVG and text (GitHub's
 * notebook view, nbviewer without JavaScript)? The rule, for every `display_data` and
 * `execute_result` output (streams and errors are text already):
 *
 * 1. **Image content needs a static image.** An output carries image content when it has a
 *    MIME type that needs code to draw (anything but `image/png`, `image/svg+xml`,
 *    `text/plain`, `text/markdown`, `text/html`, e.g. `application/vnd.plotly.v1+json`), or
 *    when its `text/html` holds `<img`, `<svg`, `<canvas`, `<iframe` or `<script`. Such an
 *    output must carry a non-empty `image/png` or an `image/svg+xml` holding `<svg`.
 * 2. **Otherwise, real text.** An output without image content passes with an `image/png` or
 *    `image/svg+xml` as above, or with a non-empty `text/markdown` or `text/html`, or with a
 *    `text/plain` that is real text: non-empty, and not a placeholder: not
 *    `[object Something]`, not a bracketed summary of what is not shown (`[figure: ...]`,
 *    `[3 image(s): ...]`), not a lone angle-bracketed repr such as `<Figure size 640x480 with 1
 *    Axes>`.
 * 3. **A table carries both.** An output whose `text/html` holds `<table` must also carry
 *    `text/markdown` (the HTML for viewers that render it, the Markdown for the others).
 *
 * `staticProblem` applies the rule to one output, `notebookStaticProblems` to every output of
 * a notebook. Run as a script on notebook files it prints the outputs that break it:
 *
 *   deno run -A tests/support/static_mime.ts notebooks/*.ipynb
 */

/** The MIME types a static viewer shows. */
export const STATIC_TYPES = [
  "image/png",
  "image/svg+xml",
  "text/plain",
  "text/markdown",
  "text/html",
];

const IMAGE_HTML = /<(img|svg|canvas|iframe|script)\b/i;

/** A notebook output's `data` value: a string, a list of lines, or (JSON types) an object. */
function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.join("");
  return v === undefined || v === null ? "" : JSON.stringify(v);
}

/** True when `s` is a placeholder for something not shown, not text to read. */
export function isPlaceholderText(s: string): boolean {
  const t = s.trim();
  if (!t) return true;
  if (/^\[object \w+\]$/.test(t)) return true;
  if (/^\[(figure\b|\d+ image\(s\))/i.test(t) && t.endsWith("]")) return true;
  if (/^<[A-Za-z][\w.:-]*(\s[^<>]*)?>$/.test(t)) return true;
  return false;
}

/** Why a display_data/execute_result output breaks the rule, or null when it renders. */
export function staticProblem(output: { output_type?: string; data?: Record<string, unknown> }):
  | string
  | null {
  if (output.output_type !== "display_data" && output.output_type !== "execute_result") {
    return null;
  }
  const data = output.data ?? {};
  const types = Object.keys(data);
  const html = text(data["text/html"]);
  const hasImage = text(data["image/png"]).trim().length > 0 ||
    text(data["image/svg+xml"]).includes("<svg");
  const dynamic = types.filter((t) => !STATIC_TYPES.includes(t));
  if (/<table\b/i.test(html) && !("text/markdown" in data)) {
    return "a table without text/markdown";
  }
  if (dynamic.length || IMAGE_HTML.test(html)) {
    return hasImage
      ? null
      : `image content (${
        dynamic.length ? dynamic.join(", ") : "images in text/html"
      }) without image/png or image/svg+xml`;
  }
  if (hasImage) return null;
  if (text(data["text/markdown"]).trim() || html.trim()) return null;
  if ("text/plain" in data && !isPlaceholderText(text(data["text/plain"]))) return null;
  return types.length
    ? `only a placeholder: ${JSON.stringify(text(data["text/plain"]).slice(0, 60))}`
    : "no data";
}

interface Notebook {
  cells: {
    cell_type: string;
    outputs?: { output_type?: string; data?: Record<string, unknown> }[];
  }[];
}

/** "cell 7, output 2: ..." for every output of the notebook that breaks the rule. */
export function notebookStaticProblems(nb: Notebook): string[] {
  const out: string[] = [];
  nb.cells.forEach((c, i) => {
    (c.outputs ?? []).forEach((o, k) => {
      const p = staticProblem(o);
      if (p) out.push(`cell ${i}, output ${k}: ${p}`);
    });
  });
  return out;
}

if (import.meta.main) {
  let bad = 0;
  for (const path of Deno.args) {
    const problems = notebookStaticProblems(JSON.parse(await Deno.readTextFile(path)));
    for (const p of problems) console.log(`${path}: ${p}`);
    bad += problems.length;
  }
  console.error(`${bad} output(s) without a static rendering in ${Deno.args.length} notebook(s)`);
  Deno.exit(bad ? 1 : 0);
}
