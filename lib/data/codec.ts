/**
 * PNG and JPEG codecs on bytes (Uint8Array in, Uint8Array out): decoding gives the kit's
 * RgbImage (float RGB in [0, 1]); encoding writes 8-bit (or 16-bit PNG) RGB.
 *
 * - PNG via `fast-png` (all bit depths 1/2/4/8/16; grey, grey+alpha, RGB, RGBA, palette;
 *   interlaced or not). 16-bit samples are divided by 65535, 8-bit by 255, n-bit grey by
 *   2^n - 1. Alpha is dropped (not composited), as PIL's `convert("RGB")` does.
 * - JPEG via `jpeg-js` (baseline and progressive; grey, YCbCr, Adobe RGB/CMYK transforms as
 *   jpeg-js supports them). EXIF orientation is not applied.
 *
 * The format is recognised from the leading bytes, never from the file name. Every failure
 * is an `InputError` naming the file: empty, truncated, corrupt or unsupported.
 *
 * Browser-compatible: no Deno APIs (file access is in lib/data/image_io.ts).
 */
import { decode as decodePngRaw, encode as encodePngRaw } from "fast-png";
import jpeg from "jpeg-js";
import { InputError } from "./errors.ts";
import { imageFromSamples, type RgbImage, toUint16Samples, toUint8Samples } from "./image.ts";

export type ImageFormat = "png" | "jpeg";

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, sig: number[], offset = 0): boolean {
  if (bytes.length < offset + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[offset + i] !== sig[i]) return false;
  return true;
}

/** Names a few formats we do not read, so the error can say what the file is. */
function knownOtherFormat(b: Uint8Array): string | undefined {
  const ascii = (o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));
  if (ascii(0, 4) === "GIF8") return "GIF";
  if (ascii(0, 2) === "BM") return "BMP";
  if (ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") return "WebP";
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) {
    return "TIFF";
  }
  if (startsWith(b, [0xff, 0x0a]) || ascii(4, 4) === "JXL ") return "JPEG XL";
  if (ascii(4, 4) === "ftyp") return "HEIF/AVIF/MP4";
  if (ascii(0, 2) === "P6" || ascii(0, 2) === "P5" || ascii(0, 2) === "P3") return "PNM";
  return undefined;
}

/** "png", "jpeg" or undefined, from the leading bytes. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, PNG_SIG)) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  return undefined;
}

/** Decode PNG or JPEG bytes. `name` (a path) is used in error messages. */
export function decodeImage(bytes: Uint8Array, name = "<bytes>"): RgbImage {
  if (bytes.length === 0) throw new InputError(`cannot read image ${name}: the file is empty`);
  const format = sniffFormat(bytes);
  if (format === "png") return decodePng(bytes, name);
  if (format === "jpeg") return decodeJpeg(bytes, name);
  const other = knownOtherFormat(bytes);
  const head = Array.from(bytes.subarray(0, 8), (v) => v.toString(16).padStart(2, "0")).join(" ");
  throw new InputError(
    `cannot read image ${name}: unsupported format (${
      other ? `${other} file` : `first bytes ${head}`
    }); only PNG and JPEG are read`,
  );
}

