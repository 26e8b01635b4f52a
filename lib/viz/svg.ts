/**
 * A small static SVG renderer for the kit's plotly figures, so figures show where no
 * JavaScript runs (GitHub's notebook view, offline HTML exports, results/figures/*.svg).
 *
 * Supports what `lib/viz/figure.ts` builds: scatter traces (lines with gaps, dashes and step
 * shapes; markers circle, circle-open, x, square, diamond), grouped or stacked bars over
 * categories, heatmaps (an embedded PNG plus a colour bar), image traces (their data URL),
 * linear, log and category axes, fixed ranges, equal-scale axes (`scaleanchor`), reversed y,
 * a title, axis titles and a legend. Anything else plotly would draw is ignored: the SVG
 * is a faithful sketch, the interactive plotly.js rendering is the reference.
 *
 * Browser-safe: no Deno APIs.
 */
import { encodePng } from "../data/codec.ts";
import { COLORS, type Figure, type Trace } from "./figure.ts";
import { base64 as toBase64, wrapText } from "./image.ts";

const FONT = `font-family="Helvetica, Arial, sans-serif"`;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** Removes the small HTML subset plotly titles allow (<b>, <i>, <sup>, <br>). */
function plainText(s: string): string {
  return s.replace(/<br\s*\/?>/gi, " ").replace(/<[^>]+>/g, "");
}

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

// ---------------------------------------------------------------------------------------
// Colour scales

const SCALES: Record<string, [number, string][]> = {
  Viridis: [
    [0, "#440154"],
    [0.0627, "#48186a"],
    [0.1255, "#472d7b"],
    [0.1882, "#424086"],
    [0.251, "#3b528b"],
    [0.3137, "#33638d"],
    [0.3765, "#2c728e"],
    [0.4392, "#26828e"],
    [0.502, "#21918c"],
    [0.5647, "#1fa088"],
    [0.6275, "#28ae80"],
    [0.6902, "#3fbc73"],
    [0.7529, "#5ec962"],
    [0.8157, "#84d44b"],
    [0.8784, "#addc30"],
    [0.9412, "#d8e219"],
    [1, "#fde725"],
  ],
  RdBu: [
    [0, "#050aac"],
    [0.35, "#6a89f7"],
    [0.5, "#bebebe"],
    [0.6, "#dcaa84"],
    [0.7, "#e6915a"],
    [1, "#b20a1c"],
  ],
  Greys: [[0, "#000000"], [1, "#ffffff"]],
  Hot: [[0, "#000000"], [0.3, "#e60000"], [0.6, "#ffd200"], [1, "#ffffff"]],
};

function hexRgb(h: string): [number, number, number] {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** RGB (0-255) of `t` in [0, 1] on a named plotly colour scale. */
export function colorAt(scale: string, t: number, reverse = false): [number, number, number] {
  const stops = SCALES[scale] ?? SCALES.Viridis;
  let u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  if (reverse) u = 1 - u;
  for (let i = 1; i < stops.length; i++) {
    if (u <= stops[i][0]) {
      const [t0, c0] = stops[i - 1], [t1, c1] = stops[i];
      const a = (u - t0) / (t1 - t0 || 1), p = hexRgb(c0), q = hexRgb(c1);
      return [0, 1, 2].map((k) => Math.round(p[k] + a * (q[k] - p[k]))) as [
        number,
        number,
        number,
      ];
    }
  }
  return hexRgb(stops[stops.length - 1][1]);
}

// ---------------------------------------------------------------------------------------
// Axes

interface AxisModel {
  kind: "linear" | "log" | "category";
  /** Range in axis units (log10 for log axes, index for categories). */
  lo: number;
  hi: number;
  reversed: boolean;
  categories: string[];
  /** Pixel extent. */
  p0: number;
  p1: number;
}

function toUnit(ax: AxisModel, v: number | string | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (ax.kind === "category") {
    const i = ax.categories.indexOf(String(v));
    return i < 0 ? null : i;
  }
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n)) return null;
  if (ax.kind === "log") return n > 0 ? Math.log10(n) : null;
  return n;
}

function toPixel(ax: AxisModel, u: number): number {
  const t = (u - ax.lo) / (ax.hi - ax.lo || 1);
  return ax.reversed ? ax.p1 + t * (ax.p0 - ax.p1) : ax.p0 + t * (ax.p1 - ax.p0);
}

