/**
 * The ablation's variants are declared once (lib/models/variants.ts): the registry, `deno
 * task ablate` and the notebooks' factor groups and labels are derived from that
 * declaration, and no other source under lib/ or tests/ keeps a list of variant names of
 * its own (a second list silently misses the next variant added).
 */
import assert from "node:assert/strict";
import {
  ABLATION_FACTORS,
  ABLATION_MEMBERS,
  ABLATION_REFERENCE,
  ABLATION_VARIANTS,
  SMALL_VARIANTS,
  VARIANT_SHORT,
} from "#lib/models/variants.ts";
import { listModels, MODEL_NAMES, modelConfig } from "#lib/models/registry.ts";
import { ABLATE_SPEC } from "#lib/cli/ablate.ts";
import * as views from "#lib/notebooks/ablation_views.ts";

const ROOT = new URL("..", import.meta.url);
const DECLARATION = "lib/models/variants.ts";

/**
 * Names this close (in lines) hold one list: an array, a record of multi-line entries (the
 * declaration's own are 8 lines each), a table of test cases. Farther apart they are two uses.
 */
const LIST_SPAN = 12;

/**
 * Where a source names two or more different `names` in quotes within LIST_SPAN lines: a
 * list of variants kept outside the declaration. One finding per list, with its lines.
 */
