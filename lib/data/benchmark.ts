/**
 * The synthetic benchmark: a named, versioned, deterministic train/test set of GoPro-style
 * pairs rendered from real photographs by lib/data/blur.ts ("dynamic" mode).
 *
 * - Split by photograph, never by sample: a photo's id is hashed (SHA-256 of
 *   "NAME:ID", NAME the spec's seedName or name) and the photos are ordered by that hash; the first ceil(n * testFraction) are
 *   test photos, the rest train. Adding a photo to the set never moves another photo.
 * - Each photo gives `samplesPerPhoto` samples; sample j of photo ID uses seed
 *   "NAME/ID/j", which decides the crop position, the frame count and the whole motion.
 * - Files are written in the GoPro layout (blur, blur_gamma, sharp) so the GoPro reader and
 *   the patch sampler read them unchanged; a manifest lists the SHA-256 of every file, so two
 *   machines can check that they evaluate on identical data.
 *
 * This module is pure (the plan); lib/data/benchmark_io.ts renders and writes it.
 */
import type { SharpTarget, SynthOptions } from "./blur.ts";

export interface BenchmarkSpec {
  name: string;
  version: number;
  /** "photos" (the real-photo set, `deno task data`) or "fixtures" (quick mode). */
  source: "photos" | "fixtures";
  testFraction: number;
  samplesPerPhoto: number;
  /** Square crop side; a photo smaller than this is cropped to its own shorter side. */
  crop: number;
  /** Motion magnitudes are relative to this length in px (blur.ts `referenceSize`). */
  referenceSize: number;
  mode: "dynamic";
  noise: number;
  /** The sharp target's pose (blur.ts SharpTarget); absent means "middle" (synth-v1). */
  target?: SharpTarget;
  /**
   * The name hashed for the split and the sample seeds (absent: `name`). synth-v2 uses
   * synth-v1's, so the two share photos, crops, motions and blurry images; only the
   * sharp targets differ.
   */
  seedName?: string;
}

/** synth-v1: from the real-photo set (43 photos, longest side 1280 like GoPro frames). */
export const SYNTH_V1: BenchmarkSpec = {
  name: "synth-v1",
  version: 1,
  source: "photos",
  testFraction: 0.25,
  samplesPerPhoto: 8,
  crop: 256,
  referenceSize: 1280,
  mode: "dynamic",
  noise: 0,
};

/**
 * synth-v2: synth-v1's samples with the sharp target at the centroid pose. synth-v1's target,
 * the middle frame, is about a tenth of the path length from the pose the blur is centred on;
 * a perfect deblurring to that pose scores only about 1 dB above the blurry input against the
 * middle frame (docs/data.md#the-synthetic-benchmark), which caps what any model can gain
 * there.
 */
export const SYNTH_V2: BenchmarkSpec = {
  ...SYNTH_V1,
  name: "synth-v2",
  version: 2,
  target: "centroid",
  seedName: SYNTH_V1.name,
};

/** synth-v1-quick: the same recipe on the committed fixtures (longest side 384), small crops. */
export const SYNTH_V1_QUICK: BenchmarkSpec = {
  name: "synth-v1-quick",
  version: 1,
  source: "fixtures",
  testFraction: 0.25,
  samplesPerPhoto: 2,
  crop: 128,
  referenceSize: 384,
  mode: "dynamic",
  noise: 0,
};

/** synth-v2-quick: synth-v1-quick's samples with the centroid target, as synth-v2. */
export const SYNTH_V2_QUICK: BenchmarkSpec = {
  ...SYNTH_V1_QUICK,
  name: "synth-v2-quick",
  version: 2,
  target: "centroid",
  seedName: SYNTH_V1_QUICK.name,
};

/**
 * The benchmark tasks use unless told otherwise (the shipped models' benchmark), and its
 * fixtures version. The ablations were run on synth-v1 (`deno task ablate` keeps it).
 */
export const DEFAULT_BENCHMARK = SYNTH_V2;
export const DEFAULT_QUICK_BENCHMARK = SYNTH_V2_QUICK;

export const BENCHMARKS: Record<string, BenchmarkSpec> = {
  [SYNTH_V1.name]: SYNTH_V1,
  [SYNTH_V2.name]: SYNTH_V2,
  [SYNTH_V1_QUICK.name]: SYNTH_V1_QUICK,
  [SYNTH_V2_QUICK.name]: SYNTH_V2_QUICK,
};

/**
 * The one command that prepares benchmark `name` on a fresh clone: the real-photo set first
 * (`deno task data`) when the benchmark is made from it, then the benchmark itself.
 */
export function prepareBenchmarkCommand(name: string): string {
  const make = name === DEFAULT_BENCHMARK.name
    ? "deno task data benchmark"
    : `deno task data benchmark --name ${name}`;
  return BENCHMARKS[name]?.source === "fixtures" ? make : `deno task data && ${make}`;
}

export async function sha256Text(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Split photo ids into test and train (see the module comment). Both lists sorted by id. */
export async function splitPhotos(
  spec: BenchmarkSpec,
  ids: readonly string[],
): Promise<{ train: string[]; test: string[] }> {
  if (new Set(ids).size !== ids.length) throw new Error("splitPhotos: duplicate photo ids");
  const keyed = await Promise.all(
    ids.map(async (id) => ({ id, h: await sha256Text(`${spec.seedName ?? spec.name}:${id}`) })),
  );
  keyed.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  const nTest = Math.min(ids.length - 1, Math.max(1, Math.ceil(ids.length * spec.testFraction)));
  const test = keyed.slice(0, nTest).map((k) => k.id).sort();
  const train = keyed.slice(nTest).map((k) => k.id).sort();
  return { train, test };
}

export interface SamplePlan {
  split: "train" | "test";
  photo: string;
  index: number;
  seed: string;
  /** Relative path of the frame file inside each of blur/, blur_gamma/, sharp/. */
  file: string;
}

/** Every sample of the benchmark, in a fixed order. */
export async function planBenchmark(
  spec: BenchmarkSpec,
  ids: readonly string[],
): Promise<SamplePlan[]> {
  if (ids.length < 2) {
    throw new Error(`benchmark ${spec.name} needs at least 2 photos, got ${ids.length}`);
  }
  const { train, test } = await splitPhotos(spec, ids);
  const out: SamplePlan[] = [];
  for (const [split, list] of [["train", train], ["test", test]] as const) {
    for (const photo of list) {
      for (let j = 0; j < spec.samplesPerPhoto; j++) {
        out.push({
          split,
          photo,
          index: j,
          seed: `${spec.seedName ?? spec.name}/${photo}/${j}`,
          file: `${String(j).padStart(6, "0")}.png`,
        });
      }
    }
  }
  return out;
}

/** Synthesis options of one sample, given the photo's size and a crop position in [0,1)^2. */
export function sampleOptions(
  spec: BenchmarkSpec,
  plan: SamplePlan,
  width: number,
  height: number,
  u: number,
  v: number,
): SynthOptions {
  const side = Math.min(spec.crop, width, height);
  return {
    seed: plan.seed,
    mode: spec.mode,
    noise: spec.noise,
    target: spec.target ?? "middle",
    referenceSize: spec.referenceSize,
    view: {
      x: Math.floor(u * (width - side + 1)),
      y: Math.floor(v * (height - side + 1)),
      width: side,
      height: side,
    },
  };
}
