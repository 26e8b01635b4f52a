/**
 * The "native" tfjs backend: tfjs-backend-cpu's MathBackendCPU under another name, with
 * every cpu kernel available to it and the convolution and matrix-product kernels
 * replaced by OpenBLAS calls through Deno's FFI (kernels.ts).
 *
 * Usage: `await initNativeBackend()` (opens OpenBLAS, registers, selects the backend),
 * or `registerNativeBackend()` then `tf.setBackend("native")`. Both throw one clear Error
 * (NativeUnavailableError) when OpenBLAS or FFI is unavailable; nothing else changes then.
 *
 * Deno-only, and imported only from lib/backends/native and Deno entry points: lib/ops and
 * lib/models never import it, so the browser build is untouched.
 */
import * as tf from "@tensorflow/tfjs";
import "../../ops/gate_rnn.ts"; // registers the gate-recurrent kernels for "cpu" (shared below)
// Fixes cpu kernels the kit trains through (ResizeBilinearGrad with half-pixel centres and
// non-square images) and adds DepthToSpace's gradient; "native" runs the cpu kernels.
import "../wasm_train_kernels.ts";
import { type Blas, loadBlas, NativeUnavailableError } from "./blas.ts";
import { cpuKernel, NATIVE_KERNELS, nativeSettings } from "./kernels.ts";
import { releaseScratch } from "./conv.ts";
import { dnnlAvailable } from "./dnnl.ts";
import { releaseDnnlScratch } from "./dnnl_conv.ts";
import { JS_KERNELS } from "./js_kernels.ts";
import { GATE_KERNELS } from "./gate_kernels.ts";
import { bufferPool, watchBackend } from "./pool.ts";

export { NativeUnavailableError };
export { bufferPool };

export const NATIVE_BACKEND = "native";

export interface NativeInfo {
  /** The OpenBLAS file opened, e.g. "libopenblas.so.0". */
  library: string;
  /** OpenBLAS threads in use. */
  threads: number;
  /** OpenBLAS's build line and the kernel it picked, e.g. "OpenBLAS 0.3.21 ... (SkylakeX)". */
  openblas: string;
  /** OpenBLAS threading model: "pthreads", "openmp" or "sequential". */
  parallel: string;
  /**
   * The CPU kernel OpenBLAS picked (e.g. "Haswell", "SkylakeX"; $OPENBLAS_CORETYPE sets it):
   * two kernels round differently, so a run reproduces to the last bit only on the same one.
   */
  core: string;
}

export interface NativeOptions {
  /** OpenBLAS threads (default navigator.hardwareConcurrency). */
  threads?: number;
  /** Scratch budget of one convolution chunk, bytes (default 8 MiB). */
  chunkBytes?: number;
  /** Most bytes of freed tensor buffers kept for reuse (default: 256 MiB or a quarter of the live
   * tensor bytes, whichever is more; 0: no reuse). */
  poolBytes?: number;
}

/** Every kernel "native" has of its own: OpenBLAS ones, then faster TypeScript ones. */
const OWN_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  ...NATIVE_KERNELS,
  ...JS_KERNELS,
  ...GATE_KERNELS,
};

/** Kernel names overridden with OpenBLAS implementations. */
export const NATIVE_KERNEL_NAMES: readonly string[] = Object.keys(NATIVE_KERNELS);

/** Kernel names overridden with faster TypeScript than the cpu backend's. */
export const JS_KERNEL_NAMES: readonly string[] = Object.keys(JS_KERNELS);

/**
 * A kernel that runs the cpu backend's kernel of the same name, looked up at call time, so
 * a cpu kernel replaced later (lib/ops does that for fixes) is the one used here too.
 */
function sharedCpuKernel(name: string): tf.KernelFunc {
  return (args) => cpuKernel(name)(args);
}

/** Registers, for "native", every cpu kernel it does not have yet; returns how many. */
export function syncCpuKernels(): number {
  let added = 0;
  for (const k of tf.getKernelsForBackend("cpu")) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND) !== undefined) continue;
    const own = OWN_KERNELS[k.kernelName];
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: NATIVE_BACKEND,
      kernelFunc: own ?? sharedCpuKernel(k.kernelName),
    });
    added++;
  }
  for (const [kernelName, kernelFunc] of Object.entries(OWN_KERNELS)) {
    if (tf.getKernel(kernelName, NATIVE_BACKEND) === undefined) {
      tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc });
      added++;
    }
  }
  return added;
}

function describe(blas: Blas): NativeInfo {
  return {
    library: blas.library,
    core: blas.core,
    threads: blas.threads(),
    openblas: `${blas.config}${blas.core ? ` (${blas.core})` : ""}`,
    parallel: blas.parallel,
  };
}

