/**
 * Convolution + bias + ReLU or leaky ReLU as one kernel in training too.
 *
 * tf.fused.conv2d fuses bias and activation only outside gradient recording (or with no
 * activation): under tf.grad it falls back to Conv2D, Add and the activation, and their
 * gradients add Step and Multiply (ReLU) or Greater, Select and Multiply (leaky ReLU), each
 * a full pass over the layer's output and a fresh array. In an `svrnn` training step at
 * batch 20 of 128x128 those passes took about 2.5 s of 13.5 s (results/bench/native.json).
 *
 * `fusedConv2d` runs FusedConv2D forward in every case, and its registered gradient (below)
 * computes the activation's gradient from the saved output, one pass per input gradient
 * asked for: for slope s (0 for ReLU),
 *
 *   dz = y > 0 ? dy : s * dy
 *
 * which equals tfjs's gradients (mul(dy, step(z)) and where(z > 0, dy, s * dy)) because
 * y > 0 exactly when z > 0 for s >= 0. That pass is the kernel SvrnnActivationGrad,
 * registered for cpu and wasm here and for native in lib/backends/native (on its buffer pool); on
 * other backends (webgpu) the gradient is tfjs's composite of the same formula.
 */
import * as tf from "@tensorflow/tfjs";
import { allocF32, assertFloat32, type BackendWasm, f32Offset, heapF32 } from "./wasm_heap.ts";

export const ACTIVATION_GRAD = "SvrnnActivationGrad";

export type FusableActivation = "relu" | "leakyrelu";

/**
 * out[i] = y[i] > 0 ? dy[i] : slope * dy[i], as dy[i] times a 0/1-selected factor: on
 * random signs the branchy form mispredicts half the time (measured 2-3x slower). `out`
 * may alias `dy`.
 */
export function activationGrad(
  dy: Float32Array,
  y: Float32Array,
  slope: number,
  out: Float32Array,
): void {
  const rise = 1 - slope;
  for (let i = 0; i < dy.length; i++) out[i] = dy[i] * (slope + rise * +(y[i] > 0));
}

/** The slope below zero that an activation's attributes give (0 for ReLU). */
export function slopeOf(attrs: { activation?: unknown; alpha?: unknown }): number {
  return attrs.activation === "leakyrelu" ? Number(attrs.alpha) : 0;
}

interface CpuLike {
  data: { get(dataId: object): { values: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The kernel for a cpu-like backend; `alloc` gives the output (native: its buffer pool). */
export function cpuActivationGradKernel(alloc: (n: number) => Float32Array): tf.KernelFunc {
  return (({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]) => {
    const b = backend as unknown as CpuLike;
    const [dy, y] = ["dy", "y"].map((k) => {
      const v = b.data.get(inputs[k]!.dataId)?.values;
      if (!(v instanceof Float32Array)) throw new Error(`${ACTIVATION_GRAD}: ${k} is not float32`);
      return v;
    });
    const out = alloc(dy.length);
    activationGrad(dy, y, slopeOf(attrs as Record<string, unknown>), out);
    return b.makeTensorInfo([...inputs.dy!.shape], "float32", out);
  }) as unknown as tf.KernelFunc;
}

function wasmKernel({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const b = backend as unknown as BackendWasm;
  const ins = inputs as Record<"dy" | "y", tf.TensorInfo>;
  assertFloat32(ACTIVATION_GRAD, ins);
  const out = allocF32(b, ins.dy.shape);
  // Views after the allocation: growing the heap detaches earlier ones.
  const heap = heapF32(b);
  const n = tf.util.sizeFromShape(ins.dy.shape);
  const view = (t: tf.TensorInfo) => heap.subarray(f32Offset(b, t), f32Offset(b, t) + n);
  activationGrad(view(ins.dy), view(ins.y), slopeOf(attrs as Record<string, unknown>), view(out));
  return out;
}

tf.registerKernel({
  kernelName: ACTIVATION_GRAD,
  backendName: "cpu",
  kernelFunc: cpuActivationGradKernel((n) => new Float32Array(n)),
});
tf.registerKernel({ kernelName: ACTIVATION_GRAD, backendName: "wasm", kernelFunc: wasmKernel });

/** dz for the saved output y: the kernel where the backend has it, tfjs ops elsewhere. */
function dyActivation(
  dy: tf.Tensor4D,
  y: tf.Tensor4D,
  activation: FusableActivation,
  alpha: number,
): tf.Tensor4D {
  if (tf.getKernel(ACTIVATION_GRAD, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(ACTIVATION_GRAD, { dy, y }, { activation, alpha }) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const slope = activation === "leakyrelu" ? alpha : 0;
    return tf.where(tf.greater(y, 0), dy, tf.mul(dy, slope)) as tf.Tensor4D;
  });
}

export interface FusedConvArgs {
  x: tf.Tensor4D;
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  strides: number;
  pad: tf.backend_util.ExplicitPadding;
  activation: FusableActivation;
  /** Leaky ReLU's slope below zero. */
  alpha: number;
}

/**
 * The gradient of FusedConv2D (tfjs registers none: tf.fused.conv2d differentiates through
 * its own customGrad, which supports no leaky ReLU). A registered gradient hands tfjs one
 * function per input, and tfjs calls only those of inputs on the path from the
 * differentiated variables: the model input's gradient (conve1_1, convg1_1: about a fifth
 * of an svrnn-small step at batch 8 of 64x64) is never computed in training, and is when
 * the receptive-field analysis differentiates with respect to the input. Each function
 * makes its own dz (one elementwise pass) inside the tidy tfjs runs it in, so no dz outlives
 * its layer's backward step.
 */
tf.registerGradient({
  kernelName: tf.FusedConv2D,
  inputsToSave: ["x", "filter"],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as tf.Tensor4D[];
    const a = attrs as unknown as {
      strides: number | [number, number];
      pad: tf.backend_util.ExplicitPadding;
      activation: FusableActivation | "linear";
      leakyreluAlpha: number;
    };
    const dz = () =>
      a.activation === "linear"
        ? dy as tf.Tensor4D
        : dyActivation(dy as tf.Tensor4D, y, a.activation, a.leakyreluAlpha);
    const conv = { strides: a.strides, pad: a.pad, dataFormat: "NHWC" };
    return {
      x: () =>
        tf.engine().runKernel(
          tf.Conv2DBackpropInput,
          { dy: dz(), filter },
          { ...conv, inputShape: x.shape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor4D,
      filter: () =>
        tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x, dy: dz() },
          { ...conv, filterShape: filter.shape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor4D,
      bias: () => tf.sum(dz(), [0, 1, 2]),
    };
  },
});

/** activation(conv2d(x, filter) + bias), NHWC, one FusedConv2D forward (see module comment). */
export function fusedConv2d(a: FusedConvArgs): tf.Tensor4D {
  const attrs = {
    strides: a.strides,
    pad: a.pad,
    dataFormat: "NHWC",
    dilations: [1, 1],
    activation: a.activation,
    leakyreluAlpha: a.alpha,
  };
  return tf.engine().runKernel(
    tf.FusedConv2D,
    { x: a.x, filter: a.filter, bias: a.bias },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}
