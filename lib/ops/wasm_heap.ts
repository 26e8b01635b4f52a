/**
 * Direct access to tfjs-backend-wasm's heap and kernels, for kernels written in TypeScript:
 * the wasm training kernels (lib/backends/wasm_train), the fused activation gradient
 * (fused_conv.ts) and the Adam update (lib/train/adam.ts). It sits in ops, the lowest layer
 * that writes kernels, so that all three read it downward.
 *
 * The training kernels call the backend's own kernel functions (XNNPACK convolutions, SIMD
 * element-wise ops) rather than tf.* ops: inside a kernel the engine's tape and scopes
 * must not be touched, and the kernel functions skip the engine's bookkeeping.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * The parts of tfjs-backend-wasm's BackendWasm these kernels use. Declared here because
 * the package's own declaration types the heap through @types/emscripten, which it does
 * not ship.
 */
export interface BackendWasm {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  numDataIds(): number;
}

/** The current backend as a BackendWasm; throws when another backend is active. */
export function currentWasmBackend(): BackendWasm {
  if (tf.getBackend() !== "wasm") throw new Error(`needs the wasm backend, not ${tf.getBackend()}`);
  return tf.backend() as unknown as BackendWasm;
}

export type Attrs = Record<string, unknown>;

/** A shipped wasm kernel by name; throws if tfjs-backend-wasm did not register it. */
export function wasmKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, "wasm");
  if (config === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  return config.kernelFunc;
}

/** Runs a wasm kernel function on TensorInfos; the caller owns (and disposes) the result. */
export function runKernel(
  backend: BackendWasm,
  name: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Attrs,
): tf.TensorInfo {
  const out = wasmKernel(name)({
    inputs,
    backend: backend as unknown as tf.KernelBackend,
    attrs: attrs as tf.NamedAttrMap,
  });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return out;
}

/**
 * The heap as float32. Re-read after every allocation: a malloc that grows the wasm
 * memory detaches the previous view.
 */
export function heapF32(backend: BackendWasm): Float32Array {
  return backend.wasm.HEAPF32;
}

/** Index of a float32 tensor's first element in heapF32. */
export function f32Offset(backend: BackendWasm, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error("tensor is not on the wasm backend");
  return data.memoryOffset >>> 2;
}

/** A fresh float32 tensor; its memory is uninitialised (malloc). */
export function allocF32(backend: BackendWasm, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, "float32");
}

/** The same data under another shape, without a copy; never dispose the view itself. */
export function reshaped(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function disposeAll(backend: BackendWasm, ts: Iterable<tf.TensorInfo | null>): void {
  for (const t of ts) if (t !== null) backend.disposeData(t.dataId);
}

/** Rejects what the float32-only loops in these kernels cannot read. */
export function assertFloat32(kernel: string, ts: Record<string, tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(ts)) {
    if (t.dtype !== "float32") {
      throw new Error(`${kernel} (wasm): ${name} must be float32, got ${t.dtype}`);
    }
  }
}

/** Copies n floats inside the heap; short runs are faster as a loop than as a native call. */
export function copyRun(heap: Float32Array, dst: number, src: number, n: number): void {
  if (n >= 32) {
    heap.copyWithin(dst, src, src + n);
  } else {
    for (let k = 0; k < n; k++) heap[dst + k] = heap[src + k];
  }
}
