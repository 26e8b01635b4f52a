/**
 * The training recipe. Defaults are the SVRNN authors' solver.prototxt
 * (docs/paper.md#training-recipe); every field can be overridden from the CLI.
 */
export interface TrainConfig {
  /** Registry name of the model to train. */
  model: string;
  /** Total optimisation steps (the paper: 200,000). */
  steps: number;
  /** Patches per step (the paper: 20). */
  batchSize: number;
  /** Side of the square training patches, a multiple of the model's `multiple` (the paper: 128). */
  patchSize: number;
  /** Base learning rate of Adam (the paper: 1e-4). */
  learningRate: number;
  /** "poly" decay power: lr = base * (1 - step / steps) ^ power (the paper: 2). */
  lrPower: number;
  /** Adam beta1. */
  beta1: number;
  /** Adam beta2. */
  beta2: number;
  /** Adam epsilon (Caffe's default delta). */
  epsilon: number;
  /** L2 weight decay added to the gradient, as Caffe does (the paper: 1e-6). */
  weightDecay: number;
  /** Rescale gradients whose global L2 norm exceeds this (the paper: 5000; 0 = off). */
  clipNorm: number;
  /** Pixel loss: "l2" (the paper's EuclideanLoss) or "l1" (the same sum of |out - gt|). */
  loss: PixelLoss;
  /** Seed of weight initialisation and patch sampling. */
  seed: number;
  /** Log (progress line and JSON-lines record) every this many steps. */
  logEvery: number;
  /** Validation PSNR every this many steps (0 = never). */
  valEvery: number;
  /** Checkpoint every this many steps (0 = only at the end and on best validation). */
  checkpointEvery: number;
}

export const PIXEL_LOSSES = ["l2", "l1"] as const;
export type PixelLoss = typeof PIXEL_LOSSES[number];

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  model: "svrnn-small",
  steps: 200_000,
  batchSize: 20,
  patchSize: 128,
  learningRate: 1e-4,
  lrPower: 2,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 1e-6,
  clipNorm: 5000,
  loss: "l2",
  seed: 0,
  logEvery: 10,
  valEvery: 1000,
  checkpointEvery: 1000,
};

/**
 * A recipe as stored by an earlier version of the kit, with the fields added since at the
 * values those runs used (they trained with the L2 loss before `loss` existed), so stored
 * and new recipes compare field by field.
 */
export function withRecipeDefaults<T extends object>(recipe: T): T {
  return { loss: "l2", ...recipe } as T;
}

/** Learning rate at `step` (0-based) under the "poly" schedule. */
export function learningRateAt(cfg: TrainConfig, step: number): number {
  return cfg.learningRate * Math.pow(Math.max(0, 1 - step / cfg.steps), cfg.lrPower);
}
