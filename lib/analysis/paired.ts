/**
 * Can two models be told apart on the same test images? Per-image PSNR of two models on
 * the same inputs is strongly correlated (hard images are hard for both), so the useful
 * statistic is the per-image difference: its mean, a percentile-bootstrap confidence
 * interval of that mean (images resampled with replacement, seeded), and how many images
 * each model wins. An interval that contains 0 says the test set cannot rank the two.
 */
import { Rng } from "../data/prng.ts";
import { quantileSorted } from "../eval/stats.ts";

export interface PairedDifference {
  /** Mean of a[i] - b[i]. */
  mean: number;
  /** Lower and upper ends of the bootstrap interval of the mean. */
  lo: number;
  hi: number;
  /** Confidence level of [lo, hi]. */
  level: number;
  /** Images where a is higher, lower, equal (within `tieTolerance`). */
  wins: number;
  losses: number;
  ties: number;
  /** Images compared. */
  n: number;
}

export interface PairedOptions {
  /** Bootstrap resamples (default 10,000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Seed of the resampling (default 0): the same inputs give the same interval. */
  seed?: number;
  /** |a - b| at or below this counts as a tie (default 1e-9). */
  tieTolerance?: number;
}

/** The paired difference a - b of two per-image metrics listed in the same image order. */
export function pairedDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: PairedOptions = {},
): PairedDifference {
  if (a.length !== b.length) {
    throw new Error(`pairedDifference: ${a.length} values against ${b.length}`);
  }
  const n = a.length;
  if (n === 0) throw new Error("pairedDifference: no values");
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`pairedDifference: level ${level} not in (0, 1)`);
  const resamples = opts.resamples ?? 10_000;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new Error(`pairedDifference: resamples ${resamples} is not a positive integer`);
  }
  const tol = opts.tieTolerance ?? 1e-9;
  const d = new Float64Array(n);
  let sum = 0, wins = 0, losses = 0;
  for (let i = 0; i < n; i++) {
    d[i] = a[i] - b[i];
    if (!Number.isFinite(d[i])) throw new Error(`pairedDifference: value ${i} is not finite`);
    sum += d[i];
    if (d[i] > tol) wins++;
    else if (d[i] < -tol) losses++;
  }
  const rng = new Rng(opts.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return {
    mean: sum / n,
    lo: quantileSorted(means, tail),
    hi: quantileSorted(means, 1 - tail),
    level,
    wins,
    losses,
    ties: n - wins - losses,
    n,
  };
}

/**
 * Which side the interval puts ahead: 1 when all of it is above 0 (a ahead), -1 when all of
 * it is below, 0 when it contains 0 (the test set does not rank the two).
 */
export function resolvedSign(d: PairedDifference): -1 | 0 | 1 {
  return d.lo > 0 ? 1 : d.hi < 0 ? -1 : 0;
}

/**
 * `pairedDifference` of a metric over the images two result lists share, matched by name
 * (the lists may be in any order); null when they share none.
 */
export function pairedByName<T extends { name: string }>(
  a: readonly T[],
  b: readonly T[],
  value: (r: T) => number,
  opts: PairedOptions = {},
): PairedDifference | null {
  const byName = new Map(b.map((r) => [r.name, value(r)]));
  const shared = a.filter((r) => byName.has(r.name));
  if (shared.length === 0) return null;
  return pairedDifference(shared.map(value), shared.map((r) => byName.get(r.name)!), opts);
}
