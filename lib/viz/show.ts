/**
 * Notebook display helpers. The Deno kernel can drop a cell's execute_result
 * (docs/platform.md#the-output-race), so notebooks show everything through these explicit
 * `Deno.jupyter.display` calls, which are never lost.
 *
 * A figure is displayed as one bundle with
 * - `application/vnd.plotly.v1+json`: interactive in JupyterLab (with the plotly renderer);
 * - `text/html`: the static SVG plus a script that swaps in plotly.js (nbconvert exports,
 *   JupyterLab without the plotly renderer);
 * - `image/svg+xml`: the static rendering alone (viewers that run no JavaScript);
 * - `text/plain`: a one-line description.
 *
 * A table carries `text/html`, and `text/markdown` and `text/plain` with padded columns
 * (readable where a viewer shows the text as it is). An image gallery carries `text/html`
 * (images side by side), `image/svg+xml` (the same gallery with its captions, the images
 * embedded as PNG data URLs: viewers that show only images and text, such as GitHub's
 * notebook view) and, for a single image, `image/png`.
 *
 * Outside a Jupyter kernel (a script, a test) the helpers print the text/plain part to
 * stdout instead, so notebook code also runs as a plain Deno program.
 */
import type { RgbImage } from "../data/image.ts";
import type { Figure } from "./figure.ts";
import { figureHtml } from "./html.ts";
import {
  base64,
  type GalleryOptions,
  imagePng,
  imagesHtml,
  imagesSvg,
  type LabelledImage,
} from "./image.ts";
import { renderSvg } from "./svg.ts";
import { type Column, htmlTable, type Row, textTable } from "./table.ts";

/** A Jupyter MIME bundle. */
export type Bundle = Record<string, string | object>;

type Jupyter = { display(obj: unknown, opts?: { raw?: boolean }): Promise<void> };

/** Deno.jupyter inside a kernel, else null (accessing it outside `deno jupyter` throws). */
function jupyter(): Jupyter | null {
  try {
    const j = (globalThis as { Deno?: { jupyter?: Jupyter } }).Deno?.jupyter;
    return j && typeof j.display === "function" ? j : null;
  } catch {
    return null;
  }
}

/** True when running inside the Deno Jupyter kernel. */
export function inKernel(): boolean {
  return jupyter() !== null;
}

/**
 * The MIME key that numbers every display this kernel sent (1, 2, ...): the headless runner
 * (lib/notebooks/run_notebook.py) counts them against `globalThis[DISPLAY_COUNT]` at the
 * end, so a display the Deno kernel dropped (docs/platform.md#the-output-race) is caught
 * and the notebook run again, and it strips the key before saving.
 */
export const DISPLAY_SEQ_MIME = "application/x-svrnn-display-seq";
export const DISPLAY_COUNT = "__svrnnDisplays";

/** Displays a raw MIME bundle (or prints its text/plain outside a kernel). */
export async function display(bundle: Bundle): Promise<void> {
  const j = jupyter();
  if (!j) {
    console.log(String(bundle["text/plain"] ?? bundle["text/markdown"] ?? ""));
    return;
  }
  const g = globalThis as Record<string, unknown>;
  const seq = (typeof g[DISPLAY_COUNT] === "number" ? g[DISPLAY_COUNT] as number : 0) + 1;
  g[DISPLAY_COUNT] = seq;
  await j.display({ ...bundle, [DISPLAY_SEQ_MIME]: String(seq) }, { raw: true });
}

/** The bundle `show` displays for a figure (exported for tests and custom displays). */
export function figureBundle(fig: Figure, opts: { title?: string } = {}): Bundle {
  const f: Figure = opts.title
    ? { data: fig.data, layout: { ...fig.layout, title: { text: opts.title } } }
    : fig;
  const svg = renderSvg(f);
  const title = f.layout.title?.text ?? "untitled";
  return {
    "application/vnd.plotly.v1+json": { data: f.data, layout: f.layout },
    "text/html": figureHtml(f, { svg }),
    "image/svg+xml": svg,
    "text/plain": `[figure: ${title.replace(/<[^>]+>/g, "")}; ${f.data.length} trace(s)]`,
  };
}

/** Shows a plotly figure (`title` overrides the figure's own). */
export async function show(fig: Figure, opts: { title?: string } = {}): Promise<void> {
  await display(figureBundle(fig, opts));
}

/** The bundle `showMarkdown` displays (exported for tests). */
export function markdownBundle(md: string): Bundle {
  return { "text/markdown": md, "text/plain": md };
}

/** Shows Markdown (rendered by every front end; the text itself outside a kernel). */
export async function showMarkdown(md: string): Promise<void> {
  await display(markdownBundle(md));
}

/** The bundle `showTable` displays (exported for tests). */
export function tableBundle(
  rows: Row[],
  opts: { columns?: (Column | string)[]; title?: string } = {},
): Bundle {
  // Padded columns in both: the same Markdown once rendered, and aligned where a viewer
  // shows the source (results/tables/*.md keep markdownTable's compact form).
  const text = textTable(rows, opts.columns);
  return {
    "text/html": htmlTable(rows, opts.columns, opts.title),
    "text/markdown": opts.title ? `**${opts.title}**\n\n${text}` : text,
    "text/plain": opts.title ? `${opts.title}\n\n${text}` : text,
  };
}

/** Shows a table of row objects (HTML, Markdown and padded plain text). */
export async function showTable(
  rows: Row[],
  opts: { columns?: (Column | string)[]; title?: string } = {},
): Promise<void> {
  await display(tableBundle(rows, opts));
}

/** The bundle `showImages` displays (exported for tests). */
export function imagesBundle(
  items: LabelledImage[] | RgbImage,
  opts: GalleryOptions = {},
): Bundle {
  const list: LabelledImage[] = "data" in items ? [{ image: items }] : items;
  const bundle: Bundle = {
    "text/html": imagesHtml(list, opts),
    "image/svg+xml": imagesSvg(list, opts),
    "text/plain": `[${list.length} image(s): ${
      list.map((i) => `${i.label ?? "image"} ${i.image.width}x${i.image.height}`).join(", ")
    }]`,
  };
  if (list.length === 1) bundle["image/png"] = base64(imagePng(list[0].image));
  return bundle;
}

/** Shows one or more images side by side, with captions. */
export async function showImages(
  items: LabelledImage[] | RgbImage,
  opts: GalleryOptions = {},
): Promise<void> {
  await display(imagesBundle(items, opts));
}

/** The bundle `showText` displays (exported for tests). */
export function textBundle(text: string): Bundle {
  return { "text/plain": text };
}

/** Shows plain text (e.g. a summary line), as a display so it cannot be dropped. */
export async function showText(text: string): Promise<void> {
  await display(textBundle(text));
}