/**
 * Training mode of the buffer pool. On, it may keep as many freed bytes as the peak of live
 * tensor bytes, so the arrays of one training step serve the next (at batch 20 of 128x128 an
 * `svrnn` step went from 13-14.6 s to 10.5-11.7 s, its page faults from 1.2-3 GiB to almost
 * none, resident memory unchanged). Off (the default), the bound is a quarter of the live
 * bytes: with the peak bound, one 1280x720 forward peaked at 2.1 GiB instead of 1.7.
 */
export function setTrainingPool(on: boolean): void {
  bufferPool.peakFraction = on ? 1 : 0;
  bufferPool.resetPeak();
}

/**
 * Opens OpenBLAS and registers the "native" backend and its kernels (idempotent; later
 * calls add cpu kernels registered since). Does not select the backend. Throws
 * NativeUnavailableError with install instructions when OpenBLAS cannot be opened.
 */
export function registerNativeBackend(options: NativeOptions = {}): NativeInfo {
  const blas = loadBlas(options.threads);
  nativeSettings.blas = blas;
  if (options.chunkBytes !== undefined) {
    if (!(options.chunkBytes >= 4096)) {
      throw new Error(`native backend: chunkBytes must be >= 4096, got ${options.chunkBytes}`);
    }
    nativeSettings.chunkBytes = options.chunkBytes;
  }
  if (options.poolBytes !== undefined) {
    if (!(options.poolBytes >= 0)) {
      throw new Error(`native backend: poolBytes must be >= 0, got ${options.poolBytes}`);
    }
    bufferPool.limitBytes = options.poolBytes;
    if (options.poolBytes === 0) bufferPool.clear();
  }
  if (tf.findBackendFactory(NATIVE_BACKEND) === null) {
    const cpuFactory = tf.findBackendFactory("cpu");
    if (cpuFactory === null) {
      throw new Error(
        "native backend: tfjs-backend-cpu is not registered (import @tensorflow/tfjs)",
      );
    }
    // A MathBackendCPU whose freed arrays return to the buffer pool. Priority 0: never
    // picked by tfjs on its own, only when asked for by name.
    tf.registerBackend(NATIVE_BACKEND, () => {
      const backend = cpuFactory();
      watchBackend(backend as unknown as Parameters<typeof watchBackend>[0], bufferPool);
      return backend;
    }, 0);
  }
  syncCpuKernels();
  return describe(blas);
}

/**
 * Opens OpenBLAS, registers the "native" backend and makes it the current tfjs backend.
 * Throws NativeUnavailableError (one line: what failed and how to install OpenBLAS) when
 * the library cannot be opened or Deno lacks --allow-ffi; the current backend is then
 * unchanged.
 */
export async function initNativeBackend(options: NativeOptions = {}): Promise<NativeInfo> {
  const info = registerNativeBackend(options);
  const ok = await tf.setBackend(NATIVE_BACKEND);
  if (!ok) throw new Error("native backend: tfjs could not initialise it");
  await tf.ready();
  return info;
}

/**
 * Drops the native backend's reusable memory: pooled tensor buffers and convolution
 * scratch (it is garbage-collected afterwards).
 */
export function releaseNativeMemory(): void {
  bufferPool.clear();
  releaseScratch();
  releaseDnnlScratch();
}

/** True when OpenBLAS can be opened here (the reason is discarded). */
export function nativeAvailable(): boolean {
  try {
    loadBlas();
    return true;
  } catch (e) {
    if (e instanceof NativeUnavailableError) return false;
    throw e;
  }
}

/**
 * Which library the convolutions run on: OpenBLAS, oneDNN, or oneDNN per shape where the
 * committed table measured it faster ("table").
 */
export function convPath(): "openblas" | "dnnl" | "table" {
  if (nativeSettings.conv === "openblas" || !dnnlAvailable()) return "openblas";
  return nativeSettings.conv === "dnnl" ? "dnnl" : "table";
}

/** convPath in words, for describeNative. */
function convLibrary(): string {
  const path = convPath();
  return path === "openblas"
    ? "convs: OpenBLAS"
    : path === "dnnl"
    ? "convs: oneDNN"
    : "convs: oneDNN where results/bench/dnnl_conv.json measured it faster, else OpenBLAS";
}

/**
 * One line for logs and provenance, e.g. "native (OpenBLAS 0.3.21 ..., 2 threads; convs:
 * oneDNN where ...; other ops: tfjs cpu)".
 */
export function describeNative(info: NativeInfo): string {
  return `native (${info.openblas}, ${info.parallel}, ${info.threads} thread${
    info.threads === 1 ? "" : "s"
  }; ${convLibrary()}; other ops: tfjs cpu)`;
}
