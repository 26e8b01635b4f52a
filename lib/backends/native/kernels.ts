/**
 * tfjs kernels of the "native" backend that call OpenBLAS: Conv2D, FusedConv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter, BatchMatMul and _FusedMatMul. They read and
 * write the Float32Arrays that tfjs-backend-cpu's MathBackendCPU keeps per tensor
 * (`backend.data.get(dataId).values`, `backend.makeTensorInfo`), so every other kernel of
 * the cpu backend runs on the same data unchanged. Cases they do not cover (NCHW, non-float
 * dtypes, unusual bias or PReLU shapes) go to the cpu backend's kernel.
 *
 * The three convolution passes run on oneDNN instead (dnnl_conv.ts) where the measured table
 * results/bench/dnnl_conv.json says oneDNN is faster for that layer, size, pass and thread
 * count (the rule: ConvChoices in dnnl_conv.ts), and on OpenBLAS everywhere else, or
 * everywhere when libdnnl is missing. $SVRNN_CONV=openblas|dnnl|table overrides.
 */
import * as tf from "@tensorflow/tfjs";
import type { Blas } from "./blas.ts";
import { bufferPool } from "./pool.ts";
import {
  type Activation,
  ACTIVATIONS,
  applyEpilogue,
  convBackpropFilter,
  convBackpropInput,
  convForward,
  type ConvGeometry,
  type ConvOptions,
  convThreads,
  type Epilogue,
} from "./conv.ts";
import { dnnlAvailable } from "./dnnl.ts";
import {
  type ConvChoices,
  type ConvPass,
  type DnnlLayout,
  dnnlSupports,
  loadChoices,
} from "./dnnl_conv.ts";
import * as dnnlConv from "./dnnl_conv.ts";

/** The parts of tfjs-backend-cpu's MathBackendCPU these kernels use. */
export interface CpuLikeBackend {
  data: { get(dataId: unknown): { values: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: unknown): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

type Args = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};

/** The cpu backend's kernel of that name (looked up at call time). */
export function cpuKernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, "cpu");
  if (!k) throw new Error(`native backend: the cpu backend has no ${name} kernel`);
  return k.kernelFunc;
}

function runCpu(name: string, args: Args): tf.TensorInfo | tf.TensorInfo[] {
  return cpuKernel(name)(args as unknown as Parameters<tf.KernelFunc>[0]);
}

function f32(backend: CpuLikeBackend, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== "float32") return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

/**
 * Which library runs a convolution pass: "table", the measured choice per shape (default);
 * "openblas" everywhere (the arithmetic the shipped training logs were made with); "dnnl"
 * wherever oneDNN supports the shape, in `dnnlLayout` (tests and benchmarks).
 */
export type ConvPathMode = "table" | "openblas" | "dnnl";
export const CONV_PATH_MODES: readonly ConvPathMode[] = ["table", "openblas", "dnnl"];

/** A conv pass as the kernels see it (the benchmark collects the shapes models use). */
export type ConvObserver = (
  pass: ConvPass,
  g: ConvGeometry,
  detail: { activation: Activation | null; bias: boolean },
) => void;

function convModeFromEnv(): ConvPathMode {
  let v: string | undefined;
  try {
    v = Deno.env.get("SVRNN_CONV");
  } catch {
    v = undefined; // no --allow-env
  }
  if (v === undefined || v === "") return "table";
  if (!CONV_PATH_MODES.includes(v as ConvPathMode)) {
    throw new Error(`native backend: $SVRNN_CONV must be one of ${CONV_PATH_MODES}, got "${v}"`);
  }
  return v as ConvPathMode;
}

/** Conv settings the kernels use; `blas` is set when the backend is initialised. */
export const nativeSettings: {
  blas: Blas | null;
  chunkBytes: number;
  conv: ConvPathMode;
  /** Layout of the "dnnl" mode. */
  dnnlLayout: DnnlLayout;
  /** The table's choices, read on first use (reset to null to read it again). */
  choices: ConvChoices | null;
  /** Called with every conv pass the kernels run (null: none). */
  onConv: ConvObserver | null;
} = {
  blas: null,
  chunkBytes: 8 * 1024 * 1024,
  conv: convModeFromEnv(),
  dnnlLayout: "weights",
  choices: null,
  onConv: null,
};

let dnnlPresent: boolean | null = null;

/** The oneDNN layout this pass runs in, or null for OpenBLAS. */
function dnnlPath(g: ConvGeometry, pass: ConvPass): DnnlLayout | null {
  const mode = nativeSettings.conv;
  if (mode === "openblas" || !dnnlSupports(g)) return null;
  dnnlPresent ??= dnnlAvailable();
  if (!dnnlPresent) return null;
  if (mode === "dnnl") return nativeSettings.dnnlLayout;
  nativeSettings.choices ??= loadChoices();
  return nativeSettings.choices.choose(g, pass, nativeSettings.blas!.threads());
}

/** oneDNN runs on as many threads as OpenBLAS has now, as the table was measured. */
function dnnlOptions(layout: DnnlLayout): dnnlConv.DnnlConvOptions {
  return { layout, threads: nativeSettings.blas!.threads() };
}

