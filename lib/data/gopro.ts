/**
 * I/O adapter (Deno): reader for the GoPro dataset layout of Nah et al. (2017),
 *
 *   GOPRO_Large/{train,test}/GOPRxxxx_yy_zz/{blur,blur_gamma,sharp}/NNNNNN.png
 *
 * (docs/data.md#gopro-dataset-layout). `blur` averages stored values, `blur_gamma`
 * averages in linear light; the caller must choose one explicitly. The synthetic benchmark
 * (lib/data/benchmark_io.ts) and video pairs (lib/data/video_io.ts) are written in the same
 * layout, so this reader serves them too.
 *
 * Errors are `InputError`s that name what is missing or at fault: a folder that does not match
 * the layout names the missing part; a blurred frame without its sharp partner names both
 * paths; a pair of different sizes names both files and sizes.
 */
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image.ts";
import { isDir, readBytes, readImage } from "./image_io.ts";

export type GoProBlur = "blur" | "blur_gamma";
export const GOPRO_BLURS: readonly GoProBlur[] = ["blur", "blur_gamma"];
export type Split = "train" | "test";
export const SPLITS: readonly Split[] = ["train", "test"];

/** One blurred/sharp pair on disk. */
export interface PairRef {
  blur: string;
  sharp: string;
  /** Sequence folder name, e.g. GOPR0384_11_00. */
  sequence: string;
  /** Frame file name, e.g. 000047.png. */
  frame: string;
}

export interface GoProOptions {
  split: Split;
  /** Which blurred images: "blur" (stored-value average) or "blur_gamma" (linear light). */
  blur: GoProBlur;
}

const LAYOUT = "{train,test}/SEQUENCE/{blur,blur_gamma,sharp}/NNNNNN.png";
const FRAME = /\.(png|jpe?g)$/i;

async function subdirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) out.push(e.name);
  return out.sort();
}

async function frames(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile && FRAME.test(e.name)) out.push(e.name);
  return out.sort();
}

/** The GOPRO_Large folder itself: `root`, or `root/GOPRO_Large` when that exists. */
export async function resolveGoProRoot(root: string): Promise<string> {
  const r = root.replace(/\/+$/, "") || "/";
  if (!(await isDir(r))) throw new InputError(`GoPro folder not found: ${root}`);
  if (!(await isDir(`${r}/train`)) && !(await isDir(`${r}/test`))) {
    if (await isDir(`${r}/GOPRO_Large`)) return `${r}/GOPRO_Large`;
  }
  return r;
}

/**
 * List the pairs of one split, sorted by sequence then frame. Checks the layout (not the
 * image contents; `loadPair` and `checkPairSizes` do that).
 */
export async function listGoProPairs(root: string, opts: GoProOptions): Promise<PairRef[]> {
  if (!GOPRO_BLURS.includes(opts.blur)) {
    throw new InputError(`blur must be "blur" or "blur_gamma", got "${opts.blur}"`);
  }
  if (!SPLITS.includes(opts.split)) {
    throw new InputError(`split must be "train" or "test", got "${opts.split}"`);
  }
  const base = await resolveGoProRoot(root);
  const splitDir = `${base}/${opts.split}`;
  if (!(await isDir(splitDir))) {
    throw new InputError(
      `${root} does not match the GoPro layout: missing folder ${splitDir} (expected ${LAYOUT})`,
    );
  }
  const seqs = await subdirs(splitDir);
  if (seqs.length === 0) {
    throw new InputError(`${splitDir} is empty: no sequence folders (expected ${LAYOUT})`);
  }
  const pairs: PairRef[] = [];
  for (const seq of seqs) {
    const sdir = `${splitDir}/${seq}`;
    for (const sub of [opts.blur, "sharp"]) {
      if (!(await isDir(`${sdir}/${sub}`))) {
        throw new InputError(`${sdir} does not match the GoPro layout: missing folder ${sub}/`);
      }
    }
    const blurFrames = await frames(`${sdir}/${opts.blur}`);
    if (blurFrames.length === 0) throw new InputError(`${sdir}/${opts.blur} is empty: no images`);
    const sharpSet = new Set(await frames(`${sdir}/sharp`));
    for (const f of blurFrames) {
      if (!sharpSet.has(f)) {
        throw new InputError(
          `${sdir}/${opts.blur}/${f} has no sharp partner: missing ${sdir}/sharp/${f}`,
        );
      }
      pairs.push({
        blur: `${sdir}/${opts.blur}/${f}`,
        sharp: `${sdir}/sharp/${f}`,
        sequence: seq,
        frame: f,
      });
    }
  }
  return pairs;
}

function sizeError(
  ref: PairRef,
  a: { width: number; height: number },
  b: { width: number; height: number },
) {
  return new InputError(
    `pair differs in size: ${ref.blur} is ${a.width}x${a.height}, ${ref.sharp} is ${b.width}x${b.height}`,
  );
}

/** Read one pair; an error names both files when their sizes differ. */
export async function loadPair(ref: PairRef): Promise<{ blur: RgbImage; sharp: RgbImage }> {
  const [blur, sharp] = await Promise.all([readImage(ref.blur), readImage(ref.sharp)]);
  if (blur.width !== sharp.width || blur.height !== sharp.height) throw sizeError(ref, blur, sharp);
  return { blur, sharp };
}

/** Width and height from a PNG header (first 24 bytes), without decoding. */
export async function pngSize(path: string): Promise<{ width: number; height: number }> {
  let head: Uint8Array;
  try {
    const f = await Deno.open(path);
    try {
      head = new Uint8Array(24);
      let got = 0;
      while (got < 24) {
        const n = await f.read(head.subarray(got));
        if (n === null) break;
        got += n;
      }
      if (got < 24) throw new InputError(`cannot read PNG ${path}: truncated header`);
    } finally {
      f.close();
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    await readBytes(path); // rethrows a clear InputError (not found, folder, ...)
    throw e;
  }
  const sig = [0x89, 0x50, 0x4e, 0x47];
  if (!sig.every((v, i) => head[i] === v)) {
    throw new InputError(`cannot read ${path}: not a PNG file`);
  }
  const dv = new DataView(head.buffer);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** Check every pair's sizes from the PNG headers (fast); throws on the first mismatch. */
export async function checkPairSizes(pairs: PairRef[]): Promise<void> {
  for (const p of pairs) {
    const size = (f: string) => /\.png$/i.test(f) ? pngSize(f) : readImage(f);
    const a = await size(p.blur), b = await size(p.sharp);
    if (a.width !== b.width || a.height !== b.height) throw sizeError(p, a, b);
  }
}
