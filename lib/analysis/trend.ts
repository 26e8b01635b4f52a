/**
 * How fast a training run was still improving: a least-squares line of a metric against
 * log2(step), whose slope is the metric's change per doubling of the steps. Validation PSNR
 * of the shipped runs is close to such a line over most of a run, so the slope answers "what
 * would twice the budget buy" better than the last few points do. It is an extrapolation of
 * one learning-rate schedule (a run with twice the steps decays its rate more slowly), not a
 * prediction.
 */

export interface LogTrend {
  /** Change of y per doubling of x (the slope against log2 x). */
  perDoubling: number;
  /** y of the line at x = 1. */
  intercept: number;
  /** Coefficient of determination of the fit (1 = every point on the line). */
  r2: number;
  /** Points used. */
  n: number;
}

/** Fits y = intercept + perDoubling * log2(x) over the points with x >= minX (x > 0 always). */
export function logTrend(x: ArrayLike<number>, y: ArrayLike<number>, minX = 0): LogTrend {
  if (x.length !== y.length) {
    throw new Error(`logTrend: ${x.length} x values but ${y.length} y values`);
  }
  const lx: number[] = [], ly: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] > 0 && x[i] >= minX && Number.isFinite(y[i])) {
      lx.push(Math.log2(x[i]));
      ly.push(y[i]);
    }
  }
  const n = lx.length;
  if (n < 2) throw new Error(`logTrend: ${n} usable point(s), need at least 2`);
  const mx = lx.reduce((a, b) => a + b, 0) / n;
  const my = ly.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i] - mx) ** 2;
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) ** 2;
  }
  if (sxx === 0) throw new Error("logTrend: every point has the same x");
  const perDoubling = sxy / sxx;
  return {
    perDoubling,
    intercept: my - perDoubling * mx,
    r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy),
    n,
  };
}

/** The line's y at x. */
export function trendAt(t: LogTrend, x: number): number {
  return t.intercept + t.perDoubling * Math.log2(x);
}
