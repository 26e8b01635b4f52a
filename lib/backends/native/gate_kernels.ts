/**
 * The gate-recurrent scan kernels for the "native" backend: the cpu backend's TypeScript
 * loops (lib/ops/gate_rnn_cpu.ts, `scanForward`/`scanBackward`), reading the backend's
 * arrays directly and writing into pooled ones. (The WebAssembly SIMD scan of
 * gate_rnn_wasm.ts needs its data inside a WebAssembly.Memory; copying x, g and y in and
 * out would cost about what the SIMD loop saves, so the TypeScript loops are used.)
 */
import * as tf from "@tensorflow/tfjs";
import type { Direction } from "../../ops/gate_rnn_geometry.ts";
import { GATE_RECURRENT, GATE_RECURRENT_GRAD } from "../../ops/gate_rnn_names.ts";
import { scanBackward, scanForward } from "../../ops/gate_rnn_cpu.ts";
import type { CpuLikeBackend } from "./kernels.ts";
import { bufferPool } from "./pool.ts";

type Args = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};

function values(backend: CpuLikeBackend, t: tf.TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId)?.values;
  if (!(v instanceof Float32Array)) {
    throw new Error(`native ${GATE_RECURRENT}: expected float32 data, got ${t.dtype}`);
  }
  return v;
}

function forward(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const { x, g } = args.inputs as Record<string, tf.TensorInfo>;
  const y = bufferPool.alloc(tf.util.sizeFromShape(x.shape));
  scanForward(
    values(backend, x),
    values(backend, g),
    y,
    x.shape,
    args.attrs!.direction as Direction,
  );
  return backend.makeTensorInfo([...x.shape], "float32", y);
}

function backward(args: Args): tf.TensorInfo[] {
  const backend = args.backend as CpuLikeBackend;
  const { dy, x, g, y } = args.inputs as Record<string, tf.TensorInfo>;
  const n = tf.util.sizeFromShape(x.shape);
  const dx = bufferPool.alloc(n), dg = bufferPool.alloc(n);
  scanBackward(
    values(backend, dy),
    values(backend, x),
    values(backend, g),
    values(backend, y),
    dx,
    dg,
    x.shape,
    args.attrs!.direction as Direction,
  );
  return [
    backend.makeTensorInfo([...x.shape], "float32", dx),
    backend.makeTensorInfo([...x.shape], "float32", dg),
  ];
}

export const GATE_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  [GATE_RECURRENT]: forward as unknown as tf.KernelFunc,
  [GATE_RECURRENT_GRAD]: backward as unknown as tf.KernelFunc,
};