/** Walk the PNG chunk list; returns a message if it is cut short before IEND. */
function pngStructureProblem(b: Uint8Array): string | undefined {
  let off = 8;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let sawIdat = false;
  while (true) {
    if (off + 8 > b.length) {
      return `truncated: file ends after ${b.length} bytes, before the IEND chunk${
        sawIdat ? "" : " (no image data)"
      }`;
    }
    const len = view.getUint32(off);
    const type = String.fromCharCode(b[off + 4], b[off + 5], b[off + 6], b[off + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) return `corrupt: invalid chunk type at byte ${off + 4}`;
    if (off + 12 + len > b.length) {
      return `truncated: chunk ${type} at byte ${off} needs ${len} bytes, file ends at ${b.length}`;
    }
    if (type === "IDAT") sawIdat = true;
    if (type === "IEND") return sawIdat ? undefined : "corrupt: no IDAT (image data) chunk";
    off += 12 + len;
  }
}

function decodePng(bytes: Uint8Array, name: string): RgbImage {
  const problem = pngStructureProblem(bytes);
  if (problem) throw new InputError(`cannot read PNG ${name}: ${problem}`);
  let png;
  try {
    png = decodePngRaw(bytes, { checkCrc: true });
  } catch (e) {
    throw new InputError(`cannot read PNG ${name}: corrupt (${(e as Error).message})`, {
      cause: e,
    });
  }
  const { width, height, depth, channels } = png;
  const n = width * height;
  if (png.palette) {
    const pal = png.palette;
    const idx = unpackSamples(png.data as Uint8Array, width, height, depth);
    const out = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const entry = pal[idx[i]];
      if (!entry) throw new InputError(`cannot read PNG ${name}: palette index out of range`);
      out[i * 3] = entry[0] / 255;
      out[i * 3 + 1] = entry[1] / 255;
      out[i * 3 + 2] = entry[2] / 255;
    }
    return { width, height, data: out };
  }
  if (depth < 8) {
    // sub-byte samples exist only for grey (channels 1)
    const vals = unpackSamples(png.data as Uint8Array, width, height, depth);
    return imageFromSamples(width, height, vals, 1, (1 << depth) - 1);
  }
  const expected = n * channels;
  if (png.data.length < expected) {
    throw new InputError(`cannot read PNG ${name}: corrupt (image data too short)`);
  }
  return imageFromSamples(width, height, png.data, channels, depth === 16 ? 65535 : 255);
}

/** Unpack 1/2/4/8-bit single-channel samples; each row starts on a byte boundary. */
function unpackSamples(data: Uint8Array, width: number, height: number, depth: number) {
  const out = new Uint8Array(width * height);
  if (depth === 8) {
    out.set(data.subarray(0, width * height));
    return out;
  }
  const stride = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = data[y * stride + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** True when no EOI marker follows the last SOS (start of scan) marker. */
function jpegTruncated(b: Uint8Array): boolean {
  let lastSos = -1, lastEoi = -1;
  for (let i = 0; i + 1 < b.length; i++) {
    if (b[i] === 0xff) {
      if (b[i + 1] === 0xda) lastSos = i;
      else if (b[i + 1] === 0xd9) lastEoi = i;
    }
  }
  return lastSos < 0 || lastEoi < lastSos;
}

function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
  if (jpegTruncated(bytes)) {
    throw new InputError(
      `cannot read JPEG ${name}: truncated (no end-of-image marker after the scan data)`,
    );
  }
  let raw;
  try {
    raw = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: 200,
      maxMemoryUsageInMB: 2048,
    });
  } catch (e) {
    throw new InputError(`cannot read JPEG ${name}: corrupt (${(e as Error).message})`, {
      cause: e,
    });
  }
  const n = raw.width * raw.height;
  if (!raw.width || !raw.height || raw.data.length < n * 3) {
    throw new InputError(`cannot read JPEG ${name}: corrupt (no pixel data)`);
  }
  return imageFromSamples(raw.width, raw.height, raw.data, 3, 255);
}

export interface PngOptions {
  /** 8 (default) or 16 bits per sample. */
  bitDepth?: 8 | 16;
}

/** Encode as an RGB PNG (values clamped to [0, 1] and rounded). Deterministic bytes. */
export function encodePng(img: RgbImage, opts: PngOptions = {}): Uint8Array {
  const depth = opts.bitDepth ?? 8;
  const data = depth === 16 ? toUint16Samples(img) : toUint8Samples(img, 3);
  return encodePngRaw({ width: img.width, height: img.height, data, depth, channels: 3 });
}

/** Encode as baseline JPEG, quality 1-100 (default 95). */
export function encodeJpeg(img: RgbImage, quality = 95): Uint8Array {
  if (!(quality >= 1 && quality <= 100)) {
    throw new InputError(`JPEG quality must be in 1..100, got ${quality}`);
  }
  const rgba = toUint8Samples(img, 4);
  const out = jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality);
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
}

/** Encode by format name. */
export function encodeImage(img: RgbImage, format: ImageFormat, quality?: number): Uint8Array {
  return format === "png" ? encodePng(img) : encodeJpeg(img, quality);
}

/** "png" / "jpeg" from a file name's extension, or undefined. */
export function formatFromName(path: string): ImageFormat | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  const ext = m?.[1].toLowerCase();
  if (ext === "png") return "png";
  if (ext === "jpg" || ext === "jpeg") return "jpeg";
  return undefined;
}
