/**
 * The options of TrainConfig's fields (declared once, in lib/train/config.ts TRAIN_FIELDS)
 * for `train` and `ablate`, and a recipe file's values under the command line's.
 */
import type { Context, OptionSpec } from "./common.ts";
import {
  configFromOptions,
  DEFAULT_TRAIN_CONFIG,
  TRAIN_FIELDS,
  type TrainConfig,
  type TrainField,
} from "../train/config.ts";
import { type Recipe, recipeConfig } from "../train/recipe.ts";

/**
 * The options of `fields` (those with one), each with its TRAIN_FIELDS doc and default, or
 * the default of `base` and the description of `docs`.
 */
export function trainOptions(
  fields: readonly TrainField[],
  base: TrainConfig = DEFAULT_TRAIN_CONFIG,
  docs: Partial<Record<TrainField, string>> = {},
): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const k of fields) {
    const f = TRAIN_FIELDS[k];
    if (f.flag === null) continue;
    out[f.flag] = {
      type: "string",
      valueName: f.valueName,
      default: String(base[k]),
      description: docs[k] ?? f.doc,
    };
  }
  return out;
}

/** `base` with the field options given on the command line over it. */
export function trainConfigArgs(ctx: Context, base: TrainConfig): TrainConfig {
  return configFromOptions(Object.fromEntries([...ctx.given].map((k) => [k, ctx.str(k)])), base);
}

/** "oneTwo" for the option "one-two": a recipe's key of a run option. */
export const recipeKey = (option: string) => option.replace(/-(.)/g, (_, c) => c.toUpperCase());

/**
 * The run's TrainConfig with a recipe: the recipe's fields over the defaults, the command
 * line's options over them; the recipe's run keys fill the options the command line did not
 * give (their errors name the file and key).
 */
export function applyRecipe(ctx: Context, recipe: Recipe, runOptions: readonly string[]) {
  for (const option of runOptions) {
    const text = recipe.run[recipeKey(option)];
    if (text !== undefined) ctx.fill(option, text, `${recipe.file}: ${recipeKey(option)}`);
  }
  return trainConfigArgs(ctx, recipeConfig(recipe));
}

/** Who set field `key` of the run's config, for an error about its value. */
export function fieldOrigin(ctx: Context, key: TrainField, recipe?: Recipe): string {
  const flag = TRAIN_FIELDS[key].flag;
  if (recipe && recipe.config[key] !== undefined && !(flag && ctx.given.has(flag))) {
    return `${recipe.file}: ${key}`;
  }
  return `--${flag ?? key}`;
}
