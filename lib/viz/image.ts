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