function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

function formatTick(v: number, step: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const e = Math.floor(Math.log10(a) + 1e-9), m = v / Math.pow(10, e);
    const ms = Math.abs(m - Math.round(m)) < 1e-6 ? String(Math.round(m)) : m.toFixed(1);
    return `${ms}e${e}`;
  }
  // Enough decimals that every multiple of the step prints exactly (2.5 needs one more).
  let decimals = 0;
  while (
    decimals < 6 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6
  ) {
    decimals++;
  }
  return v.toFixed(decimals);
}

const SUP: Record<string, string> = {
  "-": "\u207b",
  "0": "\u2070",
  "1": "\u00b9",
  "2": "\u00b2",
  "3": "\u00b3",
  "4": "\u2074",
  "5": "\u2075",
  "6": "\u2076",
  "7": "\u2077",
  "8": "\u2078",
  "9": "\u2079",
};

function ticks(ax: AxisModel, target: number): { u: number; label: string }[] {
  const lo = Math.min(ax.lo, ax.hi), hi = Math.max(ax.lo, ax.hi);
  if (ax.kind === "category") {
    const every = Math.max(1, Math.ceil(ax.categories.length / (target * 2)));
    return ax.categories.map((c, i) => ({ u: i, label: c })).filter((_, i) => i % every === 0);
  }
  if (ax.kind === "log") {
    const d0 = Math.ceil(lo - 1e-9), d1 = Math.floor(hi + 1e-9);
    const every = Math.max(1, Math.ceil((d1 - d0 + 1) / target));
    const out = [];
    for (let d = d0; d <= d1; d++) {
      if ((d - d0) % every !== 0) continue;
      const label = d >= 0 && d <= 3
        ? String(Math.pow(10, d))
        : `10${String(d).split("").map((c) => SUP[c]).join("")}`;
      out.push({ u: d, label });
    }
    if (out.length < 2) {
      // Less than two decades: label 1, 2, 5 multiples.
      const res = [];
      for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
        for (const m of [1, 2, 5]) {
          const u = d + Math.log10(m);
          if (u >= lo - 1e-9 && u <= hi + 1e-9) {
            res.push({ u, label: formatTick(m * Math.pow(10, d), Math.pow(10, d)) });
          }
        }
      }
      return res;
    }
    return out;
  }
  const step = niceStep(hi - lo, target);
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    const r = Math.abs(v) < step * 1e-9 ? 0 : v;
    out.push({ u: r, label: formatTick(r, step) });
  }
  return out;
}

interface Extent {
  lo: number;
  hi: number;
}

function extend(e: Extent, u: number | null) {
  if (u === null || !Number.isFinite(u)) return;
  e.lo = Math.min(e.lo, u);
  e.hi = Math.max(e.hi, u);
}

// ---------------------------------------------------------------------------------------
// Rendering

export interface SvgOptions {
  /** Default: layout.width or 720. */
  width?: number;
  /** Default: layout.height or 380. */
  height?: number;
}

const isBar = (t: Trace) => t.type === "bar";

/** A bar trace's asymmetric error bars (plotly `error_y` of type "data"), or null. */
function barErrors(t: Trace): { plus: number[]; minus: number[] } | null {
  const e = t.error_y as { array?: ArrayLike<number>; arrayminus?: ArrayLike<number> } | undefined;
  if (!e?.array) return null;
  const plus = Array.from(e.array, Number);
  return { plus, minus: e.arrayminus ? Array.from(e.arrayminus, Number) : plus };
}
const isHeat = (t: Trace) => t.type === "heatmap";
const isImage = (t: Trace) => t.type === "image";
const isScatter = (t: Trace) => !t.type || t.type === "scatter" || t.type === "scattergl";

function arr<T>(a: ArrayLike<T> | undefined): T[] {
  return a ? Array.from(a) : [];
}

