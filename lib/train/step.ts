/**
 * One optimisation step of the recipe, with the order of operations Caffe's solver uses:
 * loss and gradients, clip by global norm, add weight decay, Adam update (the last three
 * fused in one pass per weight: adam.ts).
 * The update is applied only when the loss and the gradient norm are finite, so a
 * diverging batch leaves the weights as they were.
 */
import * as tf from "@tensorflow/tfjs";
import { type DeblurModel, isMultiScale } from "../models/model.ts";
import type { PixelLoss, TrainConfig } from "./config.ts";
import type { RecipeAdam } from "./adam.ts";

/**
 * SVRNN's L2 loss, sum((out - gt)^2) / 2 / batch (solver.prototxt's EuclideanLoss), its
 * L1 counterpart sum(|out - gt|) / batch, or the PSNR loss: the mean over the patches of
 * 10 log10(MSE), minus the mean per-patch PSNR. L2 spends its effort where the errors are
 * large; the PSNR loss weights every patch alike in decibels, as the mean-PSNR metric does,
 * so nearly sharp patches (a small blurred object, a short kernel) are not sacrificed to
 * the blurriest ones. For a multi-scale model, Nah et al.'s loss:
 * the mean over the K scales of the same term, each scale against the sharp image
 * downscaled the way the model downscales its input.
 */
/** Added to each patch's MSE in the PSNR loss: caps a perfect patch at 100 dB. */
const PSNR_EPS = 1e-10;

export function modelLoss(
  model: DeblurModel,
  blurry: tf.Tensor4D,
  sharp: tf.Tensor4D,
  loss: PixelLoss = "l2",
): tf.Scalar {
  return tf.tidy(() => {
    const n = blurry.shape[0];
    const term = (out: tf.Tensor4D, gt: tf.Tensor4D) =>
      (loss === "l1" ? tf.div(tf.sum(tf.abs(tf.sub(out, gt))), n) : loss === "psnr"
        ? tf.mul(
          10 / Math.LN10,
          tf.mean(tf.log(tf.add(tf.mean(tf.squaredDifference(out, gt), [1, 2, 3]), PSNR_EPS))),
        )
        : tf.div(tf.sum(tf.squaredDifference(out, gt)), 2 * n)) as tf.Scalar;
    if (!isMultiScale(model)) return term(model.forward(blurry), sharp);
    const outs = model.predictScales(blurry);
    const gts = model.pyramid(sharp);
    return tf.div(tf.addN(outs.map((o, k) => term(o, gts[k]))), outs.length) as tf.Scalar;
  });
}

export interface StepResult {
  loss: number;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** True when the gradient was rescaled to `clipNorm`. */
  clipped: boolean;
  /** False when loss or gradient was not finite: nothing was applied. */
  applied: boolean;
}

export async function trainStep(
  model: DeblurModel,
  optimizer: RecipeAdam,
  blurry: tf.Tensor4D,
  sharp: tf.Tensor4D,
  cfg: TrainConfig,
  learningRate: number,
): Promise<StepResult> {
  const { value, grads } = tf.variableGrads(
    () => modelLoss(model, blurry, sharp, cfg.loss),
    model.trainableVariables,
  );
  const normT = tf.tidy(() =>
    tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))))
  );
  const [loss, gradNorm] = [(await value.data())[0], (await normT.data())[0]];
  tf.dispose([value, normT]);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    tf.dispose(grads);
    return { loss, gradNorm, clipped: false, applied: false };
  }
  const clipped = cfg.clipNorm > 0 && gradNorm > cfg.clipNorm;
  const scale = clipped ? cfg.clipNorm / gradNorm : 1;
  optimizer.step(model.trainableVariables, grads, {
    learningRate,
    scale,
    weightDecay: cfg.weightDecay,
  });
  tf.dispose(grads);
  return { loss, gradNorm, clipped, applied: true };
}
