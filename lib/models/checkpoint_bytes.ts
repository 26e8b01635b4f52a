/**
 * Checkpoints as bytes (browser-safe; file I/O lives in checkpoint.ts).
 *
 * A checkpoint is a safetensors file holding every trainable variable under its
 * checkpoint name (the paper code's layer names plus ".weight" / ".bias"), conv weights
 * stored [out, in, kh, kw] as in Caffe and PyTorch (tfjs holds them [kh, kw, in, out]),
 * everything float32. Optional optimizer state sits under the prefix "optimizer.".
 * The "__metadata__" map holds:
 *   format         "svrnn-kit-checkpoint/1"
 *   model          the registry name ("svrnn", "svrnn-small", ...)
 *   family         "svrnn" | "nah" | "cnn"
 *   config         the full config as JSON (createModel(model, config) rebuilds it)
 *   weight_layout  "conv weights [out,in,kh,kw]"
 *   param_count    the number of trainable parameters
 * plus the caller's provenance entries (strings kept as they are, anything else as JSON).
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedWeight } from "./model.ts";
import type { DeblurModel } from "./model.ts";
import { createModel } from "./registry.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type RawTensor,
  rawToFloat32,
  rawToInt32,
  type TensorToWrite,
} from "./safetensors.ts";

export const CHECKPOINT_FORMAT = "svrnn-kit-checkpoint/1";
export const OPTIMIZER_PREFIX = "optimizer.";
const RESERVED = ["format", "model", "family", "config", "weight_layout", "param_count"];

/** tfjs [kh,kw,in,out] -> checkpoint [out,in,kh,kw]. */
const TO_FILE = [3, 2, 0, 1];
/** checkpoint [out,in,kh,kw] -> tfjs [kh,kw,in,out]. */
const FROM_FILE = [2, 3, 1, 0];

/** The shape a weight has in a checkpoint. */
export function fileShape(w: NamedWeight): number[] {
  const s = w.variable.shape;
  return w.layout === "conv" ? TO_FILE.map((i) => s[i]) : [...s];
}

export interface LoadedCheckpoint {
  /** The file's metadata map. */
  metadata: Record<string, string>;
  /** Optimizer state found under "optimizer.", prefix removed. The caller disposes it. */
  optimizer: Record<string, tf.Tensor>;
}

/** Thrown when a checkpoint's tensors do not fit the model; lists every problem. */
export class CheckpointMismatchError extends Error {
  constructor(
    readonly source: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly wrongShape: string[],
    readonly wrongDtype: string[],
    modelName: string,
    fileModel: string | undefined,
  ) {
    const parts: string[] = [];
    const list = (label: string, xs: string[]) => {
      if (xs.length > 0) parts.push(`${xs.length} ${label} (${xs.join(", ")})`);
    };
    list("missing", missing);
    list("unexpected", unexpected);
    list("with the wrong shape", wrongShape);
    list("with the wrong dtype", wrongDtype);
    const from = fileModel && fileModel !== modelName ? ` (it was written by "${fileModel}")` : "";
    super(`checkpoint ${source} does not match model "${modelName}"${from}: ${parts.join("; ")}`);
    this.name = "CheckpointMismatchError";
  }
}

function metadataString(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Serialises a model (and optionally optimizer state) to safetensors bytes.
 * `provenance` entries land in the metadata; they may not reuse the reserved keys.
 */
export async function checkpointToBytes(
  model: DeblurModel,
  provenance: Record<string, unknown> = {},
  optimizer: Record<string, tf.Tensor> = {},
): Promise<Uint8Array> {
  const clash = Object.keys(provenance).filter((k) => RESERVED.includes(k));
  if (clash.length > 0) {
    throw new Error(`checkpoint metadata: ${clash.join(", ")} reserved (set by the kit)`);
  }
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    model: model.name,
    family: model.family,
    config: JSON.stringify(model.config),
    weight_layout: "conv weights [out,in,kh,kw]",
    param_count: String(model.paramCount()),
  };
  for (const [k, v] of Object.entries(provenance)) {
    if (v !== undefined) metadata[k] = metadataString(v);
  }
  const entries: Array<[string, TensorToWrite]> = [];
  for (const w of model.weights) {
    const t = w.layout === "conv" ? tf.transpose(w.variable, TO_FILE) : w.variable;
    const data = await t.data<"float32">();
    if (t !== w.variable) t.dispose();
    entries.push([w.name, { dtype: "F32", shape: fileShape(w), data: data as Float32Array }]);
  }
  for (const [k, t] of Object.entries(optimizer)) {
    if (t.dtype !== "float32" && t.dtype !== "int32") {
      throw new Error(`checkpoint optimizer state ${k}: dtype ${t.dtype} unsupported`);
    }
    const data = await t.data();
    entries.push([`${OPTIMIZER_PREFIX}${k}`, {
      dtype: t.dtype === "float32" ? "F32" : "I32",
      shape: [...t.shape],
      data: data as Float32Array | Int32Array,
    }]);
  }
  return encodeSafetensors(entries, metadata);
}

