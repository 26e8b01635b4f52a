/**
 * Times the wasm backend's convolution gradients against its forward convolution, on the
 * SVRNN layer shapes at 128x128 training patches, batch 4 (docs/paper.md#network).
 *
 * Kernels are called directly (no engine, no tape), so the numbers are the kernels' own.
 * The caller initialises the wasm backend; importing this module installs the training
 * kernels, and the shipped Conv2DBackpropInput is timed alongside as the baseline.
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendWasm, currentWasmBackend } from "../ops/wasm_heap.ts";
import { shippedConv2DBackpropInput } from "../backends/wasm_train_kernels.ts";
import { median } from "../eval/stats.ts";

export interface ConvGradShape {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** tfjs pad attribute: "same", or explicit [[0,0],[t,b],[l,r],[0,0]]. */
  pad: "same" | "valid" | tf.backend_util.ExplicitPadding;
}

export interface ConvGradRecord {
  layer: string;
  shape: ConvGradShape;
  /** Multiply-adds times two, the same for all three passes. */
  gflop: number;
  forwardMs: number;
  inputGradMs: number;
  filterGradMs: number;
  /** The shipped Conv2DBackpropInput; null when skipped as too slow (see maxShippedGflop). */
  shippedInputGradMs: number | null;
  forwardGflops: number;
  inputGradGflops: number;
  filterGradGflops: number;
  shippedInputGradGflops: number | null;
  /** Gradient time over forward time: the target is <= 2. */
  inputGradRatio: number;
  filterGradRatio: number;
}

export interface ConvGradOptions {
  /** Timed runs per pass after one warm-up; the median is reported. Default 5. */
  runs?: number;
  /** Timed runs of the slow shipped kernel (after one warm-up). Default 1. */
  shippedRuns?: number;
  /** Skip the shipped kernel above this many GFLOP (it runs at ~2.6 GFLOP/s). Default 6. */
  maxShippedGflop?: number;
  /** Restrict to these layer names. */
  layers?: string[];
}

const same = "same" as const;

/** The SVRNN convolutions whose gradients dominate a training step. */
export const SVRNN_CONV_SHAPES: ReadonlyArray<{ layer: string; shape: ConvGradShape }> = [
  { layer: "conve1_1", shape: conv(128, 3, 16, 11, 1, same) },
  { layer: "conve1_2", shape: conv(128, 16, 32, 7, 2, [[0, 0], [3, 3], [3, 3], [0, 0]]) },
  { layer: "convg1_2", shape: conv(128, 64, 64, 3, 1, same) },
  { layer: "convg2_2", shape: conv(64, 128, 128, 3, 1, same) },
  { layer: "convg4_2", shape: conv(16, 512, 512, 3, 1, same) },
  { layer: "conv_rnn", shape: conv(64, 128, 32, 3, 1, same) },
  { layer: "convd1_1", shape: conv(64, 64, 16, 9, 1, same) },
  { layer: "convd1_2", shape: conv(128, 32, 3, 5, 1, same) },
];

function conv(
  size: number,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  pad: ConvGradShape["pad"],
): ConvGradShape {
  return { batch: 4, height: size, width: size, inChannels, outChannels, kernel, stride, pad };
}

function timeKernel(
  backend: BackendWasm,
  runs: number,
  f: () => tf.TensorInfo,
): number {
  backend.disposeData(f().dataId);
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const out = f();
    ms.push(performance.now() - t0);
    backend.disposeData(out.dataId);
  }
  return median(ms);
}

function kernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, "wasm");
  if (config === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  return config.kernelFunc;
}

/** Benchmarks every shape in SVRNN_CONV_SHAPES on the current (wasm) backend. */
export async function benchConvGrad(options: ConvGradOptions = {}): Promise<ConvGradRecord[]> {
  await tf.ready();
  const backend = currentWasmBackend();
  const runs = options.runs ?? 5;
  const shippedRuns = options.shippedRuns ?? 1;
  const maxShippedGflop = options.maxShippedGflop ?? 6;
  // The shipped kernel was unregistered before the backend may have started, so its
  // one-time setup (binding the C++ function) may not have run.
  shippedConv2DBackpropInput.setupFunc?.(backend as unknown as tf.KernelBackend);

  const records: ConvGradRecord[] = [];
  for (const { layer, shape } of SVRNN_CONV_SHAPES) {
    if (options.layers && !options.layers.includes(layer)) continue;
    records.push(benchOne(backend, layer, shape, runs, shippedRuns, maxShippedGflop));
    // Let other tasks (and the event loop) breathe between multi-second layers.
    await new Promise((r) => setTimeout(r, 0));
  }
  return records;
}

