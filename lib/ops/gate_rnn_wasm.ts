/**
 * Gate-recurrent kernels for tfjs's wasm backend.
 *
 * The scans are WebAssembly SIMD (wasm/gate_scan.as.ts) instantiated on the backend's own
 * memory, so they read x and g and write y where tfjs keeps them, with no copies. Where
 * that is impossible (a shared-memory threaded build, or an engine without wasm SIMD) the
 * same loops run in TypeScript over views of the heap.
 */
import * as tf from "@tensorflow/tfjs";
import type { Direction } from "./gate_rnn_geometry.ts";
import { scanGeometry } from "./gate_rnn_geometry.ts";
import { GATE_RECURRENT, GATE_RECURRENT_GRAD } from "./gate_rnn_names.ts";
import { scanBackward, scanForward } from "./gate_rnn_cpu.ts";
import { decodeBase64 } from "./wasm/base64.ts";
import { GATE_SCAN_WASM_BASE64 } from "./wasm/gate_scan_wasm.ts";

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackend {
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  wasm: {
    HEAPF32: Float32Array;
    asm: { memory: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
}

interface GateScanExports {
  scan_forward(x: number, g: number, y: number, ...geometry: number[]): void;
  scan_backward(
    dy: number,
    x: number,
    g: number,
    y: number,
    dx: number,
    dg: number,
    carry: number,
    ...geometry: number[]
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;
const instances = new WeakMap<WebAssembly.Memory, GateScanExports | null>();

/** The SIMD scan module bound to this backend's heap, or null to use the TS fallback. */
export function simdScans(backend: WasmBackend): GateScanExports | null {
  const memory = backend.wasm.asm.memory;
  if (instances.has(memory)) return instances.get(memory)!;
  let exports: GateScanExports | null = null;
  try {
    if (compiled === undefined) {
      const bytes = decodeBase64(GATE_SCAN_WASM_BASE64);
      compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    }
    if (compiled && !(memory.buffer instanceof SharedArrayBuffer)) {
      const instance = new WebAssembly.Instance(compiled, { env: { memory } });
      exports = instance.exports as unknown as GateScanExports;
    }
  } catch {
    exports = null;
  }
  instances.set(memory, exports);
  return exports;
}

function offset(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

function geometryArgs(shape: number[], direction: Direction): number[] {
  const s = scanGeometry(shape, direction);
  return [s.outer, s.outerStride, s.steps, s.stepStride, s.inner, s.reverse ? 1 : 0];
}

/** A Float32Array view of a tensor in the heap (taken after every allocation: the heap may grow). */
function view(backend: WasmBackend, t: tf.TensorInfo): Float32Array {
  const start = offset(backend, t) / 4;
  return backend.wasm.HEAPF32.subarray(start, start + tf.util.sizeFromShape(t.shape));
}

tf.registerKernel({
  kernelName: GATE_RECURRENT,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, g } = inputs as { x: tf.TensorInfo; g: tf.TensorInfo };
    const b = backend as unknown as WasmBackend;
    const direction = attrs!.direction as Direction;
    const y = b.makeOutput(x.shape, "float32");
    if (tf.util.sizeFromShape(x.shape) === 0) return y;
    const simd = simdScans(b);
    if (simd) {
      simd.scan_forward(
        offset(b, x),
        offset(b, g),
        offset(b, y),
        ...geometryArgs(x.shape, direction),
      );
    } else {
      scanForward(view(b, x), view(b, g), view(b, y), x.shape, direction);
    }
    return y;
  },
});

tf.registerKernel({
  kernelName: GATE_RECURRENT_GRAD,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x, g, y } = inputs as Record<string, tf.TensorInfo>;
    const b = backend as unknown as WasmBackend;
    const direction = attrs!.direction as Direction;
    const dx = b.makeOutput(x.shape, "float32");
    const dg = b.makeOutput(x.shape, "float32");
    if (tf.util.sizeFromShape(x.shape) === 0) return [dx, dg];
    const simd = simdScans(b);
    if (simd) {
      const carry = b.wasm._malloc(scanGeometry(x.shape, direction).inner * 4);
      try {
        simd.scan_backward(
          offset(b, dy),
          offset(b, x),
          offset(b, g),
          offset(b, y),
          offset(b, dx),
          offset(b, dg),
          carry,
          ...geometryArgs(x.shape, direction),
        );
      } finally {
        b.wasm._free(carry);
      }
    } else {
      const [vdy, vx, vg, vy] = [dy, x, g, y].map((t) => view(b, t));
      scanBackward(vdy, vx, vg, vy, view(b, dx), view(b, dg), x.shape, direction);
    }
    return [dx, dg];
  },
});