/**
 * Checks that a decoded file's tensors fit the model exactly (every name, shape and
 * dtype) and throws one CheckpointMismatchError listing every problem.
 */
function checkFits(
  model: DeblurModel,
  tensors: Map<string, RawTensor>,
  metadata: Record<string, string>,
  source: string,
): void {
  const expected = new Map(model.weights.map((w) => [w.name, w]));
  const missing: string[] = [], wrongShape: string[] = [], wrongDtype: string[] = [];
  for (const w of model.weights) {
    const t = tensors.get(w.name);
    if (!t) {
      missing.push(w.name);
      continue;
    }
    const want = fileShape(w);
    if (!tf.util.arraysEqual(t.shape, want)) {
      wrongShape.push(`${w.name} is [${t.shape}], model needs [${want}]`);
    }
    if (t.dtype !== "F32") wrongDtype.push(`${w.name} is ${t.dtype}, model needs F32`);
  }
  const unexpected = [...tensors.keys()].filter((n) =>
    !expected.has(n) && !n.startsWith(OPTIMIZER_PREFIX)
  );
  if (missing.length + unexpected.length + wrongShape.length + wrongDtype.length > 0) {
    throw new CheckpointMismatchError(
      source,
      missing,
      unexpected,
      wrongShape,
      wrongDtype,
      model.name,
      metadata.model,
    );
  }
}

/**
 * Loads safetensors bytes into a model's variables. Validates everything first, so a
 * refused file leaves the model untouched. `source` (a path) names the file in errors.
 */
export function loadCheckpointBytes(
  model: DeblurModel,
  bytes: Uint8Array,
  source: string,
): LoadedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  checkFits(model, tensors, metadata, source);
  tf.tidy(() => {
    for (const w of model.weights) {
      const t = tensors.get(w.name)!;
      const value = tf.tensor(rawToFloat32(t), t.shape, "float32");
      w.variable.assign(w.layout === "conv" ? tf.transpose(value, FROM_FILE) : value);
    }
  });
  const optimizer: Record<string, tf.Tensor> = {};
  for (const [name, t] of tensors) {
    if (!name.startsWith(OPTIMIZER_PREFIX)) continue;
    const key = name.slice(OPTIMIZER_PREFIX.length);
    if (t.dtype === "F32") optimizer[key] = tf.tensor(rawToFloat32(t), t.shape, "float32");
    else if (t.dtype === "I32") optimizer[key] = tf.tensor(rawToInt32(t), t.shape, "int32");
    else throw new Error(`${source}: optimizer state ${key} has unsupported dtype ${t.dtype}`);
  }
  return { metadata, optimizer };
}

/** The metadata and tensor list of checkpoint bytes, without a model. */
export function inspectCheckpointBytes(
  bytes: Uint8Array,
  source: string,
): {
  metadata: Record<string, string>;
  tensors: Array<{ name: string; dtype: string; shape: number[] }>;
} {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  return {
    metadata,
    tensors: [...tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
  };
}

/**
 * Rebuilds the model a checkpoint was written from (registry name and config in its
 * metadata) and loads its weights.
 */
export function modelFromCheckpointBytes(
  bytes: Uint8Array,
  source: string,
): { model: DeblurModel } & LoadedCheckpoint {
  const { metadata } = decodeSafetensors(bytes, source);
  if (!metadata.model || !metadata.config) {
    throw new Error(
      `${source}: no model name and config in its metadata; build the model and use loadCheckpoint`,
    );
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(metadata.config);
  } catch {
    throw new Error(`${source}: metadata "config" is not valid JSON`);
  }
  const model = createModel(metadata.model, config);
  try {
    return { model, ...loadCheckpointBytes(model, bytes, source) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
