/**
 * Config fields declared once: each field's default, kind and range (or allowed values) and
 * one line of doc. A config's type, its defaults and its validator are derived from one
 * object of such fields (SVRNN_FIELDS in svrnn.ts, NAH_FIELDS, CNN_CONTROL_FIELDS; the
 * training recipe's TRAIN_FIELDS in lib/train/config.ts adds each field's CLI option).
 */

/** One config field. */
export interface Field<T> {
  default: T;
  /** One line: what the field means. */
  doc: string;
  /**
   * "int", "number": a value in min..max; "choice": one of `choices`; "list": an array of
   * distinct `choices`, in any order; "text": a non-empty string.
   */
  kind: "int" | "number" | "choice" | "list" | "text";
  min: number;
  max: number;
  /** "number": min and max themselves excluded. */
  exclusive?: boolean;
  /** "int": odd values only (a conv kernel, padded k//2 on every side). */
  odd?: boolean;
  /** "choice": the values; "list": the elements. */
  choices?: readonly unknown[];
}

/** An object of fields, one per config key. */
export type Fields = Record<string, Field<unknown>>;

/** The config type of `F`: each key with the type of its default. */
export type FieldValues<F> = { -readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

const UNBOUNDED = { min: -Infinity, max: Infinity };

/** An integer of at least `range`, or in [range[0], range[1]]. */
export const int = (
  def: number,
  range: number | [number, number],
  doc: string,
): Field<number> => {
  const [min, max] = typeof range === "number" ? [range, Infinity] : range;
  return { default: def, doc, kind: "int", min, max };
};
/** An odd integer of at least 1: a conv kernel. */
export const kernel = (def: number, doc: string): Field<number> => ({
  ...int(def, 1, doc),
  odd: true,
});
/** Any finite number (a range for num). */
export const FINITE: [number, number] = [-Infinity, Infinity];
/** A finite number in [min, max]. */
export const num = (def: number, [min, max]: [number, number], doc: string): Field<number> => ({
  default: def,
  doc,
  kind: "number",
  min,
  max,
});
/** A number in the open interval (min, max). */
export const between = (def: number, range: [number, number], doc: string): Field<number> => ({
  ...num(def, range, doc),
  exclusive: true,
});
/** One of `choices`. */
export const choice = <T>(def: T, choices: readonly T[], doc: string): Field<T> => ({
  default: def,
  doc,
  kind: "choice",
  choices,
  ...UNBOUNDED,
});
/** true or false. */
export const bool = (def: boolean, doc: string): Field<boolean> => choice(def, [true, false], doc);
/** An array of distinct `choices` (any order). */
export const list = <T>(def: readonly T[], choices: readonly T[], doc: string): Field<T[]> => ({
  default: [...def],
  doc,
  kind: "list",
  choices,
  ...UNBOUNDED,
});
/** A non-empty string. */
export const text = (def: string, doc: string): Field<string> => ({
  default: def,
  doc,
  kind: "text",
  ...UNBOUNDED,
});

/** A fresh object of the fields' defaults (arrays copied), in declaration order. */
export function fieldDefaults<F extends Fields>(fields: F): FieldValues<F> {
  return Object.fromEntries(
    Object.entries(fields).map((
      [k, f],
    ) => [k, Array.isArray(f.default) ? [...f.default] : f.default]),
  ) as FieldValues<F>;
}

/** A value as JSON, numbers as written (NaN, Infinity too). */
const show = (v: unknown) => typeof v === "number" ? String(v) : JSON.stringify(v);
const listed = (choices: readonly unknown[]) => choices.map(show).join(", ");

/** What is wrong with `v` as a value of `f` ("must be ..."), or null when nothing is. */
export function fieldProblem(f: Field<unknown>, v: unknown): string | null {
  switch (f.kind) {
    case "int": {
      if (typeof v === "number" && Number.isInteger(v) && v >= f.min && v <= f.max) {
        return f.odd && v % 2 === 0 ? `must be odd, got ${v}` : null;
      }
      const range = f.max === Infinity ? `>= ${f.min}` : `in [${f.min}, ${f.max}]`;
      return `must be an integer ${range}, got ${show(v)}`;
    }
    case "number": {
      const inside = f.exclusive
        ? (x: number) => x > f.min && x < f.max
        : (x: number) => x >= f.min && x <= f.max;
      if (typeof v === "number" && Number.isFinite(v) && inside(v)) return null;
      const bounded = f.min !== -Infinity || f.max !== Infinity;
      const [l, r] = f.exclusive ? ["(", ")"] : ["[", "]"];
      const want = bounded ? `in ${l}${f.min}, ${f.max}${r}` : "a finite number";
      return `must be ${want}, got ${show(v)}`;
    }
    case "choice":
      return f.choices!.includes(v) ? null : `must be one of ${listed(f.choices!)}, got ${show(v)}`;
    case "list": {
      if (!Array.isArray(v)) {
        return `must be an array of any of ${listed(f.choices!)}, got ${show(v)}`;
      }
      const bad = v.findIndex((x) => !f.choices!.includes(x));
      if (bad >= 0) return `must hold only ${listed(f.choices!)}, got ${show(v[bad])}`;
      if (new Set(v).size !== v.length) return `has duplicates: ${v.join(", ")}`;
      return null;
    }
    case "text":
      return typeof v === "string" && v !== ""
        ? null
        : `must be a non-empty string, got ${show(v)}`;
  }
}

/**
 * Throws an Error naming the config and the first field of `fields` whose value in `c` is
 * wrong: "svrnn config numBlocks must be an integer >= 0, got -1".
 */
export function checkFields<F extends Fields>(what: string, fields: F, c: FieldValues<F>): void {
  for (const [k, f] of Object.entries(fields)) {
    const problem = fieldProblem(f, (c as Record<string, unknown>)[k]);
    if (problem !== null) throw new Error(`${what} config ${k} ${problem}`);
  }
}

/**
 * `defaults` with `overrides` over them; keys of `overrides` that are not fields of
 * `defaults` are an Error naming the valid ones. Not validated (see checkFields).
 */
export function mergeConfig<C extends object>(
  what: string,
  defaults: C,
  overrides: Partial<C> | undefined,
): C {
  const out = { ...defaults } as C;
  if (overrides === undefined) return out;
  const unknown = Object.keys(overrides).filter((k) => !(k in defaults));
  if (unknown.length > 0) {
    throw new Error(
      `${what}: unknown config field${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; ` +
        `valid fields: ${Object.keys(defaults).join(", ")}`,
    );
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
