/**
 * Figures the reader browses: several figures with the same axes merged into one plotly
 * figure whose dropdown menu (`updatemenus`) or slider (`sliders`) shows one of them at a
 * time, e.g. one ablation variant's per-image scores, one model's receptive field.
 *
 * Interactive in plotly.js; the static SVG (lib/viz/svg.ts) draws the active option only
 * (hidden traces are skipped) and names it in the title.
 *
 * Browser-safe: no Deno APIs.
 */
import type { Figure, Layout, Trace } from "./figure.ts";

export interface MenuOption {
  /** Text on the menu button or slider step. */
  label: string;
  figure: Figure;
  /** Title shown with this option (default: the option figure's title, else the label). */
  title?: string;
}

export interface MenuOptions {
  /** "dropdown" (default) or "slider". */
  control?: "dropdown" | "slider";
  /** Index of the option shown first (default 0). */
  active?: number;
  /** Slider: text before the current label (default ""). */
  prefix?: string;
}

/**
 * One figure holding every option's traces; the control toggles which are visible and
 * updates the title. The layout (axes, size) is the first option's.
 */
export function menuFigure(options: MenuOption[], opts: MenuOptions = {}): Figure {
  if (options.length === 0) throw new Error("menuFigure: no options");
  const active = opts.active ?? 0;
  if (!Number.isInteger(active) || active < 0 || active >= options.length) {
    throw new Error(`menuFigure: active must be an index below ${options.length}, got ${active}`);
  }
  const data: Trace[] = [];
  const owner: number[] = [];
  options.forEach((o, i) => {
    for (const t of o.figure.data) {
      data.push({ ...t, visible: i === active });
      owner.push(i);
    }
  });
  const titles = options.map((o) => o.title ?? o.figure.layout.title?.text ?? o.label);
  const steps = options.map((o, i) => ({
    label: o.label,
    method: "update",
    args: [{ visible: owner.map((k) => k === i) }, { title: { text: titles[i] } }],
  }));
  const base = options[0].figure.layout;
  const margin = { l: 70, r: 20, t: 50, b: 55, ...(base.margin ?? {}) };
  const layout: Layout = { ...base, title: { text: titles[active] } };
  if ((opts.control ?? "dropdown") === "dropdown") {
    layout.margin = { ...margin, t: Math.max(margin.t ?? 50, 80) };
    layout.updatemenus = [{
      type: "dropdown",
      active,
      buttons: steps,
      x: 0,
      xanchor: "left",
      y: 1.02,
      yanchor: "bottom",
      showactive: true,
    }];
  } else {
    layout.margin = { ...margin, b: Math.max(margin.b ?? 55, 120) };
    layout.height = (base.height ?? 380) + 70;
    layout.sliders = [{
      active,
      steps,
      currentvalue: { prefix: opts.prefix ?? "", visible: true },
      pad: { t: 50 },
    }];
  }
  return { data, layout };
}