/** Renders a plotly figure as a standalone SVG document (a string). */
export function renderSvg(fig: Figure, opts: SvgOptions = {}): string {
  // Hidden traces (dropdown and slider figures, lib/viz/menus.ts) are not drawn.
  if (fig.data.some((t) => t.visible === false || t.visible === "legendonly")) {
    fig = {
      ...fig,
      data: fig.data.filter((t) => t.visible !== false && t.visible !== "legendonly"),
    };
  }
  const L = fig.layout;
  const W = opts.width ?? L.width ?? 720;
  let H = opts.height ?? L.height ?? 380;
  const title = L.title?.text ? plainText(L.title.text) : "";
  const legendTraces = fig.data.filter((t) =>
    t.showlegend !== false && t.name && !isHeat(t) && !isImage(t)
  );
  const showLegend = (L.showlegend ?? legendTraces.length > 1) && legendTraces.length > 0;
  const heat = fig.data.find(isHeat);
  // Legend entries are wrapped, never cut: at most LEGEND_CHARS per line.
  const legendLines = showLegend
    ? legendTraces.map((t) => wrapText(plainText(String(t.name)), LEGEND_CHARS))
    : [];
  const legendW = showLegend
    ? Math.min(
      30 + 6.2 * LEGEND_CHARS,
      30 + 6.2 * Math.max(...legendLines.flat().map((l) => l.length)),
    )
    : 0;
  // The colour bar: the bar, its tick labels and its title (rotated, beside the labels).
  const heatRangeText = heat ? heatRange(heat).map(fmtZ) : [];
  const cbTitle = heat ? colorbarTitle(heat) : "";
  const cbW = heat
    ? 14 + 18 + 7 * Math.max(...heatRangeText.map((t) => t.length)) + (cbTitle ? 22 : 0) + 8
    : 0;
  const m = {
    l: L.margin?.l ?? 70,
    r: L.margin?.r ?? 20,
    t: L.margin?.t ?? 40,
    b: L.margin?.b ?? 55,
  };
  // A title longer than the figure is wrapped (16 px, or 14 px on several lines).
  let titleLines = title ? [title] : [];
  let titleSize = 16;
  if (title && title.length * 16 * 0.56 > W - 20) {
    titleSize = 14;
    titleLines = wrapText(title, Math.max(20, Math.floor((W - 20) / (14 * 0.56))));
  }
  if (title) m.t = Math.max(m.t, 40, 14 + titleLines.length * (titleSize + 4) + 6);
  const px0 = m.l, px1 = W - m.r - legendW - cbW, py0 = m.t, py1 = H - m.b;
  // A legend taller than the plot grows the figure downwards instead of running off it.
  const legendH = legendLines.reduce((h, l) => h + 18 + 14 * (l.length - 1), 0);
  if (showLegend && py0 + 6 + legendH > H - 4) H = Math.ceil(py0 + 6 + legendH + 4);

  // Axis kinds and data extents.
  const xCats: string[] = [], yCats: string[] = [];
  const xKind = (L.xaxis?.type as AxisModel["kind"] | undefined) ??
    (fig.data.some((t) => arr(t.x).some((v) => typeof v === "string")) ? "category" : "linear");
  const yKind = (L.yaxis?.type as AxisModel["kind"] | undefined) ?? "linear";
  if (xKind === "category") {
    for (const t of fig.data) {
      for (const v of arr(t.x)) if (v !== null && !xCats.includes(String(v))) xCats.push(String(v));
    }
  }
  const xAx: AxisModel = {
    kind: xKind,
    lo: 0,
    hi: 1,
    reversed: L.xaxis?.autorange === "reversed",
    categories: xCats,
    p0: px0,
    p1: px1,
  };
  const yAx: AxisModel = {
    kind: yKind,
    lo: 0,
    hi: 1,
    reversed: L.yaxis?.autorange === "reversed",
    categories: yCats,
    p0: py1,
    p1: py0,
  };
  const ex: Extent = { lo: Infinity, hi: -Infinity }, ey: Extent = { lo: Infinity, hi: -Infinity };
  let padX = 0.03, padY = 0.06;
  for (const t of fig.data) {
    if (isHeat(t)) {
      const z = t.z ?? [];
      const nx = z[0]?.length ?? 0, ny = z.length;
      const xs = arr(t.x), ys = arr(t.y);
      extend(ex, xs.length ? toUnit(xAx, xs[0] as number) : -0.5);
      extend(ex, xs.length ? toUnit(xAx, xs[xs.length - 1] as number) : nx - 0.5);
      extend(ey, ys.length ? toUnit(yAx, ys[0] as number) : -0.5);
      extend(ey, ys.length ? toUnit(yAx, ys[ys.length - 1] as number) : ny - 0.5);
      padX = padY = 0;
    } else if (isImage(t)) {
      const size = L.imageSize as [number, number] | undefined;
      extend(ex, 0);
      extend(ey, 0);
      extend(ex, size?.[0] ?? 1);
      extend(ey, size?.[1] ?? 1);
      padX = padY = 0;
    } else {
      const xs = arr(t.x), ys = arr(t.y);
      ys.forEach((v, i) => {
        const u = toUnit(yAx, v as number);
        if (u === null) return;
        extend(ey, u);
        extend(ex, toUnit(xAx, xs.length ? xs[i] : i));
      });
      if (isBar(t)) {
        extend(ey, yKind === "log" ? null : 0);
        const err = barErrors(t);
        if (err) {
          ys.forEach((v, i) => {
            extend(ey, toUnit(yAx, Number(v) + err.plus[i]));
            extend(ey, toUnit(yAx, Number(v) - err.minus[i]));
          });
        }
        if (L.barmode === "stack") {
          // Stacked extents: sum per category.
          const sums = new Map<string, number>();
          for (const tb of fig.data.filter(isBar)) {
            arr(tb.x).forEach((c, i) => {
              const v = Number(arr(tb.y)[i]);
              if (Number.isFinite(v)) sums.set(String(c), (sums.get(String(c)) ?? 0) + v);
            });
          }
          for (const v of sums.values()) extend(ey, toUnit(yAx, v));
        }
      }
    }
  }
  if (xKind === "category") {
    ex.lo = -0.5;
    ex.hi = xCats.length - 0.5;
    padX = 0;
  }
  if (!(ex.lo <= ex.hi)) (ex.lo = 0), (ex.hi = 1);
  if (!(ey.lo <= ey.hi)) (ey.lo = 0), (ey.hi = 1);
  if (ex.lo === ex.hi) (ex.lo -= 1), (ex.hi += 1);
  if (ey.lo === ey.hi) (ey.lo -= yKind === "log" ? 0.5 : 1), (ey.hi += yKind === "log" ? 0.5 : 1);
  const dx = (ex.hi - ex.lo) * padX, dy = (ey.hi - ey.lo) * padY;
  [xAx.lo, xAx.hi] = (L.xaxis?.range as [number, number] | undefined) ?? [ex.lo - dx, ex.hi + dx];
  [yAx.lo, yAx.hi] = (L.yaxis?.range as [number, number] | undefined) ?? [ey.lo - dy, ey.hi + dy];
  if (L.yaxis?.range && yAx.lo > yAx.hi) {
    [yAx.lo, yAx.hi] = [yAx.hi, yAx.lo];
    yAx.reversed = !yAx.reversed;
  }
  // Equal scales: shrink the plot area along the axis with more pixels per unit.
  if (L.yaxis?.scaleanchor === "x" && xKind !== "category" && yKind !== "log") {
    const ratio = (L.yaxis.scaleratio as number | undefined) ?? 1;
    const sx = (px1 - px0) / (xAx.hi - xAx.lo), sy = (py1 - py0) / ((yAx.hi - yAx.lo) * ratio);
    if (sx > sy) {
      const w = sy * (xAx.hi - xAx.lo), c = (px0 + px1) / 2;
      xAx.p0 = c - w / 2;
      xAx.p1 = c + w / 2;
    } else {
      const h = sx * (yAx.hi - yAx.lo) * ratio, c = (py0 + py1) / 2;
      yAx.p0 = c + h / 2;
      yAx.p1 = c - h / 2;
    }
  }
  const ax0 = Math.min(xAx.p0, xAx.p1), ax1 = Math.max(xAx.p0, xAx.p1);
  const ay0 = Math.min(yAx.p0, yAx.p1), ay1 = Math.max(yAx.p0, yAx.p1);
  const X = (v: number | string | null | undefined) => {
    const u = toUnit(xAx, v);
    return u === null ? null : toPixel(xAx, u);
  };
  const Y = (v: number | string | null | undefined) => {
    const u = toUnit(yAx, v);
    return u === null ? null : toPixel(yAx, u);
  };

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12">`,
  );
  const clipId = `c${Math.abs(hashString(JSON.stringify(fig.layout) + fig.data.length))}`;
  out.push(
    `<defs><clipPath id="${clipId}"><rect x="${f1(ax0)}" y="${f1(ay0)}" width="${
      f1(ax1 - ax0)
    }" height="${f1(ay1 - ay0)}"/></clipPath></defs>`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(
    `<rect x="${f1(ax0)}" y="${f1(ay0)}" width="${f1(ax1 - ax0)}" height="${
      f1(ay1 - ay0)
    }" fill="#fafafa" stroke="#dddddd"/>`,
  );
  if (titleLines.length === 1) {
    out.push(
      `<text x="${f1(W / 2)}" y="${
        f1(Math.min(26, m.t - 12))
      }" text-anchor="middle" font-size="${titleSize}">${esc(title)}</text>`,
    );
  } else {
    titleLines.forEach((line, i) =>
      out.push(
        `<text x="${f1(W / 2)}" y="${
          f1(14 + titleSize + i * (titleSize + 4) - 4)
        }" text-anchor="middle" font-size="${titleSize}">${esc(line)}</text>`,
      )
    );
  }
  // Grid and tick labels.
  const hideX = L.xaxis?.showticklabels === false, hideY = L.yaxis?.showticklabels === false;
  if (!hideX) {
    for (const t of ticks(xAx, Math.max(2, Math.floor((ax1 - ax0) / 80)))) {
      const p = toPixel(xAx, t.u);
      if (p < ax0 - 0.5 || p > ax1 + 0.5) continue;
      if (xAx.kind !== "category") {
        out.push(
          `<line x1="${f1(p)}" x2="${f1(p)}" y1="${f1(ay0)}" y2="${f1(ay1)}" stroke="#e4e4e4"/>`,
        );
      }
      out.push(
        `<text x="${f1(p)}" y="${f1(ay1 + 16)}" text-anchor="middle" fill="#444">${
          esc(t.label)
        }</text>`,
      );
    }
  }
  if (!hideY) {
    for (const t of ticks(yAx, Math.max(2, Math.floor((ay1 - ay0) / 50)))) {
      const p = toPixel(yAx, t.u);
      if (p < ay0 - 0.5 || p > ay1 + 0.5) continue;
      out.push(
        `<line x1="${f1(ax0)}" x2="${f1(ax1)}" y1="${f1(p)}" y2="${f1(p)}" stroke="#e4e4e4"/>`,
      );
      out.push(
        `<text x="${f1(ax0 - 6)}" y="${f1(p + 4)}" text-anchor="end" fill="#444">${
          esc(t.label)
        }</text>`,
      );
    }
  }
  // Zero lines.
  if (L.xaxis?.zeroline && xAx.kind === "linear" && xAx.lo < 0 && xAx.hi > 0) {
    const p = toPixel(xAx, 0);
    out.push(`<line x1="${f1(p)}" x2="${f1(p)}" y1="${f1(ay0)}" y2="${f1(ay1)}" stroke="#999"/>`);
  }
  if (L.yaxis?.zeroline && yAx.kind === "linear" && yAx.lo < 0 && yAx.hi > 0) {
    const p = toPixel(yAx, 0);
    out.push(`<line x1="${f1(ax0)}" x2="${f1(ax1)}" y1="${f1(p)}" y2="${f1(p)}" stroke="#999"/>`);
  }
  const xTitle = L.xaxis?.title?.text, yTitle = L.yaxis?.title?.text;
  if (xTitle) {
    out.push(
      `<text x="${f1((ax0 + ax1) / 2)}" y="${f1(ay1 + 38)}" text-anchor="middle" font-size="13">${
        esc(plainText(xTitle))
      }</text>`,
    );
  }
  if (yTitle) {
    const cx = Math.max(14, ax0 - m.l + 16), cy = (ay0 + ay1) / 2;
    out.push(
      `<text x="${f1(cx)}" y="${
        f1(cy)
      }" text-anchor="middle" font-size="13" transform="rotate(-90 ${f1(cx)} ${f1(cy)})">${
        esc(plainText(yTitle))
      }</text>`,
    );
  }

  // Traces.
  out.push(`<g clip-path="url(#${clipId})">`);
  const bars = fig.data.filter(isBar);
  const stackBase = new Map<string, number>();
  let colorIndex = 0;
  for (const t of fig.data) {
    const color =
      (t.line?.color ?? t.marker?.color ?? COLORS[colorIndex % COLORS.length]) as string;
    colorIndex++;
    if (isHeat(t)) out.push(renderHeatmap(t, xAx, yAx));
    else if (isImage(t)) {
      const size = L.imageSize as [number, number] | undefined;
      const w = size?.[0] ?? 1, h = size?.[1] ?? 1;
      const x0 = toPixel(xAx, 0), x1 = toPixel(xAx, w), y0 = toPixel(yAx, 0), y1 = toPixel(yAx, h);
      out.push(
        `<image x="${f1(Math.min(x0, x1))}" y="${f1(Math.min(y0, y1))}" width="${
          f1(Math.abs(x1 - x0))
        }" height="${f1(Math.abs(y1 - y0))}" preserveAspectRatio="none" href="${
          esc(String(t.source ?? ""))
        }"/>`,
      );
    } else if (isBar(t)) {
      const bi = bars.indexOf(t), nb = L.barmode === "stack" ? 1 : bars.length;
      const slot = 0.8 / nb, xs = arr(t.x), ys = arr(t.y), err = barErrors(t);
      ys.forEach((v, i) => {
        const c = toUnit(xAx, xs[i]);
        const val = Number(v);
        if (c === null || !Number.isFinite(val)) return;
        const key = String(xs[i]);
        const base = L.barmode === "stack" ? (stackBase.get(key) ?? 0) : 0;
        if (L.barmode === "stack") stackBase.set(key, base + val);
        const left = c - 0.4 + (L.barmode === "stack" ? 0 : bi * slot);
        const xa = toPixel(xAx, left), xb = toPixel(xAx, left + slot);
        const ya = Y(yAx.kind === "log" ? (base > 0 ? base : Math.pow(10, yAx.lo)) : base) ?? ay1;
        const yb = Y(base + val);
        if (yb === null) return;
        out.push(
          `<rect x="${f1(Math.min(xa, xb))}" y="${f1(Math.min(ya, yb))}" width="${
            f1(Math.abs(xb - xa))
          }" height="${f1(Math.abs(yb - ya))}" fill="${color}"/>`,
        );
        const lo = err ? Y(base + val - err.minus[i]) : null;
        const hi = err ? Y(base + val + err.plus[i]) : null;
        if (lo !== null && hi !== null) {
          const xm = (xa + xb) / 2, cap = Math.min(6, Math.abs(xb - xa) / 4);
          out.push(
            `<path d="M${f1(xm)},${f1(lo)}V${f1(hi)}M${f1(xm - cap)},${f1(lo)}H${f1(xm + cap)}M${
              f1(xm - cap)
            },${f1(hi)}H${f1(xm + cap)}" stroke="#333333" stroke-width="1.5"/>`,
          );
        }
      });
    } else if (isScatter(t)) {
      out.push(renderScatter(t, color, X, Y));
    }
  }
  out.push(`</g>`);

  // Legend.
  if (showLegend && legendTraces.length) {
    const lx = px1 + 12;
    let ly = py0 + 6;
    for (const t of legendTraces) {
      const color =
        (t.line?.color ?? t.marker?.color ?? COLORS[fig.data.indexOf(t) % COLORS.length]) as string;
      const mode = t.mode ?? (isBar(t) ? "bar" : "lines");
      if (isBar(t)) {
        out.push(`<rect x="${f1(lx)}" y="${f1(ly - 5)}" width="18" height="10" fill="${color}"/>`);
      } else {
        if (mode.includes("lines")) {
          out.push(
            `<line x1="${f1(lx)}" x2="${f1(lx + 22)}" y1="${f1(ly)}" y2="${
              f1(ly)
            }" stroke="${color}" stroke-width="${Math.min(3, t.line?.width ?? 2)}"${
              dashAttr(t.line?.dash)
            }/>`,
          );
        }
        if (mode.includes("markers")) {
          out.push(
            markers(
              [[lx + 11, ly]],
              t.marker?.symbol ?? "circle",
              Math.min(9, t.marker?.size ?? 7),
              color,
            ),
          );
        }
      }
      const lines = legendLines[legendTraces.indexOf(t)];
      lines.forEach((line, k) =>
        out.push(
          `<text x="${f1(lx + 28)}" y="${f1(ly + 4 + 14 * k)}" fill="#333">${esc(line)}</text>`,
        )
      );
      ly += 18 + 14 * (lines.length - 1);
    }
  }
  if (heat) out.push(renderColorbar(heat, px1 + legendW + 14, ay0, ay1));
  out.push(`</svg>`);
  return out.join("\n");
}

