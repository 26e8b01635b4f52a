/**
 * Plotly figure builders: plain plotly JSON `{data, layout}` (no plotly.js needed to build
 * them), rendered interactively by plotly.js (`lib/viz/html.ts`), statically by the kit's
 * own SVG renderer (`lib/viz/svg.ts`), shown in notebooks by `lib/viz/show.ts` and written
 * to results/figures by `lib/viz/write.ts`.
 *
 * Builders round numbers to 6 significant digits so notebooks and figure files stay small.
 * Browser-safe: no Deno APIs.
 */

/** A plotly trace: the keys the kit uses are typed, anything else plotly accepts passes through. */
export interface Trace {
  type?: "scatter" | "bar" | "heatmap" | "image" | string;
  name?: string;
  /** Values; null is a gap. */
  x?: ArrayLike<number | string | null>;
  y?: ArrayLike<number | string | null>;
  z?: ArrayLike<number | null>[];
  mode?: string;
  line?: { color?: string; width?: number; dash?: string; shape?: string };
  marker?: {
    color?: string;
    size?: number;
    symbol?: string;
    line?: { color?: string; width?: number };
  };
  showlegend?: boolean;
  [key: string]: unknown;
}

export interface Axis {
  title?: { text: string };
  type?: "linear" | "log" | "category";
  range?: [number, number];
  scaleanchor?: string;
  scaleratio?: number;
  zeroline?: boolean;
  autorange?: boolean | "reversed";
  [key: string]: unknown;
}

export interface Shape {
  type: "line" | "rect" | "circle";
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  xref?: "x" | "paper";
  yref?: "y" | "paper";
  line?: { color?: string; width?: number; dash?: string };
  [key: string]: unknown;
}

