/**
 * The layers of lib/ read downward and no files import each other in a loop
 * (docs/architecture.md). The checker (tests/support/import_graph.ts) is first run on small
 * in-memory graphs with known faults (an upward import, a sibling import, a file in no layer,
 * loops of one, two and three files), so a checker that finds nothing cannot pass silently;
 * then on lib/ itself.
 */
import assert from "node:assert/strict";
import {
  buildGraph,
  findCycles,
  findImports,
  formatReport,
  type ImportGraph,
  layerOf,
  layerProblems,
  LAYERS,
  readTree,
  resolveSpecifier,
} from "./support/import_graph.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("imports: every form of import is read, and nothing in comments or strings", () => {
  const q = "`";
  const src = [
    'import * as tf from "@tensorflow/tfjs";',
    'import type { A } from "./a.ts";',
    "import {",
    "  b,",
    "  type B,",
    '} from "../b.ts";',
    'import "./side.ts";',
    'export { c } from "./c.ts";',
    'export * from "./d.ts";',
    'export type { E } from "#lib/e.ts";',
    "async function f() {",
    '  const { g } = await import("./g.ts");',
    '  type H = typeof import("./h.ts");',
    "  const dyn = await import(name);",
    "  return g;",
    "}",
    '// import { no } from "./comment.ts";',
    '/* export * from "./block.ts"; */',
    `const py = ${q}`,
    'import json, sys  from "./template.ts"',
    `\${'import "./inside-template-code.ts"'} import "./template-text.ts"${q};`,
    "const s = 'import x from \"./string.ts\"';",
    "const re = /\"import x from '.\\/regex.ts'\"/;",
    "const ratio = 1 / 2; // import x from './after-division.ts'",
    'if (import.meta.main) import("./main.ts");',
  ].join("\n");
  const found = findImports(src).map((f) => `${f.line} ${f.kind} ${f.specifier}`);
  assert.deepEqual(found, [
    "1 static @tensorflow/tfjs",
    "2 type ./a.ts",
    "3 static ../b.ts",
    "7 side-effect ./side.ts",
    "8 static ./c.ts",
    "9 static ./d.ts",
    "10 type #lib/e.ts",
    "12 dynamic ./g.ts",
    "13 dynamic ./h.ts",
    "25 dynamic ./main.ts",
  ]);
});

Deno.test("imports: specifiers resolve through relative paths and the import map", () => {
  const map = {
    "#lib/": "./lib/",
    "@tensorflow/tfjs": "./lib/backends/tfjs.ts",
    "#tfjs-npm": "npm:@tensorflow/tfjs@4.22.0",
  };
  const r = (spec: string) => resolveSpecifier("lib/eval/evaluate.ts", spec, map);
  assert.deepEqual(r("./metrics.ts"), { to: "lib/eval/metrics.ts", external: false });
  assert.deepEqual(r("../data/image.ts"), { to: "lib/data/image.ts", external: false });
  assert.deepEqual(r("#lib/models/model.ts"), { to: "lib/models/model.ts", external: false });
  assert.deepEqual(r("@tensorflow/tfjs"), { to: "lib/backends/tfjs.ts", external: true });
  assert.deepEqual(r("#tfjs-npm"), { to: "#tfjs-npm", external: true });
  assert.deepEqual(r("node:fs"), { to: "node:fs", external: true });
  assert.deepEqual(r("npm:fast-png@8.0.0"), { to: "npm:fast-png@8.0.0", external: true });
});

Deno.test("imports: layers of files", () => {
  assert.deepEqual(layerOf("lib/data/image.ts"), { name: "data", rank: 0 });
  assert.deepEqual(layerOf("lib/backends/native/conv.ts")?.name, "backends");
  assert.equal(layerOf("lib/notebooks/sources/01_iir_derivation.ts")?.name, "notebooks/sources");
  assert.equal(layerOf("lib/notebooks/build.ts")?.name, "notebooks");
  assert.equal(layerOf("lib/loose.ts"), null);
  assert.equal(layerOf("lib/newfolder/x.ts"), null);
  assert.equal(layerOf("tests/x_test.ts"), null);
  const rank = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));
  assert.ok(rank("cli") === LAYERS.length - 1, "cli is the top layer");
  assert.ok(rank("notebooks") > rank("viz") && rank("viz") > rank("study"));
});

/** A graph from an in-memory tree of sources (deno.json's shape of import map). */
function memoryGraph(sources: Record<string, string>): ImportGraph {
  return buildGraph(sources, { "#lib/": "./lib/", "@pkg/shim": "./lib/ops/shim.ts" });
}