function dashAttr(dash?: string): string {
  if (!dash || dash === "solid") return "";
  const d = dash === "dash"
    ? "6,4"
    : dash === "dot"
    ? "2,3"
    : dash === "dashdot"
    ? "6,3,2,3"
    : dash;
  return ` stroke-dasharray="${d}"`;
}

/** Path data of one marker centred at (x, y), radius r. */
function markerPath(x: number, y: number, base: string, r: number): string {
  if (base === "x" || base === "cross") {
    return `M${f1(x - r)},${f1(y - r)}l${f1(2 * r)},${f1(2 * r)}m0,${f1(-2 * r)}l${f1(-2 * r)},${
      f1(2 * r)
    }`;
  }
  if (base === "square") {
    return `M${f1(x - r)},${f1(y - r)}h${f1(2 * r)}v${f1(2 * r)}h${f1(-2 * r)}z`;
  }
  if (base === "diamond") {
    return `M${f1(x)},${f1(y - r)}l${f1(r)},${f1(r)}l${f1(-r)},${f1(r)}l${f1(-r)},${f1(-r)}z`;
  }
  return `M${f1(x - r)},${f1(y)}a${f1(r)},${f1(r)} 0 1,0 ${f1(2 * r)},0a${f1(r)},${f1(r)} 0 1,0 ${
    f1(-2 * r)
  },0`;
}

