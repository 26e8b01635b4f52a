/**
 * Named models: `createModel(name, overrides?)`. Every name is a config of one of three
 * builders (svrnn.ts, deepdeblur.ts, cnn_control.ts), never a copy of code.
 *
 * Small models are sized to train in about an hour on a 2-core CPU (wasm backend); the
 * ablations change one thing of `svrnn-small` each (declared in variants.ts).
 */
import {
  type CNNControlConfig,
  cnnControlConfig,
  type CNNControlModel,
  cnnControlParamCount,
  cnnWidthForParams,
  createCNNControl,
} from "./cnn_control.ts";
import {
  createNah,
  type NahConfig,
  nahConfig,
  type NahModel,
  nahParamCount,
} from "./deepdeblur.ts";
import type { DeblurModel, ModelFamily } from "./model.ts";
import {
  createSVRNN,
  type SVRNNConfig,
  svrnnConfig,
  type SVRNNModel,
  svrnnParamCount,
} from "./svrnn.ts";
import { SMALL_VARIANTS } from "./variants.ts";

export type AnyConfig = SVRNNConfig | NahConfig | CNNControlConfig;

interface Entry {
  family: ModelFamily;
  description: string;
  /** Overrides of the family's defaults that define this name. */
  preset: Record<string, unknown>;
}

/**
 * svrnn-small: the paper's layout with a narrow weight-generation CNN and 16 RNN channels.
 * The small models add a global residual (output = input + network, last conv zero-initialised,
 * so training starts from the identity): without it they spend a CPU-sized budget learning to
 * copy the input (docs/training.md#models). The paper-size `svrnn` and `nah` are as published.
 */
const SMALL: Partial<SVRNNConfig> = { genWidth: 8, rnnChannels: 16, residual: true };

const ENTRIES: Record<string, Entry> = {
  "svrnn": {
    family: "svrnn",
    description: "SVRNN as published (Zhang et al. 2018), layer for layer",
    preset: {},
  },
  "nah": {
    family: "nah",
    description: "Nah et al. 2017 multi-scale ResNet (3 scales, 64 ch, 5x5, 19 ResBlocks)",
    preset: {},
  },
  "svrnn-small": {
    family: "svrnn",
    description:
      "SVRNN with a narrow gate CNN (width 8), 16 RNN channels and a global residual; CPU-trainable",
    preset: SMALL,
  },
  "nah-small": {
    family: "nah",
    description:
      "Nah et al. with 24 channels, 3 ResBlocks per scale and a global residual; CPU-trainable",
    preset: { features: 24, resBlocks: 3, residual: true },
  },
  "svrnn-mid": {
    family: "svrnn",
    description:
      "SVRNN with the paper's 32 RNN channels, a gate CNN of width 16 and a global residual (1 M)",
    preset: { ...SMALL, genWidth: 16, rnnChannels: 32 },
  },
  // The ablation's presets of svrnn-small, declared with the rest of the study (variants.ts).
  ...Object.fromEntries(
    SMALL_VARIANTS.map((v): [string, Entry] => [
      v.name,
      { family: "svrnn", description: v.description, preset: { ...SMALL, ...v.overrides } },
    ]),
  ),
  "cnn-small": {
    family: "cnn",
    description: "CNN-only control: svrnn-small's skeleton, 8 plain 3x3 convs, svrnn-small's size",
    preset: { e1Channels: 16, rnnChannels: 16, depth: 8, residual: true },
  },
};

/** The registered names, in listing order. */
export const MODEL_NAMES: readonly string[] = Object.keys(ENTRIES);

function entry(name: string): Entry {
  const e = ENTRIES[name];
  if (!e) {
    throw new Error(`unknown model ${JSON.stringify(name)}; known: ${MODEL_NAMES.join(", ")}`);
  }
  return e;
}

/**
 * The full config of a named model with overrides applied (validated). For `cnn-small`
 * the width is matched to svrnn-small's parameter count unless `width` is overridden.
 */
export function modelConfig(name: string, overrides?: Record<string, unknown>): AnyConfig {
  const e = entry(name);
  const merged = { ...e.preset, ...(overrides ?? {}) };
  switch (e.family) {
    case "svrnn":
      return svrnnConfig(merged as Partial<SVRNNConfig>);
    case "nah":
      return nahConfig(merged as Partial<NahConfig>);
    case "cnn": {
      const c = cnnControlConfig(merged as Partial<CNNControlConfig>);
      if (overrides?.width === undefined) {
        c.width = cnnWidthForParams(svrnnParamCount(svrnnConfig(SMALL)), c);
      }
      return c;
    }
  }
}

/** Trainable parameters of a named model, computed without building it. */
export function modelParamCount(name: string, overrides?: Record<string, unknown>): number {
  const c = modelConfig(name, overrides);
  switch (entry(name).family) {
    case "svrnn":
      return svrnnParamCount(c as SVRNNConfig);
    case "nah":
      return nahParamCount(c as NahConfig);
    case "cnn":
      return cnnControlParamCount(c as CNNControlConfig);
  }
}

/**
 * Builds a named model with its seeded initial weights. `overrides` replace fields of
 * the name's config (unknown fields are an Error naming the valid ones).
 */
export function createModel(
  name: "svrnn" | `svrnn-${string}`,
  overrides?: Partial<SVRNNConfig>,
): SVRNNModel;
export function createModel(name: "nah" | "nah-small", overrides?: Partial<NahConfig>): NahModel;
export function createModel(
  name: "cnn-small",
  overrides?: Partial<CNNControlConfig>,
): CNNControlModel;
export function createModel(name: string, overrides?: Record<string, unknown>): DeblurModel;
export function createModel(name: string, overrides?: Record<string, unknown>): DeblurModel {
  const c = modelConfig(name, overrides);
  switch (entry(name).family) {
    case "svrnn":
      return createSVRNN(name, c as SVRNNConfig);
    case "nah":
      return createNah(name, c as NahConfig);
    case "cnn":
      return createCNNControl(name, c as CNNControlConfig);
  }
}

export interface ModelInfo {
  name: string;
  family: ModelFamily;
  description: string;
  /** Trainable parameters of the default config of this name. */
  params: number;
}

/** Every registered model with a one-line description and its parameter count. */
export function listModels(): ModelInfo[] {
  return MODEL_NAMES.map((name) => ({
    name,
    family: ENTRIES[name].family,
    description: ENTRIES[name].description,
    params: modelParamCount(name),
  }));
}
