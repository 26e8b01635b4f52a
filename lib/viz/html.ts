/**
 * HTML for plotly figures: a `<div>` holding the static SVG (what readers without
 * JavaScript see) plus a script that replaces it with the interactive plotly.js chart.
 *
 * How plotly.js is found, in order: an already loaded `window.Plotly`; under require.js
 * (classic notebook HTML exports) a `require(["plotly"])` from the pinned CDN copy, whose
 * callback takes the module value or, for plotly.js 3 (a bundle that never calls define()
 * and sets only `window.Plotly`), `window.Plotly`; else
 * one `<script>` tag per page for the pinned CDN copy (shared by every figure of the page).
 * Offline the static SVG stays. Standalone pages (`figurePage`) first load a local
 * `plotly.min.js` next to the page (results/figures/ keeps a copy of the npm package's file).
 *
 * Browser-safe: no Deno APIs.
 */
import type { Figure } from "./figure.ts";
import { renderSvg } from "./svg.ts";

/** The pinned plotly.js (npm `plotly.js-dist-min`, as in deno.json). */
export const PLOTLY_VERSION = "3.7.0";
export const PLOTLY_CDN =
  `https://cdn.jsdelivr.net/npm/plotly.js-dist-min@${PLOTLY_VERSION}/plotly.min.js`;

/** JSON safe to embed in a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(
    /\u2028|\u2029/g,
    (c) => c === "\u2028" ? "\\u2028" : "\\u2029",
  );
}

function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

let counter = 0;

/** A deterministic element id for a figure (its content hash plus a per-process counter). */
export function figureId(fig: Figure): string {
  return `svrnn-fig-${fnv(JSON.stringify(fig))}-${++counter}`;
}

export interface FigureHtmlOptions {
  id?: string;
  /** Static SVG placeholder; default: `renderSvg(fig)`. Pass "" for none. */
  svg?: string;
  /** Where to load plotly.js from when it is not loaded yet. */
  plotlySrc?: string;
}

/** The loader script: draws `fig` into the element `id` once plotly.js is available. */
export function plotlyScript(fig: Figure, id: string, src = PLOTLY_CDN): string {
  return `(function () {
  var fig = ${scriptJson({ data: fig.data, layout: fig.layout })};
  var el = document.getElementById(${JSON.stringify(id)});
  if (!el) return;
  function draw(P) {
    if (!P || !P.newPlot) return;
    el.innerHTML = "";
    P.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
  }
  if (window.Plotly) { draw(window.Plotly); return; }
  var src = ${JSON.stringify(src)};
  if (typeof window.require === "function" && window.require.config) {
    // plotly.js 3's bundle never calls define(): under require.js the module value is
    // undefined and the bundle sets only window.Plotly, so fall back to that.
    window.require.config({ paths: { plotly: src.replace(/\\.js$/, "") } });
    window.require(["plotly"], function (P) {
      draw(P && P.newPlot ? P : window.Plotly);
    }, function () { /* offline: the static SVG stays */ });
    return;
  }
  if (!window.__svrnnPlotly) {
    window.__svrnnPlotly = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = function () { resolve(window.Plotly); };
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }
  window.__svrnnPlotly.then(draw, function () { /* offline: the static SVG stays */ });
})();`;
}

/** An HTML fragment (div + script) for a notebook output or a page. */
export function figureHtml(fig: Figure, opts: FigureHtmlOptions = {}): string {
  const id = opts.id ?? figureId(fig);
  const svg = opts.svg ?? renderSvg(fig);
  const w = fig.layout.width ? `max-width:${fig.layout.width}px;` : "";
  return `<div id="${id}" class="svrnn-figure" style="${w}">${svg}</div>
<script type="text/javascript">
${plotlyScript(fig, id, opts.plotlySrc)}
</script>`;
}

/**
 * A standalone HTML page for one figure: loads `localPlotly` (a path relative to the page,
 * default "plotly.min.js") and falls back to the CDN; the static SVG shows until then (and
 * for good without JavaScript). `comment` goes into an HTML comment at the top
 * (provenance).
 */
export function figurePage(
  fig: Figure,
  opts: { title?: string; comment?: string; localPlotly?: string | null; svg?: string } = {},
): string {
  const id = "figure";
  const title = opts.title ?? fig.layout.title?.text ?? "figure";
  const local = opts.localPlotly === undefined ? "plotly.min.js" : opts.localPlotly;
  // HTML comments may hold "--" (not "-->" or "--!>").
  const comment = opts.comment ? `<!--\n${opts.comment.replace(/--(!?)>/g, "- -$1>")}\n-->\n` : "";
  return `<!DOCTYPE html>
${comment}<html lang="en">
<head>
<meta charset="utf-8">
<title>${title.replace(/</g, "&lt;")}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:16px;background:#fff}</style>
${local ? `<script src="${local}"></script>` : ""}
</head>
<body>
${figureHtml(fig, { id, svg: opts.svg })}
</body>
</html>
`;
}