/** All markers of a trace as one path element. */
function markers(points: [number, number][], symbol: string, size: number, color: string): string {
  if (!points.length) return "";
  const r = size / 2;
  const base = symbol.replace(/-open$/, "");
  const line = base === "x" || base === "cross";
  const open = symbol.endsWith("-open") || line;
  const d = points.map(([x, y]) => markerPath(x, y, base, r)).join("");
  return `<path d="${d}" fill="${open ? "none" : color}" stroke="${color}" stroke-width="${
    open ? 2 : 1
  }"/>`;
}

function renderScatter(
  t: Trace,
  color: string,
  X: (v: number | string | null | undefined) => number | null,
  Y: (v: number | string | null | undefined) => number | null,
): string {
  const xs = arr(t.x), ys = arr(t.y);
  const pts: ([number, number] | null)[] = ys.map((v, i) => {
    const px = X(xs.length ? xs[i] : i), py = Y(v as number);
    return px === null || py === null ? null : [px, py];
  });
  const mode = t.mode ?? (ys.length > 20 ? "lines" : "lines+markers");
  const parts: string[] = [];
  if (mode.includes("lines")) {
    const shape = t.line?.shape ?? "linear";
    let d = "", pen = false, prev: [number, number] | null = null;
    for (const p of pts) {
      if (!p) {
        pen = false;
        prev = null;
        continue;
      }
      if (!pen) d += `M${f1(p[0])},${f1(p[1])}`;
      else if (shape === "hv" && prev) d += `H${f1(p[0])}V${f1(p[1])}`;
      else if (shape === "vh" && prev) d += `V${f1(p[1])}H${f1(p[0])}`;
      else if (shape === "hvh" && prev) {
        const mx = (prev[0] + p[0]) / 2;
        d += `H${f1(mx)}V${f1(p[1])}H${f1(p[0])}`;
      } else d += `L${f1(p[0])},${f1(p[1])}`;
      pen = true;
      prev = p;
    }
    if (d) {
      parts.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="${t.line?.width ?? 2}"${
          dashAttr(t.line?.dash)
        } stroke-linejoin="round"/>`,
      );
    }
  }
  if (mode.includes("markers")) {
    const sym = t.marker?.symbol ?? "circle", size = t.marker?.size ?? 6;
    parts.push(
      markers(
        pts.filter((p): p is [number, number] => p !== null),
        sym,
        size,
        (t.marker?.color ?? color) as string,
      ),
    );
  }
  return parts.join("\n");
}

function heatRange(t: Trace): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const row of t.z ?? []) {
    for (const v of Array.from(row)) {
      if (v !== null && Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    }
  }
  const zmin = typeof t.zmin === "number" ? t.zmin : lo;
  const zmax = typeof t.zmax === "number" ? t.zmax : hi;
  return zmin < zmax ? [zmin, zmax] : [zmin - 1, zmin + 1];
}

function renderHeatmap(t: Trace, xAx: AxisModel, yAx: AxisModel): string {
  const z = t.z ?? [];
  const ny = z.length, nx = z[0]?.length ?? 0;
  if (!nx || !ny) return "";
  const [zmin, zmax] = heatRange(t);
  const scale = String(t.colorscale ?? "Viridis"), rev = t.reversescale === true;
  const data = new Float32Array(nx * ny * 3);
  for (let r = 0; r < ny; r++) {
    const row = Array.from(z[r]);
    for (let c = 0; c < nx; c++) {
      const v = row[c];
      const rgb = v === null || !Number.isFinite(v)
        ? [255, 255, 255]
        : colorAt(scale, (v - zmin) / (zmax - zmin), rev);
      for (let k = 0; k < 3; k++) data[(r * nx + c) * 3 + k] = rgb[k] / 255;
    }
  }
  const png = toBase64(encodePng({ width: nx, height: ny, data }));
  const xs = arr(t.x) as number[], ys = arr(t.y) as number[];
  const ux0 = xs.length ? (toUnit(xAx, xs[0]) ?? 0) - 0.5 * step(xs) : -0.5;
  const ux1 = xs.length ? (toUnit(xAx, xs[xs.length - 1]) ?? 0) + 0.5 * step(xs) : nx - 0.5;
  const uy0 = ys.length ? (toUnit(yAx, ys[0]) ?? 0) - 0.5 * step(ys) : -0.5;
  const uy1 = ys.length ? (toUnit(yAx, ys[ys.length - 1]) ?? 0) + 0.5 * step(ys) : ny - 0.5;
  const x0 = toPixel(xAx, ux0),
    x1 = toPixel(xAx, ux1),
    y0 = toPixel(yAx, uy0),
    y1 = toPixel(yAx, uy1);
  // Row 0 is drawn at y0: flip the image when y0 is below y1 (non-reversed y axis).
  const flip = y0 > y1 ? ` transform="matrix(1 0 0 -1 0 ${f1(y0 + y1)})"` : "";
  return `<image x="${f1(Math.min(x0, x1))}" y="${f1(Math.min(y0, y1))}" width="${
    f1(Math.abs(x1 - x0))
  }" height="${
    f1(Math.abs(y1 - y0))
  }" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,${png}"${flip}/>`;
}

function step(v: number[]): number {
  return v.length > 1 ? (v[v.length - 1] - v[0]) / (v.length - 1) : 1;
}

/** Legend text per line (longer names wrap onto more lines). */
const LEGEND_CHARS = 44;

/** A colour bar's tick label. */
const fmtZ = (v: number) => Number(v.toPrecision(3)).toString();

/** The heatmap's `colorbar.title` (plotly: `{ text }` or a string), as plain text. */
function colorbarTitle(t: Trace): string {
  const cb = t.colorbar as { title?: string | { text?: string } } | undefined;
  const title = typeof cb?.title === "string" ? cb.title : cb?.title?.text;
  return title ? plainText(title) : "";
}

function renderColorbar(t: Trace, x: number, y0: number, y1: number): string {
  const [zmin, zmax] = heatRange(t);
  const scale = String(t.colorscale ?? "Viridis"), rev = t.reversescale === true;
  const id = `g${Math.abs(hashString(scale + zmin + zmax))}`;
  const stops = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = colorAt(scale, i / 10, rev);
    return `<stop offset="${i / 10}" stop-color="rgb(${r},${g},${b})"/>`;
  }).join("");
  const labels = [fmtZ(zmax), fmtZ(zmin)];
  const title = colorbarTitle(t);
  const tx = x + 18 + 7 * Math.max(...labels.map((l) => l.length)) + 14, ty = (y0 + y1) / 2;
  return [
    `<defs><linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`,
    `<rect x="${f1(x)}" y="${f1(y0)}" width="14" height="${
      f1(y1 - y0)
    }" fill="url(#${id})" stroke="#ccc"/>`,
    `<text x="${f1(x + 18)}" y="${f1(y0 + 10)}" fill="#444">${labels[0]}</text>`,
    `<text x="${f1(x + 18)}" y="${f1(y1)}" fill="#444">${labels[1]}</text>`,
    ...(title
      ? [
        `<text x="${f1(tx)}" y="${f1(ty)}" text-anchor="middle" fill="#444" transform="rotate(-90 ${
          f1(tx)
        } ${f1(ty)})">${esc(title)}</text>`,
      ]
      : []),
  ].join("\n");
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