Deno.test("imports: the checker finds an upward import, a sibling import and a file in no layer", () => {
  const graph = memoryGraph({
    "lib/data/image.ts": 'import { psnr } from "../eval/metrics.ts";\n', // up
    "lib/eval/metrics.ts": 'import { rgb } from "../data/image.ts";\nimport "@pkg/shim";\n',
    "lib/ops/kernel.ts": 'import "../data/image.ts";\n', // sibling of data
    "lib/ops/shim.ts": 'import "npm:pkg";\n',
    "lib/models/model.ts": 'import type { X } from "#lib/cli/train.ts";\n', // up, via #lib
    "lib/models/other.ts": 'export * from "./missing.ts";\n',
    "lib/cli/train.ts": 'import "../viz/figure.ts";\nimport "../../tests/x_test.ts";\n',
    "lib/viz/figure.ts": 'const m = await import("../notebooks/env.ts");\n', // up, dynamic
    "lib/notebooks/env.ts": "export const x = 1;\n",
    "lib/loose.ts": 'import "./data/image.ts";\n',
  });
  const found = layerProblems(graph).map((p) => `${p.file}:${p.line}: ${p.message}`);
  assert.deepEqual(found, [
    "lib/loose.ts:1: is in no layer: put it in a folder that LAYERS ranks, or rank its folder",
    "lib/cli/train.ts:2: imports a file outside lib/: ../../tests/x_test.ts",
    "lib/data/image.ts:1: (data) imports lib/eval/metrics.ts (eval), a higher layer",
    "lib/models/model.ts:1: (models) imports lib/cli/train.ts (cli), a higher layer",
    "lib/models/other.ts:1: imports a missing file: ./missing.ts",
    "lib/ops/kernel.ts:1: (ops) imports lib/data/image.ts (data), a sibling layer of the same rank",
    "lib/viz/figure.ts:1: (viz) imports lib/notebooks/env.ts (notebooks), a higher layer",
  ]);
  // A package shim is anyone's to import, and imports no file of lib itself.
  const shim = memoryGraph({
    "lib/eval/metrics.ts": 'import "@pkg/shim";\n',
    "lib/ops/shim.ts": 'import "../cli/x.ts";\n',
    "lib/cli/x.ts": "",
  });
  assert.deepEqual(layerProblems(shim).map((p) => p.message), [
    "is a package shim and imports lib/cli/x.ts: a shim imports packages only",
  ]);
});

Deno.test("imports: the checker finds import loops of one, two and three files", () => {
  const graph = memoryGraph({
    "lib/models/layers.ts": 'import type { M } from "./model.ts";\n',
    "lib/models/model.ts": 'import { conv } from "./layers.ts";\n',
    "lib/data/a.ts": 'import "./b.ts";\n',
    "lib/data/b.ts": 'export * from "./c.ts";\n',
    "lib/data/c.ts": 'const a = await import("./a.ts");\nimport "./d.ts";\n',
    "lib/data/d.ts": "",
    "lib/eval/self.ts": 'import "#lib/eval/self.ts";\n',
    "lib/eval/fine.ts": 'import "../data/d.ts";\nimport "./self.ts";\n',
  });
  const byFirstFile = (cycles: string[][]) => cycles.sort((a, b) => a[0].localeCompare(b[0]));
  assert.deepEqual(byFirstFile(findCycles(graph)), [
    ["lib/data/a.ts", "lib/data/b.ts", "lib/data/c.ts", "lib/data/a.ts"],
    ["lib/eval/self.ts", "lib/eval/self.ts"],
    ["lib/models/layers.ts", "lib/models/model.ts", "lib/models/layers.ts"],
  ]);
  assert.ok(
    formatReport([], findCycles(graph)).split("\n").includes(
      "import loop: lib/models/layers.ts -> lib/models/model.ts -> lib/models/layers.ts",
    ),
  );
  assert.deepEqual(
    findCycles(memoryGraph({ "lib/data/x.ts": 'import "./y.ts";\n', "lib/data/y.ts": "" })),
    [],
  );
});

Deno.test("imports: lib/ reads downward and has no import loop", async () => {
  const { sources, importMap } = await readTree(ROOT);
  const graph = buildGraph(sources, importMap);
  // The reader found the graph (a reader that finds nothing would pass the rules trivially).
  assert.ok(graph.files.length > 100, `${graph.files.length} files`);
  const has = (from: string, to: string) => graph.edges.some((e) => e.from === from && e.to === to);
  assert.ok(has("lib/cli/train.ts", "lib/train/config.ts"));
  assert.ok(has("lib/cli/train.ts", "lib/models/checkpoint.ts")); // a dynamic import
  assert.ok(has("lib/notebooks/sources/03_training.ts", "lib/viz/figure.ts")); // via #lib/

  // Every folder of lib/ has a layer, and every layer a folder.
  const folders = new Set(graph.files.map((f) => layerOf(f)?.name ?? f));
  for (const name of LAYERS.flat()) assert.ok(folders.has(name), `LAYERS names ${name}: no files`);

  const problems = layerProblems(graph);
  const cycles = findCycles(graph);
  assert.equal(formatReport(problems, cycles), "", "import rules broken (docs/architecture.md)");

  // What the rule means for the outer layers, spelled out.
  const importers = (folder: string) =>
    graph.edges.filter((e) => e.to.startsWith(`lib/${folder}/`) && !e.external)
      .map((e) => e.from.split("/").slice(1, 2)[0]);
  for (
    const [folder, allowed] of [
      ["cli", ["cli"]],
      ["notebooks", ["notebooks", "cli"]],
      ["viz", ["viz", "notebooks", "cli"]],
    ] as const
  ) {
    const outside = importers(folder).filter((f) => !(allowed as readonly string[]).includes(f));
    assert.deepEqual([...new Set(outside)], [], `${folder} imported from below`);
  }
});