export interface Layout {
  title?: { text: string };
  xaxis?: Axis;
  yaxis?: Axis;
  width?: number;
  height?: number;
  shapes?: Shape[];
  showlegend?: boolean;
  barmode?: "group" | "stack" | "overlay";
  margin?: { l?: number; r?: number; t?: number; b?: number };
  [key: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** Plotly's default colour cycle. */
export const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** Rounds to `digits` significant digits; non-finite values become null (plotly's gap). */
export function roundValue(v: number, digits = 6): number | null {
  if (!Number.isFinite(v)) return null;
  return v === 0 ? 0 : Number(v.toPrecision(digits));
}

function roundArray(a: ArrayLike<number | string>, digits = 6): (number | string | null)[] {
  return Array.from(a, (v) => (typeof v === "number" ? roundValue(v, digits) : v));
}

export interface AxisOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  logX?: boolean;
  logY?: boolean;
  xRange?: [number, number];
  yRange?: [number, number];
  width?: number;
  height?: number;
}

function baseLayout(o: AxisOptions): Layout {
  const layout: Layout = {
    xaxis: { ...(o.xTitle ? { title: { text: o.xTitle } } : {}) },
    yaxis: { ...(o.yTitle ? { title: { text: o.yTitle } } : {}) },
    height: o.height ?? 380,
    margin: { l: 70, r: 20, t: o.title ? 50 : 20, b: 55 },
  };
  if (o.title) layout.title = { text: o.title };
  if (o.width) layout.width = o.width;
  if (o.logX) layout.xaxis!.type = "log";
  if (o.logY) layout.yaxis!.type = "log";
  if (o.xRange) layout.xaxis!.range = o.logX ? logRange(o.xRange) : o.xRange;
  if (o.yRange) layout.yaxis!.range = o.logY ? logRange(o.yRange) : o.yRange;
  return layout;
}

/** Plotly wants log-axis ranges as log10 of the data values. */
function logRange(r: [number, number]): [number, number] {
  return [Math.log10(r[0]), Math.log10(r[1])];
}

export interface Series {
  name: string;
  y: ArrayLike<number>;
  /** Defaults to 0, 1, 2, ... */
  x?: ArrayLike<number | string>;
  mode?: "lines" | "markers" | "lines+markers";
  color?: string;
  dash?: "solid" | "dash" | "dot" | "dashdot";
  width?: number;
  /** "hv" draws a step plot (for samples and taps). */
  shape?: "linear" | "hv" | "vh" | "hvh";
  markerSymbol?: string;
  markerSize?: number;
}

/** Line (or marker) plot of one or more series. */
export function lineFigure(series: Series[], opts: AxisOptions = {}): Figure {
  const data: Trace[] = series.map((s, i) => {
    const mode = s.mode ?? "lines";
    const t: Trace = {
      type: "scatter",
      name: s.name,
      x: s.x ? roundArray(s.x) : Array.from(s.y, (_, j) => j),
      y: roundArray(s.y),
      mode,
    };
    if (mode.includes("lines")) {
      t.line = {
        color: s.color ?? COLORS[i % COLORS.length],
        width: s.width ?? 2,
        ...(s.dash && s.dash !== "solid" ? { dash: s.dash } : {}),
        ...(s.shape && s.shape !== "linear" ? { shape: s.shape } : {}),
      };
    }
    if (mode.includes("markers")) {
      t.marker = {
        color: s.color ?? COLORS[i % COLORS.length],
        size: s.markerSize ?? 7,
        ...(s.markerSymbol ? { symbol: s.markerSymbol } : {}),
      };
    }
    return t;
  });
  return { data, layout: baseLayout(opts) };
}

/** Scatter of labelled points (one trace per group), e.g. error against parameters. */
export function scatterFigure(
  groups: {
    name: string;
    x: ArrayLike<number>;
    y: ArrayLike<number>;
    text?: string[];
    color?: string;
    symbol?: string;
  }[],
  opts: AxisOptions = {},
): Figure {
  const data: Trace[] = groups.map((g, i) => ({
    type: "scatter",
    name: g.name,
    x: roundArray(g.x),
    y: roundArray(g.y),
    mode: "markers",
    marker: {
      color: g.color ?? COLORS[i % COLORS.length],
      size: 10,
      ...(g.symbol ? { symbol: g.symbol } : {}),
    },
    ...(g.text
      ? { text: g.text, hovertemplate: "%{text}<br>x=%{x}<br>y=%{y}<extra></extra>" }
      : {}),
  }));
  return { data, layout: baseLayout(opts) };
}

/**
 * Grouped bars: one trace per series over shared categories. `interval` draws an error bar
 * per bar from `lo` to `hi` (absolute values, e.g. a confidence interval), as plotly's
 * asymmetric `error_y`.
 */
export function barFigure(
  categories: string[],
  series: {
    name: string;
    values: ArrayLike<number>;
    color?: string;
    interval?: { lo: ArrayLike<number>; hi: ArrayLike<number> };
  }[],
  opts: AxisOptions & { stacked?: boolean } = {},
): Figure {
  const data: Trace[] = series.map((s, i) => ({
    type: "bar",
    name: s.name,
    x: categories,
    y: roundArray(s.values),
    marker: { color: s.color ?? COLORS[i % COLORS.length] },
    ...(s.interval
      ? {
        error_y: {
          type: "data",
          symmetric: false,
          array: roundArray(Array.from(s.values, (v, j) => s.interval!.hi[j] - v)),
          arrayminus: roundArray(Array.from(s.values, (v, j) => v - s.interval!.lo[j])),
          color: "#333333",
        },
      }
      : {}),
  }));
  const layout = baseLayout(opts);
  layout.barmode = opts.stacked ? "stack" : "group";
  return { data, layout };
}

export type Colorscale = "Viridis" | "RdBu" | "Greys" | "Hot";

/** Heatmap of a matrix z[row][col] (row 0 at the top, as for images). */
export function heatmapFigure(
  z: ArrayLike<number>[],
  opts: AxisOptions & {
    colorscale?: Colorscale;
    zmin?: number;
    zmax?: number;
    /** Symmetric colour range around 0 (for signed maps with RdBu). */
    symmetric?: boolean;
    colorbarTitle?: string;
    x?: ArrayLike<number>;
    y?: ArrayLike<number>;
  } = {},
): Figure {
  const rows = z.map((r) => roundArray(r, 4) as (number | null)[]);
  let { zmin, zmax } = opts;
  if (opts.symmetric) {
    let m = 0;
    for (const r of rows) for (const v of r) if (v !== null) m = Math.max(m, Math.abs(v));
    zmin = -m;
    zmax = m;
  }
  const trace: Trace = {
    type: "heatmap",
    z: rows,
    colorscale: opts.colorscale ?? "Viridis",
    ...(zmin !== undefined ? { zmin } : {}),
    ...(zmax !== undefined ? { zmax } : {}),
    ...(opts.x ? { x: roundArray(opts.x) } : {}),
    ...(opts.y ? { y: roundArray(opts.y) } : {}),
    ...(opts.colorbarTitle ? { colorbar: { title: { text: opts.colorbarTitle } } } : {}),
  };
  const layout = baseLayout(opts);
  layout.yaxis = { ...layout.yaxis, autorange: "reversed" };
  return { data: [trace], layout };
}

/** An image (a PNG or JPEG data URL, e.g. from `imageDataUrl`) as a plotly figure. */
export function imageFigure(
  source: string,
  width: number,
  height: number,
  opts: { title?: string } = {},
): Figure {
  const scale = Math.min(1, 720 / width);
  return {
    data: [{ type: "image", source, x0: 0, y0: 0, dx: 1, dy: 1, hoverinfo: "x+y" }],
    layout: {
      ...(opts.title ? { title: { text: opts.title } } : {}),
      width: Math.round(width * scale) + 40,
      height: Math.round(height * scale) + (opts.title ? 70 : 30),
      margin: { l: 20, r: 20, t: opts.title ? 50 : 10, b: 20 },
      xaxis: { range: [0, width], showticklabels: false, showgrid: false, zeroline: false },
      yaxis: {
        range: [height, 0],
        showticklabels: false,
        showgrid: false,
        zeroline: false,
        scaleanchor: "x",
      },
      imageSize: [width, height],
    },
  };
}

export interface ZPlaneGroup {
  name: string;
  /** Zeros, drawn as open circles. */
  zeros?: { re: number; im: number }[];
  /** Poles, drawn as crosses. */
  poles?: { re: number; im: number }[];
  color?: string;
}

/**
 * Pole-zero plot in the complex z-plane with the unit circle; equal axis scales. Points
 * inside the circle are stable poles of a causal filter.
 */
export function zPlaneFigure(
  groups: ZPlaneGroup[],
  opts: AxisOptions & { radius?: number } = {},
): Figure {
  const n = 181;
  const circle = Array.from({ length: n }, (_, i) => (2 * Math.PI * i) / (n - 1));
  const data: Trace[] = [{
    type: "scatter",
    name: "unit circle",
    x: circle.map((a) => roundValue(Math.cos(a), 5) as number),
    y: circle.map((a) => roundValue(Math.sin(a), 5) as number),
    mode: "lines",
    line: { color: "#888888", width: 1, dash: "dash" },
    hoverinfo: "skip",
  }];
  let r = 1;
  groups.forEach((g, i) => {
    const color = g.color ?? COLORS[i % COLORS.length];
    for (
      const [kind, pts, symbol] of [
        ["zeros", g.zeros, "circle-open"],
        ["poles", g.poles, "x"],
      ] as const
    ) {
      if (!pts || pts.length === 0) continue;
      for (const p of pts) r = Math.max(r, Math.abs(p.re), Math.abs(p.im));
      data.push({
        type: "scatter",
        name: `${g.name} (${kind})`,
        x: pts.map((p) => roundValue(p.re) as number),
        y: pts.map((p) => roundValue(p.im) as number),
        mode: "markers",
        marker: { color, size: 11, symbol, line: { color, width: 2 } },
      });
    }
  });
  const lim = opts.radius ?? Math.ceil(r * 1.15 * 4) / 4;
  const layout = baseLayout({ xTitle: "Re z", yTitle: "Im z", height: 460, ...opts });
  layout.xaxis = { ...layout.xaxis, range: [-lim, lim], zeroline: true };
  layout.yaxis = {
    ...layout.yaxis,
    range: [-lim, lim],
    zeroline: true,
    scaleanchor: "x",
    scaleratio: 1,
  };
  layout.width = opts.width ?? 520;
  return { data, layout };
}

/**
 * Adds a horizontal reference line at `y`, spanning the x extent of the numeric traces
 * (a dotted two-point scatter trace, so it works on log axes and in the SVG renderer).
 */
export function withHLine(
  fig: Figure,
  y: number,
  name: string,
  opts: { color?: string; dash?: string } = {},
): Figure {
  let lo = Infinity, hi = -Infinity;
  for (const t of fig.data) {
    for (const v of Array.from(t.x ?? [])) {
      if (typeof v === "number") (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    }
  }
  if (!(lo <= hi)) (lo = 0), (hi = 1);
  const line: Trace = {
    type: "scatter",
    name,
    x: [lo, hi],
    y: [roundValue(y), roundValue(y)],
    mode: "lines",
    line: { color: opts.color ?? "#555555", width: 1.5, dash: opts.dash ?? "dot" },
  };
  return { data: [...fig.data, line], layout: fig.layout };
}

/** The figure's title text, or "" when it has none. */
export function figureTitle(fig: Figure): string {
  return fig.layout.title?.text ?? "";
}
