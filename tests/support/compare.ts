/** Deterministic test inputs and the relative-error measure the backend tests share. */
import assert from "node:assert/strict";

/** Deterministic values in [-0.5, 0.5). */
export function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** max|a-b| / max|b|: the error relative to the reference's scale (NaN counts as infinite). */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, "lengths differ");
  let diff = 0, scale = 1e-30;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/** The native backends' bound against tfjs's cpu kernels (relError). */
export const BACKEND_TOLERANCE = 1e-4;

/** Fails, naming `what`, when relError(actual, expected) exceeds `tolerance`. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tolerance = BACKEND_TOLERANCE,
): void {
  const e = relError(actual, expected);
  assert.ok(e <= tolerance, `${what}: relative error ${e.toExponential(2)} > ${tolerance}`);
}
