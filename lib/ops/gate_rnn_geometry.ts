/**
 * Index arithmetic shared by every backend's gate-recurrent kernel.
 *
 * An NHWC tensor scanned along W or H is, in memory, `outer` independent blocks of
 * `steps` consecutive slices, each slice a contiguous run of `inner` floats:
 *
 *   horizontal (along W): outer = N*H, steps = W, inner = C,     stepStride = C
 *   vertical   (along H): outer = N,   steps = H, inner = W*C,   stepStride = W*C
 *
 * so one loop shape serves all four directions without transposing anything, and the
 * innermost loop always walks contiguous memory (the SIMD and GPU-coalescing axis).
 */

/** The four scan directions of the paper's spatially variant RNN. */
export type Direction = "left-right" | "right-left" | "top-bottom" | "bottom-top";

export const DIRECTIONS: readonly Direction[] = [
  "left-right",
  "right-left",
  "top-bottom",
  "bottom-top",
];

export interface ScanGeometry {
  /** Number of independent blocks (rows for a horizontal scan, images for a vertical one). */
  outer: number;
  /** Floats between the starts of consecutive blocks. */
  outerStride: number;
  /** Length of the recursion (W or H). */
  steps: number;
  /** Floats between consecutive recursion steps. */
  stepStride: number;
  /** Contiguous floats updated together at one step. */
  inner: number;
  /** True when the recursion runs from the last index to the first. */
  reverse: boolean;
}

export function isDirection(d: unknown): d is Direction {
  return typeof d === "string" && (DIRECTIONS as readonly string[]).includes(d);
}

export function scanGeometry(shape: readonly number[], direction: Direction): ScanGeometry {
  const [n, h, w, c] = shape;
  const reverse = direction === "right-left" || direction === "bottom-top";
  if (direction === "left-right" || direction === "right-left") {
    return { outer: n * h, outerStride: w * c, steps: w, stepStride: c, inner: c, reverse };
  }
  return { outer: n, outerStride: h * w * c, steps: h, stepStride: w * c, inner: w * c, reverse };
}
