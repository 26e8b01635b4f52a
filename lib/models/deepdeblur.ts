/**
 * Nah, Kim & Lee, "Deep Multi-scale Convolutional Neural Network for Dynamic Scene
 * Deblurring", CVPR 2017 (DeepDeblur): the comparison baseline
 * (docs/paper.md#nah-et-al-2017-deepdeblur).
 *
 * Three scales, coarse to fine. Each scale: conv 5x5 -> 19 ResBlocks (conv-ReLU-conv +
 * identity, no batch norm) -> conv 5x5 to RGB, 64 channels. The coarser output goes
 * through a 5x5 conv 3->12 and a x2 pixel shuffle and is concatenated after the finer
 * blurry input (6 channels). Layer names, channel orders and the mean shift follow the
 * authors' PyTorch port (DeepDeblur-PyTorch, MSResNet), so a checkpoint maps name for
 * name: `body_models.{s}.body.0` (head), `body_models.{s}.body.{i}.body.{0,2}` (ResBlock
 * i = 1..19), `body_models.{s}.body.20` (tail), `conv_end_models.{s}.uppath.0`, with s = 0
 * the finest scale. The paper configuration has 11,721,321 trainable parameters.
 *
 * The image pyramid is made by 2x2 averaging (exactly a bilinear half-pixel x0.5
 * resize); the multi-scale loss should use `pyramid()` for its targets.
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
  cropTo,
  INIT_SCHEMES,
  type InitScheme,
  padToMultiple,
  pixelShuffle,
  variablePrefix,
} from "./layers.ts";
import { countParams, type MultiScaleModel } from "./model.ts";

/**
 * Every Nah et al. config field, declared once: default (the paper's network, 11,721,321
 * trainable parameters), range and doc. NahConfig, DEFAULT_NAH_CONFIG and
 * validateNahConfig are derived from it.
 */
export const NAH_FIELDS = {
  channels: int(3, 1, "Input and output channels (RGB)."),
  scales: int(3, [1, 8], "Pyramid levels, each half the size of the next finer one."),
  features: int(64, 1, "Feature channels of every conv inside a scale."),
  kernel: kernel(5, "Kernel size of every conv."),
  resBlocks: int(19, 0, "ResBlocks per scale."),
  meanShift: num(
    0.5,
    FINITE,
    "Subtracted from the inputs and added to the outputs (rgb_range / 2 in the port).",
  ),
  init: choice<InitScheme>(
    "pytorch",
    INIT_SCHEMES,
    'Weight initialisation (biases start at zero); "pytorch" as the port\'s nn.Conv2d.',
  ),
  seed: int(0, 0, "Seed of the initialisation: one seed, one set of weights."),
  residual: bool(
    false,
    "Add each scale's blurry input to its output (not in the paper; see registry.ts).",
  ),
};

export type NahConfig = FieldValues<typeof NAH_FIELDS>;

/** The paper's network: 11,721,321 trainable parameters. */
export const DEFAULT_NAH_CONFIG: Readonly<NahConfig> = Object.freeze(fieldDefaults(NAH_FIELDS));

export function nahConfig(overrides?: Partial<NahConfig>): NahConfig {
  const c = mergeConfig("nah", DEFAULT_NAH_CONFIG as NahConfig, overrides);
  validateNahConfig(c);
  return c;
}

/** Throws an Error naming the field unless `c` is a valid Nah et al. config. */
export function validateNahConfig(c: NahConfig): void {
  checkFields("nah", NAH_FIELDS, c);
}

/** The conv layers, coarsest scale first (the order they run), conv_end layers last. */
export function nahLayers(c: NahConfig): ConvSpec[] {
  const f = c.features, k = c.kernel, ch = c.channels;
  const layers: ConvSpec[] = [];
  for (let s = c.scales - 1; s >= 0; s--) {
    const p = `body_models.${s}.body`;
    layers.push(convSpec(`${p}.0`, s === c.scales - 1 ? ch : 2 * ch, f, k));
    for (let i = 1; i <= c.resBlocks; i++) {
      layers.push(convSpec(`${p}.${i}.body.0`, f, f, k), convSpec(`${p}.${i}.body.2`, f, f, k));
    }
    layers.push({ ...convSpec(`${p}.${c.resBlocks + 1}`, f, ch, k), zeroInit: c.residual });
  }
  for (let s = c.scales - 1; s >= 1; s--) {
    layers.push(convSpec(`conv_end_models.${s}.uppath.0`, ch, 4 * ch, k));
  }
  return layers;
}

