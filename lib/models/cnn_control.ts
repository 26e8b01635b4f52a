/**
 * The CNN-only control for "RNN versus CNN at equal size": SVRNN's skeleton (conve1_1,
 * conve1_2, convd1_1, convd1_2 with the same skips and upsampling) whose middle, the
 * weight-generation CNN and the RNN blocks, is replaced by a plain stack of `depth` 3x3
 * LReLU convs at half resolution (conv_mid1 .. conv_midD: rnnChannels -> width -> ... ->
 * rnnChannels). `cnnWidthForParams` picks the width that brings the total closest to a
 * target, such as an SVRNN variant's parameter count.
 */
import * as tf from "@tensorflow/tfjs";
import {
  checkInput,
  checkInt,
  checkOneOf,
  conv,
  type ConvLayer,
  convParamCount,
  type ConvSpec,
  convSpec,
  convWeights,
  createConv,
  INIT_SCHEMES,
  type InitScheme,
  mergeConfig,
  RESIZE_MODES,
  type ResizeMode,
  singleScaleModel,
  upsample2x,
  variablePrefix,
} from "./layers.ts";
import type { DeblurModel } from "./model.ts";

export interface CNNControlConfig {
  /** Input and output channels (RGB). */
  channels: number;
  /** Channels of e1 (full resolution), as SVRNN's e1Channels. */
  e1Channels: number;
  /** Kernel of conve1_1. */
  e1Kernel: number;
  /** Kernel of conve1_2 (stride 2). */
  e2Kernel: number;
  /** Kernel of convd1_1. */
  d1Kernel: number;
  /** Kernel of convd1_2. */
  d2Kernel: number;
  /** Channels of e2 and of the stack's output, as SVRNN's rnnChannels. */
  rnnChannels: number;
  /** Number of 3x3 convs in the middle stack (>= 1). */
  depth: number;
  /** Channels inside the middle stack. */
  width: number;
  /** Bilinear x2 upsampling mode of the decoder. */
  resize: ResizeMode;
  /** Negative slope of every LReLU. */
  leakySlope: number;
  /** Weight initialisation (biases start at zero). */
  init: InitScheme;
  /** Seed of the initialisation. */
  seed: number;
  /** Add the input to the output, as the SVRNN config it controls for. */
  residual: boolean;
}

/** The default control: SVRNN's paper skeleton with an 8-conv, 64-wide middle. */
export const DEFAULT_CNN_CONTROL_CONFIG: Readonly<CNNControlConfig> = Object.freeze({
  channels: 3,
  e1Channels: 16,
  e1Kernel: 11,
  e2Kernel: 7,
  d1Kernel: 9,
  d2Kernel: 5,
  rnnChannels: 32,
  depth: 8,
  width: 64,
  resize: "half-pixel" as ResizeMode,
  leakySlope: 0.1,
  init: "xavier-caffe" as InitScheme,
  seed: 0,
  residual: false,
});

export function cnnControlConfig(overrides?: Partial<CNNControlConfig>): CNNControlConfig {
  const c = mergeConfig("cnn", DEFAULT_CNN_CONTROL_CONFIG as CNNControlConfig, overrides);
  validateCNNControlConfig(c);
  return c;
}

export function validateCNNControlConfig(c: CNNControlConfig): void {
  for (const k of ["channels", "e1Channels", "rnnChannels", "depth", "width"] as const) {
    checkInt(`cnn config ${k}`, c[k], 1);
  }
  for (const k of ["e1Kernel", "e2Kernel", "d1Kernel", "d2Kernel"] as const) {
    checkInt(`cnn config ${k}`, c[k], 1);
    if (c[k] % 2 === 0) throw new Error(`cnn config ${k} must be odd, got ${c[k]}`);
  }
  checkOneOf("cnn config resize", c.resize, RESIZE_MODES);
  if (typeof c.leakySlope !== "number" || !Number.isFinite(c.leakySlope)) {
    throw new Error(`cnn config leakySlope must be a finite number, got ${c.leakySlope}`);
  }
  checkOneOf("cnn config init", c.init, INIT_SCHEMES);
  checkInt("cnn config seed", c.seed, 0);
  checkOneOf("cnn config residual", c.residual, [true, false]);
}

