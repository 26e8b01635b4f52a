/**
 * The layers of lib/ read downward, and lib/ has no import loop.
 *
 * Layers, top to bottom:
 *
 * - lib/cli and lib/notebooks (entry points and notebook helpers; cli may use notebooks, e.g.
 *   `deno task lab` and `deno task reproduce` drive the notebook runner; notebooks never use
 *   cli);
 * - lib/viz (figures and tables; uses neither cli nor notebooks);
 * - everything else (records, models, ops, backends, train, eval, data, analysis, bench, ...),
 *   which imports none of cli, notebooks and viz.
 *
 * The graph is every `import ... from "..."`, `export ... from "..."`, `import "..."` and
 * `import("...")` in lib/**\/*.ts with a relative or `#lib/` specifier.
 */
import assert from "node:assert/strict";

const LIB = new URL("../lib/", import.meta.url);

/** Imports of one file: the specifiers, comments removed. */
export function importSpecifiers(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, "") // block and doc comments (which hold examples)
    .replace(/^\s*\/\/.*$/gm, ""); // whole-line comments
  const specs: string[] = [];
  const patterns = [
    // import x from "..."; import { a, b } from "..."; export { a } from "..."; export * from "..."
    /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    // import "..." (side effects)
    /\bimport\s+["']([^"']+)["']/g,
    // await import("...")
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) specs.push(m[1]);
  }
  return specs;
}

/**
 * The file (relative to lib/, e.g. "viz/write.ts") that `spec` in lib file `from` names, or
 * null for a package specifier (npm:, jsr:, "@tensorflow/tfjs", node:...).
 */
export function resolveSpecifier(from: string, spec: string): string | null {
  let path: string;
  if (spec.startsWith("#lib/")) path = spec.slice("#lib/".length);
  else if (spec.startsWith("./") || spec.startsWith("../")) {
    const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/") + 1) : "";
    path = dir + spec;
  } else return null;
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return `../${path}`; // outside lib/: kept, so the check names it
      out.pop();
    } else out.push(part);
  }
  return out.join("/");
}

/** Import graph of lib/: file (relative to lib/) -> the lib files it imports. */
export function importGraph(sources: Map<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const deps = new Set<string>();
    for (const spec of importSpecifiers(text)) {
      const target = resolveSpecifier(file, spec);
      if (target !== null) deps.add(target);
    }
    graph.set(file, [...deps].sort());
  }
  return graph;
}

type Layer = "cli" | "notebooks" | "viz" | "core";

function layerOf(file: string): Layer {
  const top = file.split("/")[0];
  return top === "cli" || top === "notebooks" || top === "viz" ? top : "core";
}

/** May a file in layer `from` import one in layer `to`? */
function allowed(from: Layer, to: Layer): boolean {
  if (to === "core" || from === to) return true;
  switch (from) {
    case "cli":
      return true; // cli is on top: it may use notebooks and viz
    case "notebooks":
      return to === "viz";
    case "viz":
      return false; // viz uses neither cli nor notebooks
    case "core":
      return false;
  }
}

/** Upward imports, "a.ts -> b.ts" each. */
export function layerViolations(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if (!allowed(layerOf(file), layerOf(dep))) {
        out.push(`lib/${file} (${layerOf(file)}) -> lib/${dep} (${layerOf(dep)})`);
      }
    }
  }
  return out.sort();
}

/**
 * Every import loop: one cycle per strongly connected component with more than one file
 * (or a file importing itself), as the list of its files in import order, first file repeated.
 */
