/**
 * Building blocks shared by the kit's models: seeded conv weights as raw tf.Variables,
 * a conv with Caffe's symmetric padding, the x2 bilinear upsampling in both modes, the
 * PyTorch-order pixel shuffle, and padding any image size to the multiple a network
 * needs, and the model object of the single-scale builders. Weights are stored in tfjs layout [kh, kw, in, out]; checkpoints convert them to
 * [out, in, kh, kw] (checkpoint_bytes.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { countParams, type DeblurModel, type ModelFamily, type NamedWeight } from "./model.ts";
import { fusedConv2d } from "../ops/fused_conv.ts";

/** Weight initialisations. Biases always start at zero. */
export type InitScheme =
  /** Caffe's "xavier" filler as the SVRNN code uses it: U(+-sqrt(3 / fan_in)). */
  | "xavier-caffe"
  /** Glorot & Bengio's uniform: U(+-sqrt(6 / (fan_in + fan_out))). */
  | "glorot-uniform"
  /** PyTorch's default for nn.Conv2d weights: U(+-1 / sqrt(fan_in)). */
  | "pytorch";

export const INIT_SCHEMES: readonly InitScheme[] = ["xavier-caffe", "glorot-uniform", "pytorch"];

/** Bilinear x2 upsampling: "half-pixel" (PyTorch align_corners=False) or Caffe's. */
export type ResizeMode = "half-pixel" | "caffe";

export const RESIZE_MODES: readonly ResizeMode[] = ["half-pixel", "caffe"];

export type Activation = "none" | "relu" | "lrelu" | "tanh";

/** One conv layer: its checkpoint name and geometry. */
export interface ConvSpec {
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Start with zero weights: the output conv of a residual model, which then starts as the identity. */
  zeroInit?: boolean;
}

/** A conv layer's variables, weight [k, k, in, out] and bias [out]. */
export interface ConvLayer {
  spec: ConvSpec;
  weight: tf.Variable<tf.Rank.R4>;
  bias: tf.Variable<tf.Rank.R1>;
}

export function convSpec(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride = 1,
): ConvSpec {
  return { name, inChannels, outChannels, kernel, stride };
}

/** Trainable parameters of one conv layer (weights plus bias). */
export function convParamCount(s: ConvSpec): number {
  return s.kernel * s.kernel * s.inChannels * s.outChannels + s.outChannels;
}

let instanceCounter = 0;

/**
 * A unique prefix for the tfjs names of one model instance's variables (tfjs refuses two
 * variables of one name); checkpoint names never carry it.
 */
export function variablePrefix(modelName: string): string {
  instanceCounter += 1;
  return `${modelName}#${instanceCounter}/`;
}

function initLimit(s: ConvSpec, init: InitScheme): number {
  const fanIn = s.inChannels * s.kernel * s.kernel;
  const fanOut = s.outChannels * s.kernel * s.kernel;
  switch (init) {
    case "xavier-caffe":
      return Math.sqrt(3 / fanIn);
    case "glorot-uniform":
      return Math.sqrt(6 / (fanIn + fanOut));
    case "pytorch":
      return 1 / Math.sqrt(fanIn);
  }
}

/**
 * Creates a conv layer's variables. The weights are uniform with the scheme's limit,
 * drawn from a generator seeded by (seed, layer name): the same seed and name always
 * give the same weights, on every backend, whatever other layers exist.
 */
export function createConv(
  spec: ConvSpec,
  init: InitScheme,
  seed: number,
  prefix: string,
): ConvLayer {
  const k = spec.kernel;
  const limit = initLimit(spec, init);
  const shape: [number, number, number, number] = [k, k, spec.inChannels, spec.outChannels];
  const w0 = spec.zeroInit
    ? tf.zeros(shape, "float32")
    : tf.randomUniform(shape, -limit, limit, "float32", `${seed}/${spec.name}`);
  const b0 = tf.zeros([spec.outChannels], "float32");
  const weight = tf.variable(w0, true, `${prefix}${spec.name}.weight`) as tf.Variable<tf.Rank.R4>;
  const bias = tf.variable(b0, true, `${prefix}${spec.name}.bias`) as tf.Variable<tf.Rank.R1>;
  w0.dispose();
  b0.dispose();
  return { spec, weight, bias };
}