export function nahParamCount(c: NahConfig): number {
  return nahLayers(c).reduce((s, l) => s + convParamCount(l), 0);
}

/**
 * Intermediates of analyze: "scale/s" for every scale s (0 = finest), the outputs at the
 * padded size, and "input/s", the blurry pyramid.
 */
export type NahModel = MultiScaleModel<NahConfig> & { readonly family: "nah" };

export function createNah(name: string, config: NahConfig): NahModel {
  const c: NahConfig = Object.freeze({ ...config });
  validateNahConfig(c);
  const prefix = variablePrefix(name);
  const convList: ConvLayer[] = nahLayers(c).map((s) => createConv(s, c.init, c.seed, prefix));
  const L = new Map(convList.map((l) => [l.spec.name, l]));
  const layer = (n: string) => L.get(n)!;
  const weights = convWeights(convList);
  const trainableVariables = weights.map((w) => w.variable);
  const multiple = 2 ** (c.scales - 1);

  function pyramid(x: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const levels = [x.clone()];
      for (let s = 1; s < c.scales; s++) levels.push(tf.avgPool(levels[s - 1], 2, 2, "valid"));
      return levels;
    });
  }

  /** One scale's ResNet: head conv, ResBlocks, tail conv (all on shifted values). */
  function body(x: tf.Tensor4D, s: number): tf.Tensor4D {
    const p = `body_models.${s}.body`;
    let h = tf.tidy(() => conv(x, layer(`${p}.0`), "none"));
    for (let i = 1; i <= c.resBlocks; i++) {
      const prev = h;
      h = tf.tidy(() =>
        tf.add(
          prev,
          conv(conv(prev, layer(`${p}.${i}.body.0`), "relu"), layer(`${p}.${i}.body.2`), "none"),
        )
      );
      prev.dispose();
    }
    const out = conv(h, layer(`${p}.${c.resBlocks + 1}`), "none");
    h.dispose();
    return out;
  }

  /** All scales' outputs, finest first. H and W must be multiples of `multiple`. */
  function scalesOf(x: tf.Tensor4D): tf.Tensor4D[] {
    checkInput(name, x, c.channels);
    const [, H, W] = x.shape;
    if (H % multiple !== 0 || W % multiple !== 0) {
      throw new Error(
        `${name}: forward needs H and W to be multiples of ${multiple}, got ${H}x${W} (use predict)`,
      );
    }
    return tf.tidy(() => {
      const inputs = pyramid(x).map((t) => tf.sub(t, c.meanShift) as tf.Tensor4D);
      const outs: tf.Tensor4D[] = new Array(c.scales);
      let input = inputs[c.scales - 1];
      for (let s = c.scales - 1; s >= 0; s--) {
        outs[s] = body(input, s);
        if (s > 0) {
          const upFeat = pixelShuffle(
            conv(outs[s], layer(`conv_end_models.${s}.uppath.0`), "none"),
            2,
          );
          input = tf.concat([inputs[s - 1], upFeat], 3) as tf.Tensor4D;
        }
      }
      return outs.map((o, s) =>
        tf.add(o, c.residual ? tf.add(inputs[s], c.meanShift) : c.meanShift) as tf.Tensor4D
      );
    });
  }

  return {
    name,
    family: "nah",
    config: c,
    multiple,
    scales: c.scales,
    trainableVariables,
    weights,
    forward(x) {
      return tf.tidy(() => scalesOf(x)[0]);
    },
    predictScales: scalesOf,
    pyramid,
    predict(x) {
      checkInput(name, x, c.channels);
      return tf.tidy(() => {
        const { padded, height, width } = padToMultiple(x, multiple);
        return cropTo(scalesOf(padded)[0], height, width);
      });
    },
    analyze(x) {
      checkInput(name, x, c.channels);
      const intermediates: Record<string, tf.Tensor4D> = {};
      const output = tf.tidy(() => {
        const { padded, height, width } = padToMultiple(x, multiple);
        const outs = scalesOf(padded);
        const inputs = pyramid(padded);
        outs.forEach((o, s) => (intermediates[`scale/${s}`] = tf.keep(o)));
        inputs.forEach((t, s) => (intermediates[`input/${s}`] = tf.keep(t)));
        return cropTo(outs[0], height, width);
      });
      return { output, intermediates };
    },
    paramCount: () => countParams(trainableVariables),
    dispose() {
      for (const v of trainableVariables) v.dispose();
    },
  };
}