export function variantLists(
  file: string,
  text: string,
  names: readonly string[],
): { file: string; lines: number[]; names: string[] }[] {
  const known = new Set(names);
  const hits: { line: number; name: string }[] = [];
  text.split("\n").forEach((l, i) => {
    for (const m of l.matchAll(/(["'])([A-Za-z0-9._-]+)\1/g)) {
      if (known.has(m[2])) hits.push({ line: i + 1, name: m[2] });
    }
  });
  const out: { file: string; lines: number[]; names: string[] }[] = [];
  let run: typeof hits = [];
  const flush = () => {
    const distinct = [...new Set(run.map((h) => h.name))];
    if (distinct.length >= 2) {
      out.push({ file, lines: [...new Set(run.map((h) => h.line))], names: distinct });
    }
    run = [];
  };
  for (const h of hits) {
    if (run.length > 0 && h.line - run[run.length - 1].line >= LIST_SPAN) flush();
    run.push(h);
  }
  flush();
  return out;
}

/** Every .ts file under lib/ and tests/, relative to the repository root. */
async function sources(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string) {
    for await (const e of Deno.readDir(new URL(rel, ROOT))) {
      if (e.isDirectory) await walk(`${rel}${e.name}/`);
      else if (e.isFile && e.name.endsWith(".ts")) {
        out.set(`${rel}${e.name}`, await Deno.readTextFile(new URL(`${rel}${e.name}`, ROOT)));
      }
    }
  }
  await walk("lib/");
  await walk("tests/");
  return out;
}

Deno.test("variants: each preset is registered as svrnn-small with its overrides and description", () => {
  const names = ABLATION_MEMBERS.map((m) => m.name);
  assert.equal(new Set(names).size, names.length, "names are unique");
  assert.ok(!names.includes(ABLATION_REFERENCE));
  const described = new Map(listModels().map((m) => [m.name, m.description]));
  const reference = modelConfig(ABLATION_REFERENCE) as unknown as Record<string, unknown>;
  for (const v of SMALL_VARIANTS) {
    assert.deepEqual(modelConfig(v.name), modelConfig(ABLATION_REFERENCE, v.overrides), v.name);
    assert.equal(described.get(v.name), v.description);
    // A variant changes something: every override differs from the reference's value.
    assert.ok(Object.keys(v.overrides).length > 0, v.name);
    for (const [k, value] of Object.entries(v.overrides)) {
      assert.notDeepEqual(value, reference[k], `${v.name}: ${k} is the reference's`);
    }
  }
  // Members without overrides are models registered on their own.
  for (const m of ABLATION_MEMBERS) assert.ok(MODEL_NAMES.includes(m.name), m.name);
  // The presets are listed in the declaration's order.
  const listed = MODEL_NAMES.filter((n) => SMALL_VARIANTS.some((v) => v.name === n));
  assert.deepEqual(listed, SMALL_VARIANTS.map((v) => v.name));
});

Deno.test("variants: ablate's default list, the notebooks' factor groups and labels come from the declaration", () => {
  assert.deepEqual(ABLATION_VARIANTS, [ABLATION_REFERENCE, ...ABLATION_MEMBERS.map((m) => m.name)]);
  assert.ok(
    ABLATE_SPEC.options?.variants.description?.includes(ABLATION_VARIANTS.join(",")),
    "ablate --variants defaults to the declared list",
  );
  assert.equal(views.ABLATION_FACTORS, ABLATION_FACTORS);
  assert.equal(views.VARIANT_SHORT, VARIANT_SHORT);
  assert.equal(views.ABLATION_REFERENCE, ABLATION_REFERENCE);
  // Every variant is in exactly one factor's group, each group holds the reference, and
  // every member has its labels.
  for (const m of ABLATION_MEMBERS) {
    const groups = ABLATION_FACTORS.filter((f) => f.variants.includes(m.name));
    assert.deepEqual(groups.map((f) => f.key), [m.factor], m.name);
    assert.equal(groups[0].labels[groups[0].variants.indexOf(m.name)], m.label);
  }
  for (const f of ABLATION_FACTORS) {
    assert.ok(f.variants.includes(ABLATION_REFERENCE), f.factor);
    assert.equal(f.labels.length, f.variants.length, f.factor);
  }
  assert.deepEqual(Object.keys(VARIANT_SHORT), ABLATION_VARIANTS);
  for (const v of SMALL_VARIANTS) {
    assert.equal(`${ABLATION_REFERENCE}-${views.shortName(v.name)}`, v.name);
  }
});

Deno.test("variants: the list checker flags lists and not single uses (synthetic sources)", () => {
  const names = ["m-a", "m-b", "m-c"];
  const check = (text: string) => variantLists("x.ts", text, names);
  assert.deepEqual(check(`const v = ["m-a", 'm-b'];`), [
    { file: "x.ts", lines: [1], names: ["m-a", "m-b"] },
  ]);
  // One per line, and a record whose entries span several lines each.
  assert.equal(check(`[\n  "m-a",\n  "m-b",\n  "m-c",\n]`)[0].names.length, 3);
  const record = `{\n  "m-a": {\n    x: 1,\n    y: 2,\n  },\n  "m-b": {\n    x: 1,\n  },\n}`;
  assert.deepEqual(check(record).map((f) => f.lines), [[2, 6]]);
  // Single uses, the same name again, names far apart, unquoted or partial names: no list.
  assert.deepEqual(check(`createModel("m-a");\ncreateModel("m-a", { x: 1 });`), []);
  assert.deepEqual(check(`f("m-a");${"\n".repeat(LIST_SPAN)}f("m-b");`), []);
  assert.deepEqual(check('`m-a` and `m-b`; m-a, m-b; "m-ab", "xm-b"'), []);
  // Two lists in one file are two findings.
  assert.equal(check(`["m-a", "m-b"]${"\n".repeat(LIST_SPAN)}["m-b", "m-c"]`).length, 2);
});

Deno.test("variants: no source but the declaration keeps a list of variant names", async () => {
  const all = await sources();
  const names = SMALL_VARIANTS.map((v) => v.name);
  // The checker sees the real spelling: the declaration itself is one list of them.
  assert.ok(all.has(DECLARATION));
  assert.deepEqual(variantLists(DECLARATION, all.get(DECLARATION)!, names)[0]?.names, names);
  // The consumers are among the files scanned.
  for (
    const f of [
      "lib/models/registry.ts",
      "lib/cli/ablate.ts",
      "lib/notebooks/ablation_views.ts",
      "lib/notebooks/sources/02_receptive_field.ts",
      "lib/notebooks/sources/04_ablations.ts",
      "tests/models_test.ts",
    ]
  ) assert.ok(all.has(f), f);
  const found = [...all].filter(([f]) => f !== DECLARATION).flatMap(([f, text]) =>
    variantLists(f, text, names)
  );
  assert.deepEqual(
    found.map((f) => `${f.file}:${f.lines.join(",")}: ${f.names.join(", ")}`),
    [],
    `lists of variants outside ${DECLARATION} (derive them from its ABLATION_MEMBERS, ` +
      `ABLATION_VARIANTS or ABLATION_FACTORS)`,
  );
});
