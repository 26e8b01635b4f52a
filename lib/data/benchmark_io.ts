/**
 * I/O adapter (Deno): render the synthetic benchmark (lib/data/benchmark.ts) to disk,
 *
 *   OUT/NAME/{train,test}/PHOTO_ID/{blur,blur_gamma,sharp}/NNNNNN.png + OUT/NAME/manifest.json
 *
 * and compare manifests. The manifest has no dates or host names, so the same inputs give a
 * byte-identical manifest; the committed copies live in data/fixtures/benchmarks/.
 */
import { synthesizeBlur, type SynthOptions } from "./blur.ts";
import {
  type BenchmarkSpec,
  planBenchmark,
  prepareBenchmarkCommand,
  sampleOptions,
  type SamplePlan,
  sha256Text,
} from "./benchmark.ts";
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image.ts";
import { readImage, sha256File, sha256Hex, writeImage } from "./image_io.ts";
import { listPhotos } from "./photos_fetch.ts";
import { Rng } from "./prng.ts";

export interface BenchmarkManifest {
  name: string;
  version: number;
  spec: BenchmarkSpec;
  generator: string;
  sources: { id: string; split: "train" | "test"; sha256: string }[];
  counts: { train: number; test: number; files: number };
  /** Relative path -> SHA-256 of the file's bytes. */
  files: Record<string, string>;
  /** SHA-256 over the sorted "sha256  path" lines of `files`. */
  digest: string;
}

export interface GenerateOptions {
  out?: string;
  photosDir?: string;
  fixturesDir?: string;
  log?: (m: string) => void;
}

/** One sample of a benchmark, ready to render: its plan, its photo and its options. */
export interface BenchmarkSample {
  plan: SamplePlan;
  photo: RgbImage;
  /** The photo's file, and whether this is the first sample read from it. */
  photoPath: string;
  firstOfPhoto: boolean;
  options: SynthOptions;
}

/** The photos a benchmark is made from, checked to be the set its spec names. */
export async function benchmarkPhotos(spec: BenchmarkSpec, opts: GenerateOptions = {}) {
  const photos = await listPhotos(
    opts.photosDir ?? "data/photos",
    opts.fixturesDir ?? "data/fixtures",
    spec.source === "fixtures",
  );
  if (spec.source === "photos" && photos.source !== "photos") {
    throw new InputError(
      `benchmark ${spec.name} is made from the real-photo set, which is not here ` +
        `(${opts.photosDir ?? "data/photos"}/manifest.json missing): run ` +
        `\`${prepareBenchmarkCommand(spec.name)}\`, or use --quick for the fixtures version`,
    );
  }
  return photos.photos;
}

/** Every sample of the benchmark in plan order, each photo read once. */
export async function* benchmarkSamples(
  spec: BenchmarkSpec,
  photos: Awaited<ReturnType<typeof benchmarkPhotos>>,
): AsyncGenerator<BenchmarkSample> {
  const paths = new Map(photos.map((p) => [p.id, p.path]));
  let current: { id: string; img: RgbImage } | undefined;
  for (const plan of await planBenchmark(spec, photos.map((p) => p.id))) {
    const firstOfPhoto = current?.id !== plan.photo;
    if (firstOfPhoto) current = { id: plan.photo, img: await readImage(paths.get(plan.photo)!) };
    const img = current!.img;
    const cr = new Rng(plan.seed).fork("crop");
    const options = sampleOptions(spec, plan, img.width, img.height, cr.uniform(), cr.uniform());
    yield { plan, photo: img, photoPath: paths.get(plan.photo)!, firstOfPhoto, options };
  }
}

/** Render every sample and write the manifest. Returns the manifest. */
export async function generateBenchmark(
  spec: BenchmarkSpec,
  opts: GenerateOptions = {},
): Promise<BenchmarkManifest> {
  const log = opts.log ?? (() => {});
  const photos = await benchmarkPhotos(spec, opts);
  const dir = `${opts.out ?? "data/benchmarks"}/${spec.name}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const files: Record<string, string> = {};
  const sources: BenchmarkManifest["sources"] = [];
  const counts = { train: 0, test: 0, files: 0 };
  for await (const sample of benchmarkSamples(spec, photos)) {
    const { plan: s, photo, options } = sample;
    if (sample.firstOfPhoto) {
      sources.push({ id: s.photo, split: s.split, sha256: await sha256File(sample.photoPath) });
      log(`${spec.name}: ${s.split}/${s.photo} (${photo.width}x${photo.height})`);
    }
    const r = synthesizeBlur(photo, options);
    for (
      const [sub, img] of [["blur", r.blurStored], ["blur_gamma", r.blurLinear], [
        "sharp",
        r.sharp,
      ]] as const
    ) {
      const rel = `${s.split}/${s.photo}/${sub}/${s.file}`;
      files[rel] = await sha256Hex(await writeImage(`${dir}/${rel}`, img));
      counts.files++;
    }
    counts[s.split]++;
  }
  const sorted = Object.keys(files).sort();
  const sortedFiles: Record<string, string> = {};
  for (const k of sorted) sortedFiles[k] = files[k];
  const manifest: BenchmarkManifest = {
    name: spec.name,
    version: spec.version,
    spec,
    generator: "svrnn-kit lib/data/benchmark_io.ts (blur synthesis lib/data/blur.ts)",
    sources,
    counts,
    files: sortedFiles,
    digest: await manifestDigest(sortedFiles),
  };
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest, null, 1) + "\n");
  return manifest;
}

export function manifestDigest(files: Record<string, string>): Promise<string> {
  return sha256Text(Object.keys(files).sort().map((k) => `${files[k]}  ${k}\n`).join(""));
}

export async function readManifest(path: string): Promise<BenchmarkManifest> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`manifest not found: ${path}`);
    throw new InputError(`cannot read manifest ${path}: ${(e as Error).message}`);
  }
}

export interface ManifestComparison {
  same: boolean;
  missing: string[];
  extra: string[];
  differ: string[];
}

/** Compare the file lists and checksums of two manifests. */
export function compareManifests(a: BenchmarkManifest, b: BenchmarkManifest): ManifestComparison {
  const missing = Object.keys(a.files).filter((k) => !(k in b.files));
  const extra = Object.keys(b.files).filter((k) => !(k in a.files));
  const differ = Object.keys(a.files).filter((k) => k in b.files && a.files[k] !== b.files[k]);
  return { same: !missing.length && !extra.length && !differ.length, missing, extra, differ };
}

/** Check the files of a generated benchmark folder against a manifest. */
export async function verifyBenchmarkDir(dir: string, manifest: BenchmarkManifest) {
  const problems: string[] = [];
  for (const [rel, sha] of Object.entries(manifest.files)) {
    try {
      if ((await sha256File(`${dir}/${rel}`)) !== sha) problems.push(`checksum differs: ${rel}`);
    } catch {
      problems.push(`missing: ${rel}`);
    }
  }
  return problems;
}
