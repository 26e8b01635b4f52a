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
  bool,
  checkFields,
  choice,
  fieldDefaults,
  type FieldValues,
  FINITE,
  int,
  kernel,
  mergeConfig,
  num,
} from "./fields.ts";
import {
  checkInput,
  conv,
  type ConvLayer,
  convParamCount,
  type ConvSpec,
  convSpec,
  convWeights,
  createConv,
  INIT_SCHEMES,
  type InitScheme,
  RESIZE_MODES,
  type ResizeMode,
  singleScaleModel,
  upsample2x,
  variablePrefix,
} from "./layers.ts";
import type { DeblurModel } from "./model.ts";

/**
 * Every CNN-control config field, declared once: default (SVRNN's paper skeleton with an
 * 8-conv, 64-wide middle), range and doc. CNNControlConfig, DEFAULT_CNN_CONTROL_CONFIG and
 * validateCNNControlConfig are derived from it.
 */
export const CNN_CONTROL_FIELDS = {
  channels: int(3, 1, "Input and output channels (RGB)."),
  e1Channels: int(16, 1, "Channels of e1 (full resolution), as SVRNN's e1Channels."),
  e1Kernel: kernel(11, "Kernel of conve1_1."),
  e2Kernel: kernel(7, "Kernel of conve1_2 (stride 2)."),
  d1Kernel: kernel(9, "Kernel of convd1_1."),
  d2Kernel: kernel(5, "Kernel of convd1_2."),
  rnnChannels: int(32, 1, "Channels of e2 and of the stack's output, as SVRNN's rnnChannels."),
  depth: int(8, 1, "Number of 3x3 convs in the middle stack (>= 1)."),
  width: int(64, 1, "Channels inside the middle stack."),
  resize: choice<ResizeMode>(
    "half-pixel",
    RESIZE_MODES,
    "Bilinear x2 upsampling mode of the decoder.",
  ),
  leakySlope: num(0.1, FINITE, "Negative slope of every LReLU."),
  init: choice<InitScheme>(
    "xavier-caffe",
    INIT_SCHEMES,
    "Weight initialisation (biases start at zero).",
  ),
  seed: int(0, 0, "Seed of the initialisation."),
  residual: bool(false, "Add the input to the output, as the SVRNN config it controls for."),
};

export type CNNControlConfig = FieldValues<typeof CNN_CONTROL_FIELDS>;

/** The default control: SVRNN's paper skeleton with an 8-conv, 64-wide middle. */
export const DEFAULT_CNN_CONTROL_CONFIG: Readonly<CNNControlConfig> = Object.freeze(
  fieldDefaults(CNN_CONTROL_FIELDS),
);

export function cnnControlConfig(overrides?: Partial<CNNControlConfig>): CNNControlConfig {
  const c = mergeConfig("cnn", DEFAULT_CNN_CONTROL_CONFIG as CNNControlConfig, overrides);
  validateCNNControlConfig(c);
  return c;
}

/** Throws an Error naming the field unless `c` is a valid CNN-control config. */
export function validateCNNControlConfig(c: CNNControlConfig): void {
  checkFields("cnn", CNN_CONTROL_FIELDS, c);
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
