/**
 * File I/O adapter (Deno): read PNG/JPEG files into RgbImage, write PNG/JPEG, hash files,
 * list image files in a folder. This is the only place in lib/data that reads image files
 * from disk; everything else works on bytes or RgbImage and runs in a browser too.
 */
import { decodeImage, encodeJpeg, encodePng, formatFromName } from "./codec.ts";
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image.ts";

/** Read bytes, turning "not found", "is a folder" and permission errors into InputError. */
export async function readBytes(path: string, what = "file"): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw fsError(e, path, what);
  }
}

export function fsError(e: unknown, path: string, what = "file"): Error {
  if (e instanceof Deno.errors.NotFound) return new InputError(`${what} not found: ${path}`);
  if (e instanceof Deno.errors.PermissionDenied) {
    return new InputError(`permission denied: ${path}`);
  }
  if (e instanceof Deno.errors.IsADirectory || (e as Error)?.message?.includes("directory")) {
    return new InputError(
      `${path} is a folder, expected ${/^[aeiou]/i.test(what) ? "an" : "a"} ${what}`,
    );
  }
  return e as Error;
}

/** Read a PNG or JPEG file as float RGB in [0, 1]. */
export async function readImage(path: string): Promise<RgbImage> {
  const bytes = await readBytes(path, "image file");
  return decodeImage(bytes, path);
}

export interface WriteImageOptions {
  /** JPEG quality 1-100 (default 95). */
  quality?: number;
  /** PNG bits per sample (default 8). */
  bitDepth?: 8 | 16;
  /** Create missing parent folders (default true). */
  mkdirs?: boolean;
}

/** Write PNG or JPEG, chosen by the extension (.png, .jpg, .jpeg). Returns the bytes written. */
export async function writeImage(
  path: string,
  img: RgbImage,
  opts: WriteImageOptions = {},
): Promise<Uint8Array> {
  const format = formatFromName(path);
  if (!format) {
    throw new InputError(`cannot write ${path}: unsupported extension (use .png, .jpg or .jpeg)`);
  }
  const bytes = format === "png"
    ? encodePng(img, { bitDepth: opts.bitDepth })
    : encodeJpeg(img, opts.quality);
  if (opts.mkdirs !== false) await ensureParent(path);
  try {
    await Deno.writeFile(path, bytes);
  } catch (e) {
    throw fsError(e, path, "output file");
  }
  return bytes;
}

export async function ensureParent(path: string): Promise<void> {
  const i = path.replace(/\\/g, "/").lastIndexOf("/");
  if (i > 0) await Deno.mkdir(path.slice(0, i), { recursive: true });
}

/** Lower-case hex SHA-256 of bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256File(path: string): Promise<string> {
  return sha256Hex(await readBytes(path));
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Sorted paths of the .png/.jpg/.jpeg files directly inside `dir`. */
export async function listImageFiles(dir: string, what = "image folder"): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && IMAGE_EXT.test(e.name)) out.push(`${dir}/${e.name}`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`${what} not found: ${dir}`);
    if (e instanceof Deno.errors.NotADirectory) {
      throw new InputError(`${dir} is a file, expected a ${what}`);
    }
    throw e;
  }
  return out.sort();
}

/**
 * True when the path exists (file or folder); false also when a parent is a file. Other
 * errors (permission denied) are thrown.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

/** True when the path is an existing folder. */
export async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}