/** The checkpoint entries of conv layers, weight then bias, in layer order. */
export function convWeights(layers: ConvLayer[]): NamedWeight[] {
  return layers.flatMap((l) => [
    { name: `${l.spec.name}.weight`, variable: l.weight as tf.Variable, layout: "conv" as const },
    { name: `${l.spec.name}.bias`, variable: l.bias as tf.Variable, layout: "plain" as const },
  ]);
}

/**
 * Applies a conv layer with Caffe's padding: k//2 zeros on every side, for every stride.
 * (tfjs "same" pads 2 before and 3 after for a 7x7 stride-2 conv on an even size, which
 * shifts the output by one pixel.) Bias and ReLU or leaky ReLU are fused into the convolution,
 * in training too (lib/ops/fused_conv.ts); tanh follows as its own op.
 */
export function conv(
  x: tf.Tensor4D,
  layer: ConvLayer,
  activation: Activation,
  leakySlope = 0.1,
): tf.Tensor4D {
  const p = Math.floor(layer.spec.kernel / 2);
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  if (activation === "relu" || activation === "lrelu") {
    return fusedConv2d({
      x,
      filter: layer.weight,
      bias: layer.bias,
      strides: layer.spec.stride,
      pad,
      activation: activation === "relu" ? "relu" : "leakyrelu",
      alpha: leakySlope,
    });
  }
  const y = tf.fused.conv2d({
    x,
    filter: layer.weight,
    strides: layer.spec.stride,
    pad,
    bias: layer.bias,
    activation: "linear",
  });
  if (activation !== "tanh") return y;
  const t = tf.tanh(y);
  y.dispose();
  return t;
}

/**
 * Bilinear x2 upsampling.
 * - "half-pixel": samples at (dst + 0.5) / 2 - 0.5, edges clamped: PyTorch
 *   `align_corners=False`, tfjs `halfPixelCenters: true`.
 * - "caffe": samples at dst / 2 with zeros past the last row and column, as the SVRNN
 *   Caffe code does: out[2i] = x[i], out[2i+1] = (x[i] + x[i+1]) / 2, x[n] = 0.
 */
export function upsample2x(x: tf.Tensor4D, mode: ResizeMode): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (mode === "half-pixel") {
    return tf.image.resizeBilinear(x, [2 * h, 2 * w], false, true);
  }
  return tf.tidy(() => caffeUp(caffeUp(x, 2), 1));
}

/** Caffe-mode x2 interpolation along one spatial axis (1 = H, 2 = W). */
function caffeUp(x: tf.Tensor4D, axis: 1 | 2): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const len = axis === 1 ? h : w;
  const zeroShape: [number, number, number, number] = axis === 1 ? [n, 1, w, c] : [n, h, 1, c];
  const next = len > 1
    ? tf.concat([
      axis === 1
        ? x.slice([0, 1, 0, 0], [n, h - 1, w, c])
        : x.slice([0, 0, 1, 0], [n, h, w - 1, c]),
      tf.zeros(zeroShape),
    ], axis)
    : tf.zeros(zeroShape);
  const mid = tf.mul(tf.add(x, next), 0.5);
  // Interleave x and mid along the axis: stack after it, then merge the two.
  const stacked = tf.stack([x, mid], axis + 1);
  return (axis === 1
    ? stacked.reshape([n, 2 * h, w, c])
    : stacked.reshape([n, h, 2 * w, c])) as tf.Tensor4D;
}

/**
 * Pixel shuffle x r with PyTorch's channel order (nn.PixelShuffle): input channel
 * c*r*r + i*r + j goes to output channel c at (h*r + i, w*r + j). tfjs depthToSpace uses
 * another order (and has no gradient), so this is a reshape-transpose-reshape.
 */
export function pixelShuffle(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [n, h, w, cr] = x.shape;
  if (cr % (r * r) !== 0) {
    throw new Error(`pixelShuffle: ${cr} channels is not a multiple of ${r * r}`);
  }
  const c = cr / (r * r);
  return tf.tidy(() =>
    x.reshape([n * h, w, c, r, r]).transpose([0, 3, 1, 4, 2]).reshape([n, h * r, w * r, c])
  );
}