function convOptions(): ConvOptions {
  const blas = nativeSettings.blas;
  if (!blas) throw new Error("native backend: OpenBLAS is not loaded (call initNativeBackend)");
  return { gemm: blas.sgemm, chunkBytes: nativeSettings.chunkBytes };
}

/** Runs one conv pass with the OpenBLAS threads convThreads picks, then restores the count. */
function withConvThreads(g: ConvGeometry, pass: "forward" | "input" | "filter", f: () => void) {
  const blas = nativeSettings.blas!;
  const available = blas.threads();
  const n = convThreads(g, pass, available);
  if (n === available) return f();
  blas.setThreads(n);
  try {
    f();
  } finally {
    blas.setThreads(available);
  }
}

/** conv.ts's geometry of a tfjs Conv2DInfo (padding as the zeros before the first row, column). */
export function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilH: info.dilationHeight,
    dilW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

function isNHWC(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === null || dataFormat === "NHWC";
}

/** Values of a per-channel vector (shape [], [1], [c] or [1, ..., 1, c]); else null. */
function channelVector(
  backend: CpuLikeBackend,
  t: tf.TensorInfo | undefined,
  channels: number,
): Float32Array | null {
  if (!t) return null;
  const dims = [...t.shape];
  while (dims.length > 0 && dims[0] === 1) dims.shift();
  if (dims.length > 1) return null;
  if (dims.length === 1 && dims[0] !== channels && dims[0] !== 1) return null;
  return f32(backend, t);
}

/**
 * Builds the epilogue for bias + activation, or returns null when it must run as separate
 * cpu kernels (a bias or PReLU weights that broadcast over more than the channels).
 */
function fusedEpilogue(
  backend: CpuLikeBackend,
  inputs: Args["inputs"],
  attrs: Record<string, unknown>,
  channels: number,
): Epilogue | null {
  const activation = ((attrs.activation as string | undefined) ?? "linear") as Activation;
  if (!ACTIVATIONS.includes(activation)) return null;
  const bias = inputs.bias ? channelVector(backend, inputs.bias, channels) : null;
  if (inputs.bias && !bias) return null;
  let prelu: Float32Array | null = null;
  if (activation === "prelu") {
    prelu = channelVector(backend, inputs.preluActivationWeights, channels);
    if (!prelu) return null;
  }
  return { bias, activation, alpha: (attrs.leakyreluAlpha as number | undefined) ?? 0.2, prelu };
}

/** Applies bias and activation with the cpu backend's own kernels (the general case). */
function cpuBiasActivation(
  backend: CpuLikeBackend,
  result: tf.TensorInfo,
  inputs: Args["inputs"],
  attrs: Record<string, unknown>,
): tf.TensorInfo {
  let cur = result;
  const step = (next: tf.TensorInfo) => {
    backend.disposeIntermediateTensorInfo(cur);
    cur = next;
  };
  if (inputs.bias) {
    step(runCpu("Add", { inputs: { a: cur, b: inputs.bias }, backend }) as tf.TensorInfo);
  }
  const activation = (attrs.activation as string | undefined) ?? "linear";
  const one = (name: string, extra: Record<string, unknown> = {}, more = {}) =>
    runCpu(name, { inputs: { x: cur, ...more }, backend, attrs: extra }) as tf.TensorInfo;
  switch (activation) {
    case "linear":
      break;
    case "relu":
      step(one("Relu"));
      break;
    case "relu6":
      step(one("Relu6"));
      break;
    case "elu":
      step(one("Elu"));
      break;
    case "sigmoid":
      step(one("Sigmoid"));
      break;
    case "leakyrelu":
      step(one("LeakyRelu", { alpha: attrs.leakyreluAlpha ?? 0.2 }));
      break;
    case "prelu":
      step(one("Prelu", {}, { alpha: inputs.preluActivationWeights }));
      break;
    default:
      throw new Error(`native backend: activation ${activation} is not implemented`);
  }
  return cur;
}

function convForwardKernel(args: Args, fused: boolean): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const name = fused ? tf.FusedConv2D : tf.Conv2D;
  const xv = f32(backend, x), wv = f32(backend, filter);
  if (!isNHWC(attrs.dataFormat) || !xv || !wv || x.shape.length !== 4) {
    return runCpu(name, args) as tf.TensorInfo;
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations ?? 1) as number | [number, number],
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
    false,
    "channelsLast",
  );
  const g = convGeometry(info);
  const y = bufferPool.alloc(tf.util.sizeFromShape(info.outShape));
  const ep = fused ? fusedEpilogue(backend, args.inputs, attrs, g.outC) : null;
  nativeSettings.onConv?.("forward", g, {
    activation: ep ? ep.activation : null,
    bias: ep?.bias != null,
  });
  const layout = dnnlPath(g, "forward");
  if (layout) dnnlConv.convForward(g, xv, wv, y, ep, dnnlOptions(layout));
  else withConvThreads(g, "forward", () => convForward(g, xv, wv, y, ep, convOptions()));
  const out = backend.makeTensorInfo(info.outShape, "float32", y);
  if (fused && ep === null) return cpuBiasActivation(backend, out, args.inputs, attrs);
  return out;
}

