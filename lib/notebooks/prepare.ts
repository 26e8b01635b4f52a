/**
 * What the notebooks read from data/ before `deno task reproduce` (non-quick) runs them,
 * made here with the library functions behind `deno task data` and
 * `deno task data benchmark` (Deno-only):
 *
 * - the real-photo set `data/photos/` (`fetchPhotoSet`: apt-get download + dpkg-deb), kept
 *   when it verifies against its manifest;
 * - the benchmarks the notebooks show (`NOTEBOOK_BENCHMARKS`: synth-v2, the shipped models'
 *   benchmark, rendered from the photos; synth-v2-quick from the committed fixtures), kept
 *   when their manifest matches the committed one in data/fixtures/benchmarks/.
 *
 * Nothing here throws for missing data: what could not be made is returned in `problems`
 * (one line each, saying what to run), so the notebooks that need it run anyway and report
 * themselves degraded (lib/notebooks/degraded.ts).
 */
import {
  BENCHMARKS,
  type BenchmarkSpec,
  DEFAULT_BENCHMARK,
  DEFAULT_QUICK_BENCHMARK,
  prepareBenchmarkCommand,
} from "../data/benchmark.ts";
import { compareManifests, generateBenchmark, readManifest } from "../data/benchmark_io.ts";
import { exists } from "../data/image_io.ts";
import { PHOTO_MAX_SIDE, PHOTO_SET } from "../data/photos.ts";
import { aptHelp, fetchPhotoSet, verifyPhotoSet } from "../data/photos_fetch.ts";
import { repoRoot } from "../records/paths.ts";

/** The benchmarks the notebooks read (03 and 05 show synth-v2; the live runs use the quick one). */
export const NOTEBOOK_BENCHMARKS: readonly BenchmarkSpec[] = [
  DEFAULT_BENCHMARK,
  DEFAULT_QUICK_BENCHMARK,
];

export interface PrepareOptions {
  /** Repository root (default: found from the cwd). */
  root?: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (msg: string) => void;
  /** Benchmarks to make (default NOTEBOOK_BENCHMARKS). */
  benchmarks?: readonly BenchmarkSpec[];
}

export interface PrepareReport {
  /** "not needed" when no benchmark to make reads the photos. */
  photos: "present" | "fetched" | "missing" | "not needed";
  benchmarks: { name: string; status: "present" | "generated" | "missing" | "differs" }[];
  /** One line per thing that could not be made, saying what to run. */
  problems: string[];
}

/** Makes sure data/photos and the notebooks' benchmarks are on disk (see the module comment). */
export async function prepareNotebookData(opts: PrepareOptions = {}): Promise<PrepareReport> {
  const root = opts.root ?? repoRoot();
  const progress = opts.progress ?? (() => {});
  const photosDir = `${root}/data/photos`;
  const fixturesDir = `${root}/data/fixtures`;
  const out = `${root}/data/benchmarks`;
  const report: PrepareReport = { photos: "not needed", benchmarks: [], problems: [] };
  const specs = opts.benchmarks ?? NOTEBOOK_BENCHMARKS;

  if (specs.some((s) => s.source === "photos")) {
    let verified = false;
    if (await exists(`${photosDir}/manifest.json`)) {
      const v = await verifyPhotoSet(photosDir);
      verified = v.problems.length === 0;
      if (verified) progress(`prepare: data/photos: ${v.photos} photos, verified`);
      else progress(`prepare: data/photos fails verification (${v.problems[0]}); fetching again`);
    }
    report.photos = verified ? "present" : "missing";
    if (!verified) {
      progress("prepare: data/photos: fetching the real-photo set (as `deno task data`)");
      try {
        const m = await fetchPhotoSet({
          dest: photosDir,
          packages: PHOTO_SET,
          maxSide: PHOTO_MAX_SIDE,
          log: (l) => progress(`prepare: ${l}`),
        });
        const v = await verifyPhotoSet(photosDir);
        if (v.problems.length) throw new Error(`verification failed: ${v.problems[0]}`);
        progress(`prepare: data/photos: ${m.photos.length} photos written`);
        report.photos = "fetched";
      } catch (e) {
        const apt = (e as { aptUnavailable?: boolean }).aptUnavailable;
        report.problems.push(
          `data/photos: ${
            apt ? aptHelp(PHOTO_SET.map((p) => p.package)) : (e as Error).message
          } (make it with \`deno task data\`)`,
        );
      }
    }
  }

  for (const spec of specs) {
    const dir = `${out}/${spec.name}`;
    const rel = `data/benchmarks/${spec.name}`;
    const committedPath = `${fixturesDir}/benchmarks/${spec.name}.json`;
    const committed = (await exists(committedPath)) ? await readManifest(committedPath) : null;
    if (await exists(`${dir}/manifest.json`)) {
      const same = !committed ||
        compareManifests(committed, await readManifest(`${dir}/manifest.json`)).same;
      if (same) {
        progress(`prepare: ${rel}: present${committed ? ", matches its committed manifest" : ""}`);
        report.benchmarks.push({ name: spec.name, status: "present" });
      } else {
        report.benchmarks.push({ name: spec.name, status: "differs" });
        report.problems.push(
          `${rel} differs from data/fixtures/benchmarks/${spec.name}.json: ` +
            `remake it with \`${prepareBenchmarkCommand(spec.name)}\``,
        );
      }
      continue;
    }
    if (spec.source === "photos" && report.photos === "missing") {
      report.benchmarks.push({ name: spec.name, status: "missing" });
      report.problems.push(
        `${rel}: needs data/photos (then \`${prepareBenchmarkCommand(spec.name)}\`)`,
      );
      continue;
    }
    progress(`prepare: ${rel}: rendering (as \`${prepareBenchmarkCommand(spec.name)}\`)`);
    const t0 = performance.now();
    try {
      const m = await generateBenchmark(BENCHMARKS[spec.name] ?? spec, {
        out,
        photosDir,
        fixturesDir,
        log: (l) => progress(`prepare: ${l}`),
      });
      progress(
        `prepare: ${rel}: ${m.counts.train} train + ${m.counts.test} test pairs (${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s)`,
      );
      if (committed && !compareManifests(committed, m).same) {
        report.benchmarks.push({ name: spec.name, status: "differs" });
        report.problems.push(
          `${rel} was rendered but differs from data/fixtures/benchmarks/${spec.name}.json`,
        );
      } else report.benchmarks.push({ name: spec.name, status: "generated" });
    } catch (e) {
      report.benchmarks.push({ name: spec.name, status: "missing" });
      report.problems.push(`${rel}: ${(e as Error).message}`);
    }
  }
  return report;
}
