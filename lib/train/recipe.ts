/**
 * Recipe files (recipes/*.json): one training run written down, so a shipped model's run is a
 * committed file instead of a command line in the README. A recipe is one flat JSON object:
 *
 *   description   why the run is set as it is (required)
 *   trainingLog   the committed log the run wrote (results/training/...), when it ran
 *   <TrainConfig field>   model, steps, batchSize, learningRate, ... (lib/train/config.ts)
 *   <run key>     whatever else the reader allows (`deno task train`: benchmark, out, init...)
 *
 * `deno task train --recipe FILE` and `deno task ablate` (recipes/ablation.json) read them.
 */
import { InputError } from "../data/errors.ts";
import {
  DEFAULT_TRAIN_CONFIG,
  fieldValue,
  TRAIN_FIELD_NAMES,
  TRAIN_FIELDS,
  type TrainConfig,
  type TrainField,
} from "./config.ts";

export interface Recipe {
  /** The file, as named in errors. */
  file: string;
  description: string;
  trainingLog?: string;
  /** The TrainConfig fields the file sets. */
  config: Partial<TrainConfig>;
  /** The run keys the file sets, each as option text (numbers written as JSON writes them). */
  run: Record<string, string>;
}

/** `deno task ablate`'s budget, found from the kit's root whatever the working folder. */
export const ABLATION_RECIPE = {
  name: "recipes/ablation.json",
  url: new URL("../../recipes/ablation.json", import.meta.url),
};

const META_KEYS = ["description", "trainingLog"];

/**
 * Checks a parsed recipe file. `runKeys` are the keys the reader takes besides TrainConfig's
 * fields (their values are strings or numbers; the reader checks them further). Every error
 * is one line naming the file and the key.
 */
export function checkRecipe(
  json: unknown,
  file: string,
  runKeys: readonly string[] = [],
): Recipe {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InputError(`${file}: a recipe is a JSON object, got ${JSON.stringify(json)}`);
  }
  const obj = json as Record<string, unknown>;
  const fields = new Set<string>(TRAIN_FIELD_NAMES);
  const config: Record<string, unknown> = {};
  const run: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj)) {
    const where = `${file}: ${key}`;
    if (fields.has(key)) {
      config[key] = fieldValue(key as TrainField, numberOf(key, value, where), where);
    } else if (META_KEYS.includes(key)) {
      if (typeof value !== "string") throw new InputError(`${where} must be a string`);
    } else if (runKeys.includes(key)) {
      if (typeof value !== "string" && typeof value !== "number") {
        throw new InputError(`${where} must be a string or a number, got ${JSON.stringify(value)}`);
      }
      run[key] = String(value);
    } else throw new InputError(`${file}: unknown key "${key}"${hint(key, runKeys)}`);
  }
  if (typeof obj.description !== "string" || obj.description.trim() === "") {
    throw new InputError(`${file}: description is missing (say why the run is set as it is)`);
  }
  return {
    file,
    description: obj.description,
    ...(typeof obj.trainingLog === "string" ? { trainingLog: obj.trainingLog } : {}),
    config: config as Partial<TrainConfig>,
    run,
  };
}

/** A numeric field's value must be a JSON number ("12000" is a slip, not a number). */
function numberOf(key: string, value: unknown, where: string): unknown {
  const kind = TRAIN_FIELDS[key as TrainField].kind;
  if ((kind === "int" || kind === "number") && typeof value === "string") {
    const what = kind === "int" ? "an integer" : "a number";
    throw new InputError(`${where} must be ${what}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** " (--batch's key is batchSize)" for a key that is an option name; else the valid keys. */
function hint(key: string, runKeys: readonly string[]): string {
  const field = TRAIN_FIELD_NAMES.find((k) => TRAIN_FIELDS[k].flag === key);
  if (field) return ` (the key of --${key} is "${field}")`;
  return ` (keys: ${[...META_KEYS, ...TRAIN_FIELD_NAMES, ...runKeys].join(", ")})`;
}

/**
 * Reads and checks a recipe file (see checkRecipe), named `file` in errors; a missing or
 * malformed file is one line.
 */
export async function readRecipe(
  file: string,
  runKeys: readonly string[] = [],
  at: string | URL = file,
): Promise<Recipe> {
  let text: string;
  try {
    text = await Deno.readTextFile(at);
  } catch (e) {
    throw new InputError(`${file}: cannot read the recipe (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not JSON (${(e as Error).message})`);
  }
  return checkRecipe(json, file, runKeys);
}

/** The full TrainConfig of a recipe: its fields over the defaults. */
export function recipeConfig(r: Recipe, base: TrainConfig = DEFAULT_TRAIN_CONFIG): TrainConfig {
  return { ...base, ...r.config };
}
