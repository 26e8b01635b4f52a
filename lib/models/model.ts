/**
 * The interface every model of the kit implements (SVRNN, Nah et al., the CNN control).
 * Tensors are NHWC float32; images RGB in [0, 1].
 */
import type * as tf from "@tensorflow/tfjs";
export type ModelFamily = "svrnn" | "nah" | "cnn";

/** A variable with the name it has in a checkpoint. */
export interface NamedWeight {
  /** Checkpoint name, e.g. "conve1_1.weight". */
  name: string;
  variable: tf.Variable;
  /** "conv": stored [kh,kw,in,out] here, [out,in,kh,kw] in a checkpoint; "plain": as is. */
  layout: "conv" | "plain";
}

/** What `analyze` returns: the prediction plus named intermediate tensors. */
export interface Analysis {
  /** Same as predict(x): cropped to the input size, unclipped. */
  output: tf.Tensor4D;
  /**
   * Named intermediates at the padded working size (see each model's docs for the
   * names). The caller owns every tensor here and must dispose them (or use tf.tidy).
   */
  intermediates: Record<string, tf.Tensor4D>;
}

export interface DeblurModel<C extends object = object> {
  /** Registry name it was built from, e.g. "svrnn-small". */
  readonly name: string;
  readonly family: ModelFamily;
  /** The full config (defaults merged with overrides). Do not mutate. */
  readonly config: Readonly<C>;
  /** forward() needs H and W to be multiples of this; predict() pads to it. */
  readonly multiple: number;
  /** Every trainable variable, in checkpoint order. */
  readonly trainableVariables: tf.Variable[];
  /** The same variables with their checkpoint names and layouts. */
  readonly weights: readonly NamedWeight[];
  /**
   * The network on an input whose H and W are multiples of `multiple` (for training on
   * patches). Differentiable; the caller manages memory (use inside tf.tidy/variableGrads).
   */
  forward(x: tf.Tensor4D): tf.Tensor4D;
  /**
   * Deblurs a batch [N,H,W,3] of any size: pads bottom/right to `multiple` (reflect),
   * runs forward, crops back. Returns one new tensor (unclipped); leaks nothing.
   */
  predict(x: tf.Tensor4D): tf.Tensor4D;
  /** predict() plus the intermediates the notebooks plot. */
  analyze(x: tf.Tensor4D): Analysis;
  /** Number of trainable scalars. */
  paramCount(): number;
  /** Frees every variable; the model is unusable afterwards. */
  dispose(): void;
}

/** Multi-scale models (Nah et al.) also return every scale's output. */
export interface MultiScaleModel<C extends object = object> extends DeblurModel<C> {
  /** Number of pyramid levels. */
  readonly scales: number;
  /**
   * Outputs at every scale, finest first ([N,H,W,3], [N,H/2,W/2,3], ...), for the
   * multi-scale loss. H and W must be multiples of `multiple`. Differentiable.
   */
  predictScales(x: tf.Tensor4D): tf.Tensor4D[];
  /** The blurry (or sharp) image pyramid the model uses, finest first, for loss targets. */
  pyramid(x: tf.Tensor4D): tf.Tensor4D[];
}

export function isMultiScale(m: DeblurModel): m is MultiScaleModel {
  return typeof (m as Partial<MultiScaleModel>).predictScales === "function";
}

/** Sum of the sizes of a list of variables. */
export function countParams(vars: readonly tf.Variable[]): number {
  return vars.reduce((s, v) => s + v.size, 0);
}
