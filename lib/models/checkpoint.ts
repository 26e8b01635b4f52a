/**
 * Checkpoint files (Deno file I/O over checkpoint_bytes.ts, which documents the format).
 *
 *   await saveCheckpoint(model, "results/checkpoints/svrnn-small.safetensors", { commit, step });
 *   await loadCheckpoint(model, path);             // validates every name, shape, dtype
 *   const { model } = await loadModel(path);       // rebuilds the model from the metadata
 */
import * as tf from "@tensorflow/tfjs";
import {
  checkpointToBytes,
  inspectCheckpointBytes,
  loadCheckpointBytes,
  type LoadedCheckpoint,
  modelFromCheckpointBytes,
} from "./checkpoint_bytes.ts";
import type { DeblurModel } from "./model.ts";

export {
  CHECKPOINT_FORMAT,
  CheckpointMismatchError,
  type LoadedCheckpoint,
  OPTIMIZER_PREFIX,
} from "./checkpoint_bytes.ts";
export { SafetensorsError } from "./safetensors.ts";

export interface SaveOptions {
  /** Optimizer state, stored under "optimizer." + key (float32 or int32 tensors). */
  optimizer?: Record<string, tf.Tensor>;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/**
 * Writes the model's weights (and optional optimizer state) to `path` as safetensors,
 * with model name, config and the given provenance in the metadata. Writes a temporary
 * file beside it and renames it, so a crash never leaves a half-written checkpoint.
 */
export async function saveCheckpoint(
  model: DeblurModel,
  path: string,
  metadata: Record<string, unknown> = {},
  options: SaveOptions = {},
): Promise<void> {
  const bytes = await checkpointToBytes(model, metadata, options.optimizer);
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`cannot write checkpoint ${path}: ${(e as Error).message}`);
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`checkpoint ${path}: no such file`);
    throw new Error(`checkpoint ${path}: cannot read: ${(e as Error).message}`);
  }
}

/**
 * Loads `path` into the model. Throws, leaving the model unchanged, if the file is
 * missing, truncated or corrupt (SafetensorsError naming the file) or does not fit the
 * model (CheckpointMismatchError listing every missing, unexpected, mis-shaped tensor).
 */
export async function loadCheckpoint(model: DeblurModel, path: string): Promise<LoadedCheckpoint> {
  return loadCheckpointBytes(model, await readBytes(path), path);
}

/** Builds the model named in the checkpoint's metadata and loads its weights. */
export async function loadModel(path: string): Promise<{ model: DeblurModel } & LoadedCheckpoint> {
  return modelFromCheckpointBytes(await readBytes(path), path);
}

/**
 * Releases a run's checkpoint: the weights of `from` (its optimizer state left out) written
 * to `to` with `metadata` over the run's training and init records and the source path, so
 * a shipped file says where it came from.
 */
export async function releaseCheckpoint(
  from: string,
  to: string,
  metadata: Record<string, unknown>,
): Promise<void> {
  const { model, metadata: own, optimizer } = await loadModel(from);
  tf.dispose(Object.values(optimizer));
  try {
    await saveCheckpoint(model, to, {
      ...metadata,
      training: own.training,
      ...(own.init ? { init: own.init } : {}),
      source_checkpoint: from,
    });
  } finally {
    model.dispose();
  }
}

/** The metadata and tensor list of a checkpoint, without building a model. */
export async function inspectCheckpoint(
  path: string,
): Promise<ReturnType<typeof inspectCheckpointBytes>> {
  return inspectCheckpointBytes(await readBytes(path), path);
}