export function importCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components, iterative.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const deps = (f: string) => (graph.get(f) ?? []).filter((d) => graph.has(d));
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { file: string; i: number }[] = [{ file: start, i: 0 }];
    index.set(start, next), low.set(start, next), next++;
    stack.push(start), onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const ds = deps(top.file);
      if (top.i < ds.length) {
        const d = ds[top.i++];
        if (!index.has(d)) {
          index.set(d, next), low.set(d, next), next++;
          stack.push(d), onStack.add(d);
          work.push({ file: d, i: 0 });
        } else if (onStack.has(d)) {
          low.set(top.file, Math.min(low.get(top.file)!, index.get(d)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].file;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.file)!));
      }
      if (low.get(top.file) === index.get(top.file)) {
        const comp: string[] = [];
        let f: string;
        do {
          f = stack.pop()!;
          onStack.delete(f);
          comp.push(f);
        } while (f !== top.file);
        if (comp.length > 1 || deps(top.file).includes(top.file)) components.push(comp);
      }
    }
  }
  // One concrete loop per component: a shortest path back to its first file (BFS inside it).
  return components.map((comp) => {
    const members = new Set(comp);
    const first = [...comp].sort()[0];
    const prev = new Map<string, string>();
    const queue = [first];
    const seen = new Set([first]);
    while (queue.length > 0) {
      const f = queue.shift()!;
      for (const d of deps(f)) {
        if (!members.has(d)) continue;
        if (d === first) {
          const path = [f];
          while (path[0] !== first) path.unshift(prev.get(path[0])!);
          return [...path, first];
        }
        if (!seen.has(d)) seen.add(d), prev.set(d, f), queue.push(d);
      }
    }
    return [...comp, comp[0]]; // unreachable for a real component
  });
}

async function readLib(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  async function walk(dir: URL, rel: string) {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (e.isFile && e.name.endsWith(".ts")) {
        sources.set(`${rel}${e.name}`, await Deno.readTextFile(new URL(e.name, dir)));
      }
    }
  }
  await walk(LIB, "");
  return sources;
}

Deno.test("layers: nothing below cli, notebooks and viz imports them; viz imports neither cli nor notebooks; notebooks do not import cli", async () => {
  const graph = importGraph(await readLib());
  const bad = layerViolations(graph);
  assert.deepEqual(
    bad,
    [],
    `upward imports (layers: cli, notebooks on top; viz below them; the rest below viz):\n  ${
      bad.join("\n  ")
    }`,
  );
});

Deno.test("layers: every relative and #lib/ import of lib/ names an existing lib file", async () => {
  const sources = await readLib();
  const missing: string[] = [];
  for (const [file, deps] of importGraph(sources)) {
    for (const d of deps) if (!sources.has(d)) missing.push(`lib/${file} -> lib/${d}`);
  }
  assert.deepEqual(missing, [], `imports of missing files:\n  ${missing.join("\n  ")}`);
});

Deno.test("layers: no import loop in lib/", async () => {
  const cycles = importCycles(importGraph(await readLib()));
  assert.deepEqual(
    cycles.map((c) => c.map((f) => `lib/${f}`).join(" -> ")),
    [],
    `import loops:\n  ${cycles.map((c) => c.map((f) => `lib/${f}`).join(" -> ")).join("\n  ")}`,
  );
});

Deno.test("layers: the checks catch an upward import and a loop (synthetic graph)", () => {
  const sources = new Map([
    ["eval/a.ts", `import { x } from "../cli/common.ts";\nimport "./b.ts";`],
    ["eval/b.ts", `export { y } from "#lib/eval/c.ts";`],
    ["eval/c.ts", `/** import { z } from "../viz/svg.ts"; */\nconst m = await import("./a.ts");`],
    ["viz/svg.ts", `import {\n  type Q,\n  r,\n} from "../notebooks/env.ts";`],
    [
      "notebooks/env.ts",
      `import { v } from "../viz/svg.ts";\nimport * as tf from "@tensorflow/tfjs";`,
    ],
    ["cli/common.ts", `import { w } from "../notebooks/env.ts";`],
  ]);
  const graph = importGraph(sources);
  assert.deepEqual(graph.get("eval/c.ts"), ["eval/a.ts"]); // the commented import is not one
  assert.deepEqual(layerViolations(graph), [
    "lib/eval/a.ts (core) -> lib/cli/common.ts (cli)",
    "lib/viz/svg.ts (viz) -> lib/notebooks/env.ts (notebooks)",
  ]);
  assert.deepEqual(importCycles(graph).map((c) => c.join(" -> ")).sort(), [
    "eval/a.ts -> eval/b.ts -> eval/c.ts -> eval/a.ts",
    "notebooks/env.ts -> viz/svg.ts -> notebooks/env.ts",
  ]);
});
