/**
 * The training recipe, every field declared once in TRAIN_FIELDS: its default (the SVRNN
 * authors' solver.prototxt, docs/paper.md#training-recipe), its range, one line of doc (also
 * its --help line) and its option of `deno task train`. TrainConfig, DEFAULT_TRAIN_CONFIG,
 * the checks of CLI and recipe-file values, and train's and ablate's options come from it.
 */
import { InputError } from "../data/errors.ts";
import {
  choice as choiceField,
  type Field,
  fieldDefaults,
  type FieldValues,
  int as intField,
  num as numField,
  text as textField,
} from "../models/fields.ts";

export const PIXEL_LOSSES = ["l2", "l1", "psnr"] as const;
export type PixelLoss = typeof PIXEL_LOSSES[number];

/** One TrainConfig field: a config field (lib/models/fields.ts) with its option. */
export interface FieldSpec<T> extends Field<T> {
  kind: "int" | "number" | "choice" | "text";
  /** Its option of `deno task train`, without "--"; null: set in recipe files only. */
  flag: string | null;
  /** The option's value in --help ("N", "X", "NAME"). */
  valueName: string;
}

/** "--steps N" as { flag: "steps", valueName: "N" }; null for a recipe-only field. */
function option(usage: string | null): Pick<FieldSpec<unknown>, "flag" | "valueName"> {
  if (usage === null) return { flag: null, valueName: "X" };
  const [flag, valueName] = usage.replace(/^--/, "").split(" ");
  return { flag, valueName };
}
const int = (def: number, min: number, usage: string | null, doc: string): FieldSpec<number> => ({
  ...intField(def, min, doc),
  kind: "int",
  ...option(usage),
});
const num = (
  def: number,
  range: [number, number],
  usage: string | null,
  doc: string,
): FieldSpec<number> => ({ ...numField(def, range, doc), kind: "number", ...option(usage) });
const choice = <T extends string>(
  def: T,
  choices: readonly T[],
  usage: string,
  doc: string,
): FieldSpec<T> => ({ ...choiceField(def, choices, doc), kind: "choice", ...option(usage) });
const text = (def: string, usage: string, doc: string): FieldSpec<string> => ({
  ...textField(def, doc),
  kind: "text",
  ...option(usage),
});
const ANY: [number, number] = [0, Infinity];

// Field order is the order of stored recipes (checkpoints, results/ablations.json): keep it.
export const TRAIN_FIELDS = {
  model: text("svrnn-small", "--model NAME", "registered model"),
  steps: int(200_000, 1, "--steps N", "total steps: the length of the poly schedule"),
  batchSize: int(20, 1, "--batch N", "patches per step"),
  patchSize: int(128, 8, "--patch N", "patch side, a multiple of the model's"),
  learningRate: num(1e-4, ANY, "--lr X", "base learning rate of Adam"),
  lrPower: num(2, ANY, "--lr-power X", "poly decay power: lr = base * (1 - step/steps)^power"),
  beta1: num(0.9, [0, 1], null, "Adam beta1"),
  beta2: num(0.999, [0, 1], null, "Adam beta2"),
  epsilon: num(1e-8, ANY, null, "Adam epsilon (Caffe's default delta)"),
  weightDecay: num(1e-6, ANY, "--weight-decay X", "L2 weight decay added to the gradient (Caffe)"),
  clipNorm: num(5000, ANY, "--clip X", "global gradient-norm clip (0 = off)"),
  loss: choice(
    "l2",
    PIXEL_LOSSES,
    "--loss NAME",
    "pixel loss: l2 (the paper's), l1, or psnr (minus the mean per-patch PSNR)",
  ),
  seed: int(0, 0, "--seed N", "seed of init and sampling"),
  logEvery: int(10, 1, "--log-every N", "log interval (progress line and log.jsonl record)"),
  valEvery: int(1000, 0, "--val-every N", "validation interval, also at the last step (0 = off)"),
  checkpointEvery: int(1000, 0, "--checkpoint-every N", "checkpoint interval (0 = at the end)"),
};

type Fields = typeof TRAIN_FIELDS;
export type TrainField = keyof Fields;
export type TrainConfig = FieldValues<Fields>;

export const TRAIN_FIELD_NAMES = Object.keys(TRAIN_FIELDS) as TrainField[];

export const DEFAULT_TRAIN_CONFIG: TrainConfig = fieldDefaults(TRAIN_FIELDS);

/**
 * The checked value of field `key`: `raw` is an option's text (a string) or a recipe file's
 * JSON value. Errors are one line naming `where` ("--steps", "recipes/a.json: steps").
 */
export function fieldValue<K extends TrainField>(
  key: K,
  raw: unknown,
  where: string,
): TrainConfig[K] {
  const f: FieldSpec<unknown> = TRAIN_FIELDS[key];
  const bad = (why: string): never => {
    throw new InputError(`${where} must be ${why}, got ${JSON.stringify(raw)}`);
  };
  if (f.kind === "text") {
    if (typeof raw !== "string" || raw === "") return bad("a name");
    return raw as TrainConfig[K];
  }
  if (f.kind === "choice") {
    if (!f.choices!.includes(raw as string)) return bad(`one of ${f.choices!.join(", ")}`);
    return raw as TrainConfig[K];
  }
  const isText = typeof raw === "string";
  const v = isText ? Number(raw) : raw;
  if (f.kind === "int" && !(isText ? /^[+-]?\d+$/.test(raw.trim()) : Number.isInteger(v))) {
    return bad("an integer");
  }
  if (typeof v !== "number" || !Number.isFinite(v) || (isText && raw.trim() === "")) {
    return bad("a number");
  }
  if (v < f.min || v > f.max) {
    const want = f.max === Infinity ? `at least ${f.min}` : `in ${f.min}..${f.max}`;
    throw new InputError(`${where} must be ${want}, got ${v}`);
  }
  return v as TrainConfig[K];
}

/**
 * `base` with the options of `given` (option name -> text, as typed) parsed over it: the
 * config of `deno task train` and `deno task ablate`. Errors name the option.
 */
export function configFromOptions(
  given: Record<string, string | undefined>,
  base: TrainConfig = DEFAULT_TRAIN_CONFIG,
): TrainConfig {
  const cfg: Record<string, unknown> = { ...base };
  for (const k of TRAIN_FIELD_NAMES) {
    const flag = TRAIN_FIELDS[k].flag;
    if (flag !== null && given[flag] !== undefined) {
      cfg[k] = fieldValue(k, given[flag], `--${flag}`);
    }
  }
  return cfg as TrainConfig;
}

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
