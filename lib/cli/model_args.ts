/**
 * The model options shared by `eval` and `deblur`: --model, --checkpoint, --backend,
 * --tile, --overlap. With neither --model nor --checkpoint, the shipped svrnn-small.
 */
import type { Context, OptionSpec } from "./common.ts";
import { BACKEND_OPTION, backendArg, InputError, UsageError } from "./common.ts";
import { type BackendInfo, initBackend } from "../backends/select.ts";
import type { DeblurModel } from "../models/model.ts";
import { createModel, MODEL_NAMES } from "../models/registry.ts";
import { loadModel } from "../models/checkpoint.ts";
import { AUTO_TILE_PIXELS, DEFAULT_TILE, type TileOptions } from "../eval/tiled.ts";
import { withFlipEnsemble } from "../eval/ensemble.ts";
import { exists } from "../data/image_io.ts";
import { shippedCheckpointFile } from "../records/paths.ts";

export const SHIPPED = shippedCheckpointFile;
export const DEFAULT_MODEL = "svrnn-small";

export const MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: {
    type: "string",
    valueName: "NAME",
    description: `registered model; its shipped checkpoint ${
      SHIPPED("NAME")
    } is used when it exists`,
  },
  checkpoint: { type: "string", valueName: "PATH", description: "safetensors checkpoint to load" },
  backend: BACKEND_OPTION,
  tile: {
    type: "string",
    valueName: "N",
    default: "auto",
    description: "tile side for large images (0 = whole image; auto: 512 above 2 megapixels)",
  },
  overlap: { type: "string", valueName: "N", default: "32", description: "tile overlap in pixels" },
  ensemble: {
    type: "boolean",
    description: "flip self-ensemble: mean over the 4 horizontal/vertical flips (4x the time)",
  },
};

export interface LoadedModel {
  model: DeblurModel;
  /** Where the weights came from: a checkpoint path, or "random init". */
  weights: string;
  /** "flips4" when --ensemble wraps predict() (eval/ensemble.ts), else "none". */
  ensemble: "flips4" | "none";
  backend: BackendInfo;
}

export async function modelFromArgs(ctx: Context): Promise<LoadedModel> {
  const loaded = await loadFromArgs(ctx);
  if (!ctx.flag("ensemble")) return { ...loaded, ensemble: "none" };
  return { ...loaded, model: withFlipEnsemble(loaded.model), ensemble: "flips4" };
}

async function loadFromArgs(ctx: Context): Promise<Omit<LoadedModel, "ensemble">> {
  const choice = backendArg(ctx);
  const name = ctx.str("model");
  if (name !== undefined && !MODEL_NAMES.includes(name)) {
    throw new UsageError(`unknown model "${name}" (one of ${MODEL_NAMES.join(", ")})`);
  }
  let checkpoint = ctx.str("checkpoint");
  if (checkpoint !== undefined && !(await exists(checkpoint))) {
    throw new InputError(`checkpoint not found: ${checkpoint}`);
  }
  if (checkpoint === undefined) {
    const shipped = SHIPPED(name ?? DEFAULT_MODEL);
    if (await exists(shipped)) checkpoint = shipped;
    else if (name === undefined) {
      throw new InputError(
        `no shipped model at ${shipped}: pass --checkpoint PATH or --model NAME`,
      );
    }
  }
  const backend = await initBackend(choice);
  if (!checkpoint) {
    ctx.warn(`${name}: no checkpoint, using randomly initialised weights`);
    return { model: createModel(name!), weights: "random init", backend };
  }
  try {
    const { model } = await loadModel(checkpoint);
    if (name !== undefined && model.name !== name) {
      model.dispose();
      throw new InputError(`${checkpoint} holds model ${model.name}, not ${name}`);
    }
    return { model, weights: checkpoint, backend };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError((e as Error).message);
  }
}

/** Tiling for an image of `pixels` pixels from --tile/--overlap. */
export function tileFromArgs(ctx: Context, pixels: number): TileOptions {
  const raw = ctx.str("tile")!;
  const overlap = ctx.int("overlap", 32, 0);
  if (raw === "auto") return { tile: pixels > AUTO_TILE_PIXELS ? DEFAULT_TILE.tile : 0, overlap };
  const tile = Number(raw);
  if (!Number.isInteger(tile) || tile < 0) {
    throw new UsageError(`--tile must be "auto" or a non-negative integer, got "${raw}"`);
  }
  if (tile > 0 && overlap * 2 >= tile) {
    throw new UsageError(`--overlap must be less than half of --tile, got ${overlap} for ${tile}`);
  }
  return { tile, overlap };
}
