/**
 * Images for notebooks and figures: the kit's RgbImage (float RGB in [0, 1], HWC) as a PNG
 * data URL, and side-by-side HTML of several images.
 *
 * Browser-safe: no Deno APIs.
 */
import { encodePng } from "../data/codec.ts";
import type { RgbImage } from "../data/image.ts";

/** Base64 of bytes (chunked, so large images do not overflow the argument list). */
export function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** PNG bytes of an image (values clipped to [0, 1], 8 bits). */
export function imagePng(img: RgbImage): Uint8Array {
  return encodePng(img);
}

/** `data:image/png;base64,...` of an image. */
export function imageDataUrl(img: RgbImage): string {
  return `data:image/png;base64,${base64(imagePng(img))}`;
}

/**
 * A grey-scale or colour-mapped image of a 2-D array (rows x cols, row-major) scaled from
 * [lo, hi] (default: its min and max) to [0, 1]: for gate maps and error maps.
 */
export function arrayToImage(
  values: ArrayLike<number>,
  width: number,
  height: number,
  range?: [number, number],
): RgbImage {
  let lo = Infinity, hi = -Infinity;
  if (range) [lo, hi] = range;
  else {
    for (let i = 0; i < width * height; i++) {
      const v = values[i];
      if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = Math.min(1, Math.max(0, (values[i] - lo) / span));
    data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = Number.isFinite(t) ? t : 0;
  }
  return { width, height, data };
}

export interface LabelledImage {
  image: RgbImage;
  label?: string;
}

/**
 * HTML showing images side by side with captions; `scale` enlarges small images with
 * nearest-neighbour sampling (pixels stay visible); `maxWidth` caps each image's width.
 */
export function imagesHtml(
  items: LabelledImage[],
  opts: { title?: string; scale?: number; maxWidth?: number } = {},
): string {
  const scale = opts.scale ?? 1, maxW = opts.maxWidth ?? 480;
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const figs = items.map(({ image, label }) => {
    const w = Math.min(maxW, Math.round(image.width * scale));
    return `<figure style="margin:4px 8px;text-align:center"><img src="${
      imageDataUrl(image)
    }" width="${w}" style="image-rendering:pixelated;image-rendering:crisp-edges" alt="${
      esc(label ?? "image")
    }"/>${label ? `<figcaption style="font-size:12px">${esc(label)}</figcaption>` : ""}</figure>`;
  }).join("");
  const title = opts.title
    ? `<div style="font-weight:bold;margin:4px 8px">${esc(opts.title)}</div>`
    : "";
  return `<div class="svrnn-images">${title}<div style="display:flex;flex-wrap:wrap;align-items:flex-end">${figs}</div></div>`;
}

export interface GalleryOptions {
  title?: string;
  /** Enlarges each image (nearest neighbour), as in `imagesHtml`. */
  scale?: number;
  /** Caps each image's width (px), as in `imagesHtml` (default 480). */
  maxWidth?: number;
  /** Width at which the gallery wraps to a new row (default 980, a notebook's width). */
  rowWidth?: number;
}

const xmlEsc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * Words of `text` in lines of at most `chars` characters (a word longer than that gets a
 * line of its own, unbroken).
 */
export function wrapText(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Average advance of Helvetica at `size` px, for wrapping captions (a generous estimate). */
const charWidth = (size: number) => size * 0.56;

/**
 * The same gallery as `imagesHtml`, as one standalone SVG: each image an embedded PNG data
 * URL drawn at its displayed size (pixelated), its caption wrapped below it, the title on
 * top; images wrap into rows at `rowWidth`. For viewers that show SVG but no HTML (GitHub's
 * notebook view).
 */
export function imagesSvg(items: LabelledImage[], opts: GalleryOptions = {}): string {
  const scale = opts.scale ?? 1, maxW = opts.maxWidth ?? 480, rowWidth = opts.rowWidth ?? 980;
  const pad = 8, capSize = 12, capLine = 15, titleSize = 14, titleLine = 18;
  const cells = items.map(({ image, label }) => {
    const w = Math.max(1, Math.min(maxW, Math.round(image.width * scale)));
    const h = Math.max(1, Math.round(image.height * w / image.width));
    const cw = Math.max(w, 96);
    const lines = label ? wrapText(label, Math.max(8, Math.floor(cw / charWidth(capSize)))) : [];
    return { image, w, h, cw, lines, label };
  });
  // Rows: as many cells as fit in rowWidth (at least one).
  const rows: (typeof cells)[] = [];
  let x = 0;
  for (const c of cells) {
    if (rows.length === 0 || (x + c.cw + 2 * pad > rowWidth && rows[rows.length - 1].length)) {
      rows.push([]);
      x = 0;
    }
    rows[rows.length - 1].push(c);
    x += c.cw + 2 * pad;
  }
  const width = Math.max(
    120,
    ...rows.map((r) => r.reduce((s, c) => s + c.cw + 2 * pad, 0)),
  );
  const titleLines = opts.title
    ? wrapText(opts.title, Math.max(16, Math.floor((width - 2 * pad) / charWidth(titleSize))))
    : [];
  const body: string[] = [];
  let y = pad;
  for (const [i, line] of titleLines.entries()) {
    body.push(
      `<text x="${pad}" y="${
        y + titleSize + i * titleLine
      }" font-size="${titleSize}" font-weight="bold">${xmlEsc(line)}</text>`,
    );
  }
  if (titleLines.length) y += titleLines.length * titleLine + 6;
  for (const row of rows) {
    const imgH = Math.max(...row.map((c) => c.h));
    const capH = Math.max(0, ...row.map((c) => c.lines.length)) * capLine;
    let cx = 0;
    for (const c of row) {
      const left = cx + pad, mid = left + c.cw / 2;
      body.push(
        `<image x="${mid - c.w / 2}" y="${y + imgH - c.h}" width="${c.w}" height="${c.h}" ` +
          `preserveAspectRatio="none" style="image-rendering:pixelated" href="${
            imageDataUrl(c.image)
          }"><title>${xmlEsc(c.label ?? "image")}</title></image>`,
      );
      for (const [k, line] of c.lines.entries()) {
        body.push(
          `<text x="${mid}" y="${
            y + imgH + 4 + capSize + k * capLine
          }" font-size="${capSize}" text-anchor="middle">${xmlEsc(line)}</text>`,
        );
      }
      cx += c.cw + 2 * pad;
    }
    y += imgH + (capH ? capH + 6 : 0) + pad;
  }
  const height = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" fill="#222">
<rect width="${width}" height="${height}" fill="#ffffff"/>
${body.join("\n")}
</svg>`;
}