function benchOne(
  backend: BackendWasm,
  layer: string,
  shape: ConvGradShape,
  runs: number,
  shippedRuns: number,
  maxShippedGflop: number,
): ConvGradRecord {
  const { batch, height, width, inChannels: ci, outChannels: co, kernel: k, stride, pad } = shape;
  const xShape: [number, number, number, number] = [batch, height, width, ci];
  const fShape: [number, number, number, number] = [k, k, ci, co];
  const info = tf.backend_util.computeConv2DInfo(xShape, fShape, stride, 1, pad);
  const x = tf.randomNormal(xShape);
  const filter = tf.randomNormal(fShape, 0, 0.1);
  const dy = tf.randomNormal(info.outShape);
  try {
    const gflop = 2 * batch * info.outHeight * info.outWidth * ci * co * k * k / 1e9;
    const convAttrs = { strides: stride, pad, dilations: 1, dataFormat: "NHWC" };
    const inAttrs = { strides: stride, pad, dataFormat: "NHWC", inputShape: xShape };
    const fAttrs = { strides: stride, pad, dataFormat: "NHWC", filterShape: fShape };
    const call = (f: tf.KernelFunc, inputs: tf.NamedTensorInfoMap, attrs: object) => () =>
      f({
        inputs,
        backend: backend as unknown as tf.KernelBackend,
        attrs: attrs as tf.NamedAttrMap,
      }) as tf.TensorInfo;

    const forwardMs = timeKernel(backend, runs, call(kernel("Conv2D"), { x, filter }, convAttrs));
    const inputGradMs = timeKernel(
      backend,
      runs,
      call(kernel("Conv2DBackpropInput"), { dy, filter }, inAttrs),
    );
    const filterGradMs = timeKernel(
      backend,
      runs,
      call(kernel("Conv2DBackpropFilter"), { x, dy }, fAttrs),
    );
    const shippedInputGradMs = gflop <= maxShippedGflop
      ? timeKernel(
        backend,
        shippedRuns,
        call(shippedConv2DBackpropInput.kernelFunc, { dy, filter }, inAttrs),
      )
      : null;
    const rate = (ms: number) => gflop / (ms / 1000);
    return {
      layer,
      shape,
      gflop,
      forwardMs,
      inputGradMs,
      filterGradMs,
      shippedInputGradMs,
      forwardGflops: rate(forwardMs),
      inputGradGflops: rate(inputGradMs),
      filterGradGflops: rate(filterGradMs),
      shippedInputGradGflops: shippedInputGradMs === null ? null : rate(shippedInputGradMs),
      inputGradRatio: inputGradMs / forwardMs,
      filterGradRatio: filterGradMs / forwardMs,
    };
  } finally {
    tf.dispose([x, filter, dy]);
  }
}

/** A markdown table of the records, for reports and logs. */
export function formatConvGradTable(records: ConvGradRecord[]): string {
  const f1 = (v: number | null) => (v === null ? "-" : v.toFixed(1));
  const lines = [
    "| layer | shape | GFLOP | fwd ms | dx ms | dW ms | shipped dx ms | fwd GFLOP/s | dx GFLOP/s | dW GFLOP/s | shipped dx GFLOP/s | dx/fwd | dW/fwd |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of records) {
    const s = r.shape;
    const desc = `${s.batch}x${s.height}x${s.width} ${s.inChannels}->${s.outChannels} ` +
      `k${s.kernel} s${s.stride}`;
    lines.push(
      `| ${r.layer} | ${desc} | ${r.gflop.toFixed(2)} | ${f1(r.forwardMs)} | ${
        f1(r.inputGradMs)
      } | ${f1(r.filterGradMs)} | ${f1(r.shippedInputGradMs)} | ${f1(r.forwardGflops)} | ${
        f1(r.inputGradGflops)
      } | ${f1(r.filterGradGflops)} | ${f1(r.shippedInputGradGflops)} | ${
        r.inputGradRatio.toFixed(2)
      } | ${r.filterGradRatio.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}
