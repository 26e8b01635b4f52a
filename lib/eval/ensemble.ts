/**
 * Flip self-ensemble at test time (Lim et al., EDSR, 2017, "geometric self-ensemble",
 * restricted to the flips the training sampler draws): the prediction is the mean of
 * unflip(model(flip(x))) over the four combinations of horizontal and vertical flips.
 * Four times the inference cost; no retraining. Transposes are left out: the sampler does
 * not draw them, so the models have not seen transposed blur.
 */
import * as tf from "@tensorflow/tfjs";
import type { DeblurModel } from "../models/model.ts";

/** Axes reversed by each member of the ensemble (NHWC: 1 = vertical, 2 = horizontal flip). */
export const FLIPS: readonly (readonly number[])[] = [[], [2], [1], [1, 2]];

/** The ensemble's prediction for a batch [N,H,W,3]; one new tensor, leaks nothing. */
export function predictFlipEnsemble(model: DeblurModel, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const outs = FLIPS.map((axes) => {
      if (axes.length === 0) return model.predict(x);
      return tf.reverse(model.predict(tf.reverse(x, axes as number[])), axes as number[]);
    });
    return tf.div(tf.addN(outs), FLIPS.length) as tf.Tensor4D;
  });
}

/** `model` whose predict() is the flip ensemble; everything else is the model's own. */
export function withFlipEnsemble(model: DeblurModel): DeblurModel {
  return new Proxy(model, {
    get(target, key, receiver) {
      if (key === "predict") return (x: tf.Tensor4D) => predictFlipEnsemble(target, x);
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