function conv2DBackpropInputKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const dyv = f32(backend, dy), wv = f32(backend, filter);
  const inputShape = attrs.inputShape as [number, number, number, number];
  if (!isNHWC(attrs.dataFormat) || !dyv || !wv || inputShape.length !== 4) {
    return runCpu(tf.Conv2DBackpropInput, args) as tf.TensorInfo;
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
    false,
    "channelsLast",
  );
  const g = convGeometry(info);
  const dx = bufferPool.alloc(tf.util.sizeFromShape(inputShape));
  nativeSettings.onConv?.("input", g, { activation: null, bias: false });
  const layout = dnnlPath(g, "input");
  if (layout) dnnlConv.convBackpropInput(g, dyv, wv, dx, dnnlOptions(layout));
  else withConvThreads(g, "input", () => convBackpropInput(g, dyv, wv, dx, convOptions()));
  return backend.makeTensorInfo(inputShape, "float32", dx);
}

function conv2DBackpropFilterKernel(args: Args): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const xv = f32(backend, x), dyv = f32(backend, dy);
  const filterShape = attrs.filterShape as [number, number, number, number];
  if (!isNHWC(attrs.dataFormat) || !xv || !dyv || x.shape.length !== 4) {
    return runCpu(tf.Conv2DBackpropFilter, args) as tf.TensorInfo;
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
    false,
    "channelsLast",
  );
  const g = convGeometry(info);
  const dw = bufferPool.alloc(tf.util.sizeFromShape(filterShape));
  nativeSettings.onConv?.("filter", g, { activation: null, bias: false });
  const layout = dnnlPath(g, "filter");
  if (layout) dnnlConv.convBackpropFilter(g, xv, dyv, dw, dnnlOptions(layout));
  else withConvThreads(g, "filter", () => convBackpropFilter(g, xv, dyv, dw, convOptions()));
  return backend.makeTensorInfo(filterShape, "float32", dw);
}

/** BatchMatMul and _FusedMatMul with tfjs's shape rules (batch broadcast by index modulo). */
function matMulKernel(args: Args, fused: boolean): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const name = fused ? tf._FusedMatMul : tf.BatchMatMul;
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) {
    return runCpu(name, args) as tf.TensorInfo;
  }
  const transA = Boolean(attrs.transposeA), transB = Boolean(attrs.transposeB);
  const ar = a.shape.length, br = b.shape.length;
  const innerA = transA ? a.shape[ar - 2] : a.shape[ar - 1];
  const innerB = transB ? b.shape[br - 1] : b.shape[br - 2];
  const M = transA ? a.shape[ar - 1] : a.shape[ar - 2];
  const N = transB ? b.shape[br - 2] : b.shape[br - 1];
  if (innerA !== innerB) {
    throw new Error(
      `Error in matMul: inner shapes (${innerA}) and (${innerB}) of Tensors with shapes ` +
        `${a.shape} and ${b.shape} and transposeA=${transA} and transposeB=${transB} must match.`,
    );
  }
  const K = innerA;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const outer = tf.backend_util.assertAndGetBroadcastShape(
    a.shape.slice(0, -2),
    b.shape.slice(0, -2),
  );
  const outShape = [...outer, M, N];
  const batch = Math.max(batchA, batchB);
  const y = bufferPool.alloc(batch * M * N);
  const { gemm } = convOptions();
  for (let i = 0; i < batch; i++) {
    const ia = (i % batchA) * M * K, ib = (i % batchB) * K * N;
    gemm(
      transA,
      transB,
      M,
      N,
      K,
      1,
      av.subarray(ia),
      transA ? M : K,
      bv.subarray(ib),
      transB ? K : N,
      0,
      y.subarray(i * M * N),
      N,
    );
  }
  if (!fused) return backend.makeTensorInfo(outShape, "float32", y);
  const ep = fusedEpilogue(backend, args.inputs, attrs, N);
  if (ep === null) {
    const out = backend.makeTensorInfo(outShape, "float32", y);
    return cpuBiasActivation(backend, out, args.inputs, attrs);
  }
  applyEpilogue(y, 0, y, 0, batch * M, N, ep);
  return backend.makeTensorInfo(outShape, "float32", y);
}

/** The kernels OpenBLAS replaces, by tfjs kernel name. */
export const NATIVE_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  [tf.Conv2D]: ((a: Args) => convForwardKernel(a, false)) as unknown as tf.KernelFunc,
  [tf.FusedConv2D]: ((a: Args) => convForwardKernel(a, true)) as unknown as tf.KernelFunc,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputKernel as unknown as tf.KernelFunc,
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterKernel as unknown as tf.KernelFunc,
  [tf.BatchMatMul]: ((a: Args) => matMulKernel(a, false)) as unknown as tf.KernelFunc,
  [tf._FusedMatMul]: ((a: Args) => matMulKernel(a, true)) as unknown as tf.KernelFunc,
};
