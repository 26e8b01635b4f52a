/**
 * Float64 reference of the gate recursion, written independently of lib/ops (explicit
 * n, h, w, c loops rather than the kernels' block geometry), for the kernel tests.
 */
import type { Direction } from "#lib/ops/gate_rnn.ts";

export function referenceScan(
  x: ArrayLike<number>,
  g: ArrayLike<number>,
  shape: readonly number[],
  direction: Direction,
): Float64Array {
  const [N, H, W, C] = shape;
  const y = new Float64Array(N * H * W * C);
  const at = (n: number, h: number, w: number, c: number) => ((n * H + h) * W + w) * C + c;
  const horizontal = direction === "left-right" || direction === "right-left";
  const reverse = direction === "right-left" || direction === "bottom-top";
  const L = horizontal ? W : H;
  const M = horizontal ? H : W;
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      for (let c = 0; c < C; c++) {
        let hPrev = 0;
        for (let s = 0; s < L; s++) {
          const t = reverse ? L - 1 - s : s;
          const i = horizontal ? at(n, m, t, c) : at(n, t, m, c);
          hPrev = (1 - g[i]) * x[i] + g[i] * hPrev;
          y[i] = hPrev;
        }
      }
    }
  }
  return y;
}

/** Small seeded PRNG so test inputs are the same on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