/**
 * Pads the bottom and right of x so H and W become multiples of `multiple`: reflect
 * padding where it fits (pad < size), else symmetric (pad <= size), else edge
 * replication (tiny images). Returns the padded tensor and the original size.
 */
export function padToMultiple(
  x: tf.Tensor4D,
  multiple: number,
): { padded: tf.Tensor4D; height: number; width: number } {
  const [, height, width] = x.shape;
  const ph = (multiple - (height % multiple)) % multiple;
  const pw = (multiple - (width % multiple)) % multiple;
  if (ph === 0 && pw === 0) return { padded: x.clone(), height, width };
  const padded = tf.tidy(() => padAxis(padAxis(x, 1, ph), 2, pw));
  return { padded, height, width };
}

function padAxis(x: tf.Tensor4D, axis: 1 | 2, pad: number): tf.Tensor4D {
  if (pad === 0) return x;
  const size = x.shape[axis];
  const paddings: Array<[number, number]> = [[0, 0], [0, 0], [0, 0], [0, 0]];
  paddings[axis] = [0, pad];
  if (pad < size) return tf.mirrorPad(x, paddings, "reflect");
  if (pad <= size) return tf.mirrorPad(x, paddings, "symmetric");
  const [n, h, w, c] = x.shape;
  const last = axis === 1 ? x.slice([0, h - 1, 0, 0], [n, 1, w, c]) : x.slice(
    [0, 0, w - 1, 0],
    [n, h, 1, c],
  );
  const reps: [number, number, number, number] = axis === 1 ? [1, pad, 1, 1] : [1, 1, pad, 1];
  return tf.concat([x, tf.tile(last, reps)], axis);
}

/** The top-left [height, width] of x (undoes padToMultiple). */
export function cropTo(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h === height && w === width) return x.clone();
  return x.slice([0, 0, 0, 0], [n, height, width, c]);
}

/** Throws a clear Error unless x is a float32 NHWC batch with `channels` channels. */
export function checkInput(model: string, x: tf.Tensor, channels: number): void {
  if (x.rank !== 4 || x.shape[3] !== channels || x.dtype !== "float32") {
    throw new Error(
      `${model}: input must be a float32 NHWC tensor [N,H,W,${channels}], got [${x.shape}] ${x.dtype}`,
    );
  }
  if (x.shape.slice(0, 3).some((d) => d < 1)) {
    throw new Error(`${model}: input has an empty dimension: [${x.shape}]`);
  }
}

/**
 * The DeblurModel object shared by the single-scale builders: `run(x, record?)` is the
 * network on an input whose sides are multiples of `multiple`; predict and analyze pad any
 * size to that multiple, run it, and crop back.
 */
export function singleScaleModel<C extends { channels: number }, F extends ModelFamily>(parts: {
  name: string;
  family: F;
  config: C;
  multiple: number;
  weights: NamedWeight[];
  run: (x: tf.Tensor4D, record?: Record<string, tf.Tensor4D>) => tf.Tensor4D;
}): DeblurModel<C> & { family: F } {
  const { name, config, multiple, weights, run } = parts;
  const trainableVariables = weights.map((w) => w.variable);
  const padded = (x: tf.Tensor4D, record?: Record<string, tf.Tensor4D>) => {
    checkInput(name, x, config.channels);
    return tf.tidy(() => {
      const { padded, height, width } = padToMultiple(x, multiple);
      return cropTo(run(padded, record), height, width);
    });
  };
  return {
    name,
    family: parts.family,
    config,
    multiple,
    trainableVariables,
    weights,
    forward: (x) => run(x),
    predict: (x) => padded(x),
    analyze(x) {
      const intermediates: Record<string, tf.Tensor4D> = {};
      const output = padded(x, intermediates);
      return { output, intermediates };
    },
    paramCount: () => countParams(trainableVariables),
    dispose() {
      for (const v of trainableVariables) v.dispose();
    },
  };
}
