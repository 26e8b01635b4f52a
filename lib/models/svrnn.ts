/**
 * SVRNN (Zhang et al., CVPR 2018), layer for layer as the authors' test.prototxt
 * (docs/paper.md#network), and every ablation of it as a config of this one
 * builder.
 *
 *   x ─ conve1_1 (11x11, LReLU) ─ e1 ─ conve1_2 (7x7 /2) ─ e2 ─┐
 *   x ─ convg* (VGG-like weight generation, tanh) ─ gate maps   │
 *        block k: four directional gate-recurrent scans of its input with its own gate
 *        maps, concatenated [x1, x2, y1, y2], conv_rnnk (3x3, LReLU)          <─┘
 *   concat(e2, last block) ─ convd1_1 (9x9, LReLU) ─ bilinear x2 ─ concat(e1, ·)
 *        ─ convd1_2 (5x5) = output (no residual to the input)
 *
 * All convs pad k//2 on every side (Caffe). Weights are raw tf.Variables named as the
 * prototxt's layers, so checkpoints carry the paper's names.
 */
import * as tf from "@tensorflow/tfjs";
import { type Direction, DIRECTIONS, gateRecurrent } from "../ops/gate_rnn.ts";
import {
  between,
  bool,
  checkFields,
  choice,
  fieldDefaults,
  type FieldValues,
  FINITE,
  int,
  kernel,
  list,
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
import type { Analysis, DeblurModel, NamedWeight } from "./model.ts";

/** Where the recurrent gates come from. */
export type GateSource =
  /** Generated per pixel and channel by the weight-generation CNN (the paper). */
  | "variant"
  /** One learned value per block, direction and channel, the same at every pixel. */
  | "invariant"
  /** The constant `gateValue` everywhere; nothing learned. */
  | "fixed";

export const GATE_SOURCES: readonly GateSource[] = ["variant", "invariant", "fixed"];

/**
 * Every SVRNN config field, declared once: default (the paper's network, 9,227,027
 * trainable parameters), range and doc. SVRNNConfig, DEFAULT_SVRNN_CONFIG and
 * validateSVRNNConfig are derived from it.
 */
export const SVRNN_FIELDS = {
  channels: int(3, 1, "Input and output channels (RGB)."),
  e1Channels: int(
    16,
    1,
    "Channels of e1, the full-resolution features of conve1_1 (skipped to convd1_2).",
  ),
  e1Kernel: kernel(11, "Kernel of conve1_1."),
  e2Kernel: kernel(7, "Kernel of conve1_2, the stride-2 conv producing e2."),
  d1Kernel: kernel(9, "Kernel of convd1_1."),
  d2Kernel: kernel(5, "Kernel of convd1_2, the output conv."),
  rnnChannels: int(32, 1, "Channels of e2, of every directional scan and of every block's output."),
  genWidth: int(
    64,
    1,
    "Width of convg1_*; the VGG stages are 1x, 2x, 4x, 8x it (convgd1 2x, convgd2 4x).",
  ),
  numBlocks: int(4, 0, "Number of RNN blocks (0 = encoder-decoder only)."),
  directions: list(
    DIRECTIONS,
    DIRECTIONS,
    "Scan directions in every block (any non-empty subset, order irrelevant).",
  ),
  gate: choice<GateSource>("variant", GATE_SOURCES, "Gate source, see GateSource."),
  gateValue: between(
    0.5,
    [-1, 1],
    '"fixed": the constant gate; "invariant": the gate every channel starts from.',
  ),
  fuse: bool(
    true,
    "True: conv_rnnK (3x3, LReLU) fuses the concatenated directions after every block.",
  ),
  unfusedMerge: choice<"max" | "mean">(
    "max",
    ["max", "mean"],
    "Without fusing: how the directions merge (elementwise max as Liu et al. 2016, or mean).",
  ),
  resize: choice<ResizeMode>(
    "half-pixel",
    RESIZE_MODES,
    "Bilinear x2 upsampling mode (convgd path and decoder).",
  ),
  leakySlope: num(0.1, FINITE, "Negative slope of every LReLU."),
  init: choice<InitScheme>(
    "xavier-caffe",
    INIT_SCHEMES,
    "Weight initialisation (biases start at zero).",
  ),
  seed: int(0, 0, "Seed of the initialisation (not from the paper): one seed, one set of weights."),
  residual: bool(
    false,
    "Add the input to the output (not in the paper, which has no residual; see registry.ts).",
  ),
};

export type SVRNNConfig = FieldValues<typeof SVRNN_FIELDS>;

/** The paper's network: 9,227,027 trainable parameters. */
export const DEFAULT_SVRNN_CONFIG: Readonly<SVRNNConfig> = Object.freeze(
  fieldDefaults(SVRNN_FIELDS),
);

/**
 * The gate channels of one block are cut in this order (prototxt: x1, y1, x2, y2) ...
 */
export const GATE_SLICE_ORDER: readonly Direction[] = [
  "left-right",
  "top-bottom",
  "right-left",
  "bottom-top",
];
/** ... while the scans are concatenated in this one (x1, x2, y1, y2) before conv_rnnK. */
export const CONCAT_ORDER: readonly Direction[] = [
  "left-right",
  "right-left",
  "top-bottom",
  "bottom-top",
];
/** Prototxt index J of layer rnnK_J for each direction (names invariant gates). */
export const PROTOTXT_INDEX: Readonly<Record<Direction, number>> = {
  "left-right": 1,
  "right-left": 2,
  "top-bottom": 3,
  "bottom-top": 4,
};

/**
 * A per-channel vector [C] repeated at every pixel of `shape` [N, H, W, C], as an outer
 * product with ones, and its gradient (the sum over pixels) as a product with ones too.
 * Same values as tf.broadcastTo, whose Tile forward and transpose-and-sum gradient made a
 * training step of the invariant and fixed ablations about 13 times slower than the
 * generated gates' on the native backend, where matMul is one BLAS call.
 */
function spreadOverPixels(g: tf.Tensor1D, shape: [number, number, number, number]): tf.Tensor4D {
  const pixels = shape[0] * shape[1] * shape[2], channels = shape[3];
  const spread = tf.customGrad((...args) => ({
    value: tf.matMul(tf.ones([pixels, 1]), tf.reshape(args[0] as tf.Tensor, [1, channels]))
      .reshape(shape),
    gradFunc: (dy: tf.Tensor) =>
      tf.reshape(tf.matMul(tf.ones([1, pixels]), tf.reshape(dy, [pixels, channels])), [channels]),
  }));
  return spread(g) as tf.Tensor4D;
}

/** Merges overrides into the defaults and validates the result. */
export function svrnnConfig(overrides?: Partial<SVRNNConfig>): SVRNNConfig {
  const c = mergeConfig("svrnn", DEFAULT_SVRNN_CONFIG as SVRNNConfig, overrides);
  c.directions = [...c.directions];
  validateSVRNNConfig(c);
  return c;
}

/** Throws an Error naming the field unless `c` is a valid SVRNN config. */
export function validateSVRNNConfig(c: SVRNNConfig): void {
  checkFields("svrnn", SVRNN_FIELDS, c);
  if (c.numBlocks > 0 && c.directions.length === 0) {
    throw new Error("svrnn config directions must not be empty when numBlocks > 0, got []");
  }
}

/** The directions of one block in gate-slice order and in concat order. */
function orderedDirections(c: SVRNNConfig): { slice: Direction[]; concat: Direction[] } {
  return {
    slice: GATE_SLICE_ORDER.filter((d) => c.directions.includes(d)),
    concat: CONCAT_ORDER.filter((d) => c.directions.includes(d)),
  };
}

/** True when the weight-generation CNN exists (variant gates and at least one block). */
function hasGateCNN(c: SVRNNConfig): boolean {
  return c.gate === "variant" && c.numBlocks > 0;
}

/** The conv layers of a config, in the prototxt's order (the checkpoint order). */
export function svrnnLayers(c: SVRNNConfig): ConvSpec[] {
  const w = c.genWidth, r = c.rnnChannels, nd = c.directions.length;
  const layers: ConvSpec[] = [
    convSpec("conve1_1", c.channels, c.e1Channels, c.e1Kernel),
    convSpec("conve1_2", c.e1Channels, r, c.e2Kernel, 2),
  ];
  if (hasGateCNN(c)) {
    layers.push(
      convSpec("convg1_1", c.channels, w, 3),
      convSpec("convg1_2", w, w, 3),
      convSpec("convg2_1", w, 2 * w, 3),
      convSpec("convg2_2", 2 * w, 2 * w, 3),
      convSpec("convg3_1", 2 * w, 4 * w, 3),
      convSpec("convg3_2", 4 * w, 4 * w, 3),
      convSpec("convg3_3", 4 * w, 4 * w, 3),
      convSpec("convg4_1", 4 * w, 8 * w, 3),
      convSpec("convg4_2", 8 * w, 8 * w, 3),
      convSpec("convg4_3", 8 * w, 4 * w, 3),
      convSpec("convgd1", 8 * w, 2 * w, 3),
      convSpec("convgd1_2", 2 * w, 2 * w, 3),
      convSpec("convgd2", 4 * w, 4 * w, 3),
      convSpec("convgd2_2", 4 * w, c.numBlocks * nd * r, 3),
    );
  }
  if (c.fuse) {
    for (let k = 1; k <= c.numBlocks; k++) layers.push(convSpec(`conv_rnn${k}`, nd * r, r, 3));
  }
  layers.push(
    convSpec("convd1_1", 2 * r, c.e1Channels, c.d1Kernel),
    { ...convSpec("convd1_2", 2 * c.e1Channels, c.channels, c.d2Kernel), zeroInit: c.residual },
  );
  return layers;
}

/** Trainable parameters of a config, computed without building it. */
export function svrnnParamCount(c: SVRNNConfig): number {
  const convs = svrnnLayers(c).reduce((s, l) => s + convParamCount(l), 0);
  const invariant = c.gate === "invariant" ? c.numBlocks * c.directions.length * c.rnnChannels : 0;
  return convs + invariant;
}

/**
 * Intermediates of SVRNN.analyze (all at the padded size; e2 and later at half of it):
 *   "e1", "e2"; for block k (1-based) and direction d: "gate/k/d" (the gate map used, in
 *   (-1, 1)) and "scan/k/d" (that scan's output); "block/k" (block k's output).
 */
export interface SVRNNModel extends DeblurModel<SVRNNConfig> {
  readonly family: "svrnn";
  analyze(x: tf.Tensor4D): Analysis;
}

/**
 * The directions' scans merged without conv_rnnK (the "nofuse" ablation): elementwise max
 * or mean. Pairwise `tf.maximum` / `tf.addN` rather than a reduction over a stacked axis:
 * the same values and, barring exact ties, the same gradients, about ten times faster on
 * the cpu and native backends, whose reductions over a leading axis transpose first.
 */
export function mergeDirections(scans: tf.Tensor4D[], how: "max" | "mean"): tf.Tensor4D {
  if (scans.length === 1) return scans[0].clone();
  if (how === "max") return scans.reduce((a, b) => tf.maximum(a, b));
  return tf.div(tf.addN(scans), scans.length);
}

/** Builds an SVRNN from a full config (see svrnnConfig); `name` labels it. */
export function createSVRNN(name: string, config: SVRNNConfig): SVRNNModel {
  const c: SVRNNConfig = { ...config, directions: [...config.directions] };
  validateSVRNNConfig(c);
  Object.freeze(c.directions);
  Object.freeze(c);
  const prefix = variablePrefix(name);
  const order = orderedDirections(c);
  const nd = c.directions.length;
  const multiple = hasGateCNN(c) ? 8 : 2;

  // Variables: convs by name, plus the invariant gates' pre-tanh values.
  const convList: ConvLayer[] = svrnnLayers(c).map((s) => createConv(s, c.init, c.seed, prefix));
  const L = new Map(convList.map((l) => [l.spec.name, l]));
  const layer = (n: string) => L.get(n)!;
  const invariantGates = new Map<string, tf.Variable>();
  if (c.gate === "invariant") {
    const v0 = Math.atanh(c.gateValue);
    for (let k = 1; k <= c.numBlocks; k++) {
      for (const d of order.slice) {
        const n = `rnn${k}_${PROTOTXT_INDEX[d]}.gate`;
        const t = tf.fill([c.rnnChannels], v0);
        invariantGates.set(`${k}/${d}`, tf.variable(t, true, `${prefix}${n}`));
        t.dispose();
      }
    }
  }
  const weights: NamedWeight[] = [
    ...convWeights(convList),
    ...[...invariantGates.entries()].map(([key, variable]) => {
      const [k, d] = key.split("/");
      return {
        name: `rnn${k}_${PROTOTXT_INDEX[d as Direction]}.gate`,
        variable,
        layout: "plain" as const,
      };
    }),
  ];

  const lrelu = (x: tf.Tensor4D, n: string) => conv(x, layer(n), "lrelu", c.leakySlope);
  const relu = (x: tf.Tensor4D, n: string) => conv(x, layer(n), "relu");
  const up = (x: tf.Tensor4D) => upsample2x(x, c.resize);
  const pool = (x: tf.Tensor4D) => tf.maxPool(x, 2, 2, "valid");

  /**
   * The weight-generation CNN: the pre-tanh gate tensor at half resolution with
   * numBlocks * nd * rnnChannels channels. Each stage runs in its own tidy so that
   * inference on large images keeps only what later stages need.
   */
  function gateLogits(x: tf.Tensor4D): tf.Tensor4D {
    const p1 = tf.tidy(() => pool(relu(relu(x, "convg1_1"), "convg1_2")));
    const g2 = tf.tidy(() => relu(relu(p1, "convg2_1"), "convg2_2"));
    p1.dispose();
    const p2 = pool(g2);
    const g3 = tf.tidy(() => relu(relu(p2, "convg3_1"), "convg3_2"));
    p2.dispose();
    const p3 = tf.tidy(() => pool(relu(g3, "convg3_3")));
    const g4 = tf.tidy(() => relu(relu(relu(p3, "convg4_1"), "convg4_2"), "convg4_3"));
    p3.dispose();
    const d1 = tf.tidy(() =>
      relu(relu(tf.concat([g3, up(g4)], 3) as tf.Tensor4D, "convgd1"), "convgd1_2")
    );
    g3.dispose();
    g4.dispose();
    const d2 = tf.tidy(() => relu(tf.concat([g2, up(d1)], 3) as tf.Tensor4D, "convgd2"));
    g2.dispose();
    d1.dispose();
    const logits = conv(d2, layer("convgd2_2"), "none");
    d2.dispose();
    return logits;
  }

  /**
   * The gate map of block k (1-based), direction d, shaped like the block's input. `maps`
   * holds the generated gate logits cut into one tensor per block and direction, in slice
   * order: cut once with tf.split, whose gradient is one concat (a slice per map would
   * pad each map's gradient back to all channels and add them up).
   */
  function gateFor(
    maps: tf.Tensor4D[] | null,
    k: number,
    d: Direction,
    shape: [number, number, number, number],
  ): tf.Tensor4D {
    const r = c.rnnChannels;
    if (c.gate === "variant") return tf.tanh(maps![(k - 1) * nd + order.slice.indexOf(d)]);
    const g = c.gate === "invariant"
      ? tf.tanh(invariantGates.get(`${k}/${d}`)!)
      : tf.fill([r], c.gateValue);
    return spreadOverPixels(g as tf.Tensor1D, shape);
  }

  /** One RNN block; `record` receives the gates and scans when analysing. */
  function block(
    h: tf.Tensor4D,
    maps: tf.Tensor4D[] | null,
    k: number,
    record?: Record<string, tf.Tensor4D>,
  ): tf.Tensor4D {
    const scans = order.concat.map((d) => {
      const g = gateFor(maps, k, d, h.shape);
      const s = gateRecurrent(h, g, d);
      if (record) {
        record[`gate/${k}/${d}`] = g;
        record[`scan/${k}/${d}`] = s;
      }
      return s;
    });
    if (c.fuse) {
      const cat = scans.length === 1 ? scans[0] : tf.concat(scans, 3) as tf.Tensor4D;
      return lrelu(cat, `conv_rnn${k}`);
    }
    return mergeDirections(scans, c.unfusedMerge);
  }

  /** The whole network; `record` collects intermediates (analysis) and keeps them. */
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
      const e2 = conv(e1, layer("conve1_2"), "none");
      const logits = hasGateCNN(c) ? gateLogits(x) : null;
      const maps = logits ? tf.split(logits, c.numBlocks * nd, 3) as tf.Tensor4D[] : null;
      logits?.dispose();
      let h = e2;
      for (let k = 1; k <= c.numBlocks; k++) {
        const prev = h;
        h = record ? block(prev, maps, k, record) : tf.tidy(() => block(prev, maps, k));
        if (record) record[`block/${k}`] = h;
        else if (prev !== e2) prev.dispose();
      }
      if (maps) tf.dispose(maps);
      const d1 = lrelu(tf.concat([e2, h], 3) as tf.Tensor4D, "convd1_1");
      const decoded = conv(tf.concat([e1, up(d1)], 3) as tf.Tensor4D, layer("convd1_2"), "none");
      const out = c.residual ? tf.add(decoded, x) as tf.Tensor4D : decoded;
      if (record) {
        record.e1 = e1;
        record.e2 = e2;
        for (const t of Object.values(record)) tf.keep(t);
      }
      return out;
    });
  }

  return singleScaleModel({ name, family: "svrnn", config: c, multiple, weights, run });
}
