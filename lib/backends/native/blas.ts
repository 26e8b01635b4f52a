/**
 * OpenBLAS through Deno's FFI: finds and opens the library, sets its thread count, and
 * wraps `cblas_sgemm` for row-major Float32Arrays (views with offsets are passed as they
 * are: Deno hands the native side a pointer to the view's first element, no copy).
 *
 * Deno-only (Deno.dlopen). Nothing outside lib/backends/native imports this file, so the browser
 * build of lib/ never sees it.
 */
import { InputError } from "../../data/errors.ts";
import { ffiDeno, libraryCandidates } from "./ffi.ts";

/** C = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X or X^T. */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

export interface Blas {
  /** The library file that was opened, e.g. "libopenblas.so.0". */
  library: string;
  /** OpenBLAS's build description (openblas_get_config), e.g. "OpenBLAS 0.3.21 ... SkylakeX". */
  config: string;
  /** The CPU kernel OpenBLAS chose (openblas_get_corename), e.g. "SkylakeX". */
  core: string;
  /** "sequential", "pthreads" or "openmp" (openblas_get_parallel). */
  parallel: string;
  /** Threads OpenBLAS now uses. */
  threads(): number;
  setThreads(n: number): void;
  sgemm: Gemm;
}

/** Thrown when OpenBLAS cannot be used; the message says how to install or allow it. */
/** An InputError: the machine lacks what was asked for, so the CLI reports one line, exit 2. */
export class NativeUnavailableError extends InputError {
  override name = "NativeUnavailableError";
}

export const INSTALL_HINT =
  "install OpenBLAS with `sudo apt-get install -y libopenblas0-pthread` (Debian/Ubuntu; " +
  "or `deno task setup:native`) and run Deno with --allow-ffi (or -A); " +
  "$SVRNN_OPENBLAS may name the library file";

/** Library names tried in order after $SVRNN_OPENBLAS. */
export const LIBRARY_CANDIDATES: readonly string[] = [
  "libopenblas.so.0",
  "libopenblas.so",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "libopenblas.dylib",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // m
      "i32", // n
      "i32", // k
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
  openblas_get_corename: { parameters: [], result: "pointer" },
  openblas_get_parallel: { parameters: [], result: "i32" },
} as const;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

let cached: Blas | null = null;

function cString(p: Deno.PointerValue): string {
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/**
 * Opens OpenBLAS once per process and sets its thread count (default: defaultThreads()). Throws NativeUnavailableError, naming what was tried and
 * how to install it, when no library can be opened or FFI is not permitted.
 */
export function loadBlas(threads?: number): Blas {
  if (cached) {
    if (threads !== undefined) cached.setThreads(threads);
    return cached;
  }
  const deno = ffiDeno("native backend", (m) => new NativeUnavailableError(m));
  const tried: string[] = [];
  for (const name of libraryCandidates(deno, "SVRNN_OPENBLAS", LIBRARY_CANDIDATES)) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = deno.dlopen(name, SYMBOLS);
    } catch (e) {
      const err = e as Error;
      if (err.name === "NotCapable" || err.name === "PermissionDenied") {
        throw new NativeUnavailableError(
          `native backend: FFI is not permitted (${err.message.split("\n")[0]}); ` +
            `run Deno with --allow-ffi (or -A)`,
        );
      }
      tried.push(`${name} (${err.message.replace(/^(Could not open library: )+/, "")})`);
      continue;
    }
    const s = lib.symbols;
    const parallel = ["sequential", "pthreads", "openmp"][s.openblas_get_parallel()] ?? "unknown";
    const blas: Blas = {
      library: name,
      config: cString(s.openblas_get_config()).trim(),
      core: cString(s.openblas_get_corename()).trim(),
      parallel,
      threads: () => s.openblas_get_num_threads(),
      setThreads: (n: number) => {
        if (!Number.isInteger(n) || n < 1) {
          throw new Error(`native backend: threads must be a positive integer, got ${n}`);
        }
        s.openblas_set_num_threads(n);
      },
      sgemm: (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
          // BLAS leaves C alone for k = 0 except for the beta scaling.
          if (beta === 0) {
            for (let i = 0; i < m; i++) c.fill(0, i * ldc, i * ldc + n);
          } else if (beta !== 1) {
            for (let i = 0; i < m; i++) {
              for (let j = i * ldc; j < i * ldc + n; j++) c[j] *= beta;
            }
          }
          return;
        }
        s.cblas_sgemm(
          ROW_MAJOR,
          transA ? TRANS : NO_TRANS,
          transB ? TRANS : NO_TRANS,
          m,
          n,
          k,
          alpha,
          a,
          lda,
          b,
          ldb,
          beta,
          c,
          ldc,
        );
      },
    };
    blas.setThreads(threads ?? defaultThreads());
    cached = blas;
    return blas;
  }
  throw new NativeUnavailableError(
    `native backend: cannot open OpenBLAS; tried ${tried.join("; ")}. To use it, ${INSTALL_HINT}`,
  );
}

/**
 * $OPENBLAS_NUM_THREADS when it is a positive integer, else the logical CPUs this process
 * may use (navigator.hardwareConcurrency), at least 1. Honouring the variable matters when
 * several processes share the machine: OpenBLAS threads spin while they wait, so two
 * processes with two threads each on two cores ran several times slower than pinned.
 */
export function defaultThreads(): number {
  let fromEnv: string | undefined;
  try {
    fromEnv = (globalThis as { Deno?: typeof Deno }).Deno?.env.get("OPENBLAS_NUM_THREADS");
  } catch {
    fromEnv = undefined; // no env permission: fall back to the CPU count
  }
  if (fromEnv !== undefined && /^[1-9][0-9]*$/.test(fromEnv.trim())) return Number(fromEnv);
  const n = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}

/** The OpenBLAS already opened by loadBlas, or null. */
export function loadedBlas(): Blas | null {
  return cached;
}
