/**
 * What the native backend's two FFI libraries (OpenBLAS in blas.ts, oneDNN in dnnl.ts) share:
 * Deno's FFI, checked before use, and the files to try opening, which an environment
 * variable may replace with one path.
 */

/** `Deno` when it has FFI; else throws what `unavailable` makes of the message. */
export function ffiDeno(who: string, unavailable: (message: string) => Error): typeof Deno {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (!deno || typeof deno.dlopen !== "function") {
    throw unavailable(`${who}: needs Deno's FFI (Deno.dlopen), which this runtime does not have`);
  }
  return deno;
}

/** The file named by `$envVar` when it is set (and readable), else `defaults`. */
export function libraryCandidates(
  deno: typeof Deno,
  envVar: string,
  defaults: readonly string[],
): string[] {
  let fromEnv: string | undefined;
  try {
    fromEnv = deno.env.get(envVar);
  } catch {
    fromEnv = undefined; // no --allow-env
  }
  return fromEnv ? [fromEnv] : [...defaults];
}
