/**
 * Training state in a checkpoint: the model's weights, Adam's moments and iteration
 * count (under "optimizer."), and the loop's own state (step, best validation PSNR,
 * recipe) as JSON in the metadata entry "training". Adam's moments are stored in tfjs
 * layout under the weight's checkpoint name: "optimizer.m.conve1_1.weight", ".v.", and
 * "optimizer.iter".
 */
import * as tf from "@tensorflow/tfjs";
import type { DeblurModel } from "../models/model.ts";
import { loadCheckpoint, saveCheckpoint } from "../models/checkpoint.ts";
import { type TrainConfig, withRecipeDefaults } from "./config.ts";
import { InputError } from "../data/errors.ts";

export interface CheckpointState {
  /** Optimisation steps completed. */
  step: number;
  bestValPsnr: number | null;
  config: TrainConfig;
  [extra: string]: unknown;
}

export async function writeTrainingState(
  model: DeblurModel,
  optimizer: tf.AdamOptimizer,
  path: string,
  state: CheckpointState,
): Promise<void> {
  const byVariable = new Map(model.weights.map((w) => [w.variable.name, w.name]));
  const optState: Record<string, tf.Tensor> = {};
  const owned: tf.Tensor[] = [];
  for (const { name, tensor } of await optimizer.getWeights()) {
    if (name === "iter") {
      optState.iter = tensor;
      owned.push(tensor); // getWeights creates this scalar; the moments are Adam's own
      continue;
    }
    const [varName, moment] = [name.slice(0, -2), name.slice(-1)];
    const ckptName = byVariable.get(varName);
    if (!ckptName) throw new Error(`optimizer state for unknown variable ${varName}`);
    optState[`${moment}.${ckptName}`] = tensor;
  }
  const { step, bestValPsnr, config, ...extra } = state;
  try {
    await saveCheckpoint(model, path, {
      ...extra,
      training: JSON.stringify({ step, bestValPsnr, config }),
    }, { optimizer: optState });
  } finally {
    tf.dispose(owned);
  }
}

/** Recipe fields a resumed run may change: they decide what is logged, not what is learned. */
const BOOKKEEPING: readonly string[] = ["logEvery", "valEvery", "checkpointEvery"];

/** "label field: stored -> wanted" for every field whose JSON differs. */
function differingFields(
  stored: object,
  wanted: object,
  label: string,
  ignore: readonly string[] = [],
): string[] {
  const a = stored as Record<string, unknown>, b = wanted as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) =>
    !ignore.includes(k)
  );
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) =>
    `${label}${k} ${JSON.stringify(a[k])}, now ${JSON.stringify(b[k])}`
  );
}

/**
 * Loads weights and, when present, Adam's state into `optimizer` (a fresh Adam with the
 * recipe's hyper-parameters). Returns the loop state stored with them.
 */
export async function readTrainingState(
  model: DeblurModel,
  optimizer: tf.AdamOptimizer,
  path: string,
  expected?: TrainConfig,
): Promise<CheckpointState> {
  const { metadata, optimizer: opt } = await loadCheckpoint(model, path);
  if (!metadata.training) {
    tf.dispose(Object.values(opt));
    throw new Error(`${path}: no training state in this checkpoint (is it a released model?)`);
  }
  const state = JSON.parse(metadata.training) as CheckpointState;
  if (expected) {
    const differences = [
      ...differingFields(JSON.parse(metadata.config ?? "{}"), model.config, "model "),
      ...differingFields(withRecipeDefaults(state.config), expected, "", BOOKKEEPING),
    ];
    if (differences.length > 0) {
      tf.dispose(Object.values(opt));
      throw new InputError(
        `${path} was written by another run (${differences.join("; ")}): ` +
          `resume with the same settings or start over in another folder (train: --fresh or --out)`,
      );
    }
  }
  if (opt.iter) {
    // Adam matches moments to variables by position, in trainableVariables order.
    const vars = model.weights;
    const missing = vars.filter((w) => !opt[`m.${w.name}`] || !opt[`v.${w.name}`]);
    if (missing.length > 0) {
      tf.dispose(Object.values(opt));
      throw new Error(`${path}: optimizer state lacks ${missing.map((w) => w.name).join(", ")}`);
    }
    await optimizer.setWeights([
      { name: "iter", tensor: opt.iter },
      ...vars.map((w) => ({ name: `${w.variable.name}/m`, tensor: opt[`m.${w.name}`] })),
      ...vars.map((w) => ({ name: `${w.variable.name}/v`, tensor: opt[`v.${w.name}`] })),
    ]);
  }
  // setWeights copies the moments into new variables.
  tf.dispose(Object.values(opt));
  return state;
}
