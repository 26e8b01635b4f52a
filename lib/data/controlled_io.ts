/**
 * Controlled benchmarks on disk (Deno-only): `data/controlled/NAME/{train,test}/{blur,sharp}/`
 * (each split a pairs folder) and a manifest that records the spec and every pair's factors;
 * read as a `{ kind: "controlled" }` DataSource (`deno task train --controlled NAME`).
 * Generated in seconds from the real-photo set (`deno task data`; the fixtures only when a
 * test asks for them), and reused while the manifest's spec matches.
 */
import { sha256Text } from "./benchmark.ts";
import {
  checkSpec,
  type ControlledSpec,
  type PairFactors,
  renderPair,
  SPLIT_KEY,
  TEST_FRACTION,
} from "./controlled.ts";
import { exists, readImage, writeImage } from "./image_io.ts";
import { listPhotos } from "./photos_fetch.ts";
import { InputError } from "./errors.ts";
import type { PairRef } from "./gopro.ts";

export const CONTROLLED_ROOT = "data/controlled";

export interface ControlledPair {
  split: "train" | "test";
  /** File name inside blur/ and sharp/ of the split. */
  file: string;
  photo: string;
  /** Top-left corner of the crop in the photo. */
  x: number;
  y: number;
  factors: PairFactors;
}

export interface ControlledManifest {
  spec: ControlledSpec;
  /** "photos" (data/photos) or "fixtures" (data/fixtures, when the photo set is absent). */
  source: "photos" | "fixtures";
  split: { train: string[]; test: string[] };
  pairs: ControlledPair[];
}

/** Test and train photo ids: the same split for every controlled benchmark. */
export async function splitControlledPhotos(
  ids: readonly string[],
): Promise<{ train: string[]; test: string[] }> {
  const keyed = await Promise.all(
    ids.map(async (id) => ({ id, h: await sha256Text(`${SPLIT_KEY}:${id}`) })),
  );
  keyed.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  const nTest = Math.min(ids.length - 1, Math.max(1, Math.ceil(ids.length * TEST_FRACTION)));
  return {
    test: keyed.slice(0, nTest).map((k) => k.id).sort(),
    train: keyed.slice(nTest).map((k) => k.id).sort(),
  };
}

export interface ControlledOptions {
  /** Parent folder (default data/controlled). */
  root?: string;
  photosDir?: string;
  fixturesDir?: string;
  /** Use the fixtures even when the photo set is there (tests). */
  preferFixtures?: boolean;
  /** Rewrite even when a matching manifest exists. */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Makes (or reuses) a controlled benchmark; returns its folder and manifest. */
export async function ensureControlled(
  spec: ControlledSpec,
  o: ControlledOptions = {},
): Promise<{ dir: string; manifest: ControlledManifest; reused: boolean }> {
  checkSpec(spec);
  const dir = `${o.root ?? CONTROLLED_ROOT}/${spec.name}`;
  const manifestPath = `${dir}/manifest.json`;
  if (!o.force && (await exists(manifestPath))) {
    const m: ControlledManifest = JSON.parse(await Deno.readTextFile(manifestPath));
    if (JSON.stringify(m.spec) === JSON.stringify(spec)) return { dir, manifest: m, reused: true };
  }
  const list = await listPhotos(o.photosDir, o.fixturesDir, o.preferFixtures);
  // the fixtures are too few and too small for a study's crops: say what is missing instead
  if (list.source === "fixtures" && !o.preferFixtures) {
    throw new InputError(
      `no photo set in ${
        o.photosDir ?? "data/photos"
      } for ${spec.name} (make it with: deno task data)`,
    );
  }
  const split = await splitControlledPhotos(list.photos.map((p) => p.id));
  const byId = new Map(list.photos.map((p) => [p.id, p.path]));
  const total = split.train.length * spec.trainPerPhoto + split.test.length * spec.testPerPhoto;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const pairs: ControlledPair[] = [];
  for (const s of ["train", "test"] as const) {
    const per = s === "train" ? spec.trainPerPhoto : spec.testPerPhoto;
    for (const id of split[s]) {
      const image = await readImage(byId.get(id)!);
      for (let i = 0; i < per; i++) {
        const p = renderPair(spec, { id, image }, i, s);
        const file = `${id}-${i}.png`;
        await writeImage(`${dir}/${s}/blur/${file}`, p.blurred);
        await writeImage(`${dir}/${s}/sharp/${file}`, p.sharp);
        pairs.push({ split: s, file, photo: id, x: p.x, y: p.y, factors: p.factors });
        o.onProgress?.(pairs.length, total);
      }
    }
  }
  const manifest: ControlledManifest = { spec, source: list.source, split, pairs };
  // the manifest is written last (through a rename): a folder without one is incomplete
  const tmp = `${manifestPath}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(manifest, null, 1) + "\n");
  await Deno.rename(tmp, manifestPath);
  return { dir, manifest, reused: false };
}

/**
 * The manifest of the controlled benchmark in `dir`, with the command that makes it when it
 * is not there (a folder without a manifest is an incomplete one).
 */
export async function readControlled(dir: string): Promise<ControlledManifest> {
  const path = `${dir}/manifest.json`;
  const name = dir.replace(/\/+$/, "").split("/").pop() ?? dir;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new InputError(`cannot read ${path}: ${(e as Error).message}`);
    }
    throw new InputError(
      `controlled benchmark ${name} not found at ${dir} (no manifest.json): make it with ` +
        `\`deno task data controlled --name ${name}\` (and its factor options)`,
    );
  }
  try {
    const m = JSON.parse(text) as ControlledManifest;
    if (!Array.isArray(m?.pairs)) throw new Error("no pairs list");
    return m;
  } catch (e) {
    throw new InputError(`${path}: not a controlled benchmark manifest (${(e as Error).message})`);
  }
}

/** The pairs of one split as PairRefs (for the patch sampler and lib/eval). */
export function controlledPairs(
  dir: string,
  manifest: ControlledManifest,
  split: "train" | "test",
): PairRef[] {
  return manifest.pairs.filter((p) => p.split === split).map((p) => ({
    blur: `${dir}/${split}/blur/${p.file}`,
    sharp: `${dir}/${split}/sharp/${p.file}`,
    sequence: "",
    frame: p.file,
  }));
}