export function cnnControlLayers(c: CNNControlConfig): ConvSpec[] {
  const r = c.rnnChannels;
  const layers = [
    convSpec("conve1_1", c.channels, c.e1Channels, c.e1Kernel),
    convSpec("conve1_2", c.e1Channels, r, c.e2Kernel, 2),
  ];
  for (let i = 1; i <= c.depth; i++) {
    const cin = i === 1 ? r : c.width;
    const cout = i === c.depth ? r : c.width;
    layers.push(convSpec(`conv_mid${i}`, cin, cout, 3));
  }
  layers.push(
    convSpec("convd1_1", 2 * r, c.e1Channels, c.d1Kernel),
    { ...convSpec("convd1_2", 2 * c.e1Channels, c.channels, c.d2Kernel), zeroInit: c.residual },
  );
  return layers;
}

export function cnnControlParamCount(c: CNNControlConfig): number {
  return cnnControlLayers(c).reduce((s, l) => s + convParamCount(l), 0);
}

/** The width (1..4096) whose parameter count is closest to `target`, other fields fixed. */
export function cnnWidthForParams(target: number, c: CNNControlConfig): number {
  let best = 1, bestErr = Infinity;
  for (let w = 1; w <= 4096; w++) {
    const err = Math.abs(cnnControlParamCount({ ...c, width: w }) - target);
    if (err < bestErr) [best, bestErr] = [w, err];
    else if (err > bestErr && w > best + 1) break; // the count grows with w
  }
  return best;
}

export type CNNControlModel = DeblurModel<CNNControlConfig> & { readonly family: "cnn" };

/**
 * Builds the control. Intermediates of analyze: "e1", "e2", "mid/i" (conv_midi's output,
 * half resolution).
 */
export function createCNNControl(name: string, config: CNNControlConfig): CNNControlModel {
  const c: CNNControlConfig = Object.freeze({ ...config });
  validateCNNControlConfig(c);
  const prefix = variablePrefix(name);
  const convList: ConvLayer[] = cnnControlLayers(c).map((s) =>
    createConv(s, c.init, c.seed, prefix)
  );
  const L = new Map(convList.map((l) => [l.spec.name, l]));
  const lrelu = (x: tf.Tensor4D, n: string) => conv(x, L.get(n)!, "lrelu", c.leakySlope);
  const weights = convWeights(convList);
  const multiple = 2;

  function run(x: tf.Tensor4D, record?: Record<string, tf.Tensor4D>): tf.Tensor4D {
    checkInput(name, x, c.channels);
    const [, H, W] = x.shape;
    if (H % multiple !== 0 || W % multiple !== 0) {
      throw new Error(
        `${name}: forward needs H and W to be multiples of ${multiple}, got ${H}x${W} (use predict)`,
      );
    }
    return tf.tidy(() => {
      const e1 = lrelu(x, "conve1_1");
      const e2 = conv(e1, L.get("conve1_2")!, "none");
      let h = e2;
      for (let i = 1; i <= c.depth; i++) {
        h = lrelu(h, `conv_mid${i}`);
        if (record) record[`mid/${i}`] = tf.keep(h);
      }
      const d1 = lrelu(tf.concat([e2, h], 3) as tf.Tensor4D, "convd1_1");
      const up = upsample2x(d1, c.resize);
      const decoded = conv(tf.concat([e1, up], 3) as tf.Tensor4D, L.get("convd1_2")!, "none");
      const out = c.residual ? tf.add(decoded, x) as tf.Tensor4D : decoded;
      if (record) {
        record.e1 = tf.keep(e1);
        record.e2 = tf.keep(e2);
      }
      return out;
    });
  }

  return singleScaleModel({ name, family: "cnn", config: c, multiple, weights, run });
}
