/**
 * The import graph of lib/ and the two rules tests/imports_test.ts holds it to:
 *
 * - layers read downward: each top-level folder of lib/ has a rank (LAYERS, lowest first), and a
 *   file imports only files of its own folder or of a folder ranked lower; folders that share a
 *   rank are siblings and import neither each other nor anything above;
 * - no import loop between files (type-only imports count: a loop of types is still a loop a
 *   reader has to untangle).
 *
 * Imports are read from the source text: static `import ... from`, `export ... from`,
 * `import type`, side-effect `import "..."` and dynamic `import("...")` with a literal
 * specifier. Comments, string contents, template literal text and regular expression literals
 * are blanked before matching, so an import-shaped line inside a template string (the Python
 * cell that lib/notebooks/build.ts writes) or a comment draws no edge. Relative specifiers and
 * deno.json's import map (`#lib/...`) resolve to files; a bare package name that the import map
 * sends to a local file (`@tensorflow/tfjs` -> lib/backends/tfjs.ts) is a package shim: it
 * stands for the package, may be imported from any layer, and must itself import nothing of lib.
 */

/** One import of one file. */
export interface ImportEdge {
  /** The importing file, relative to the repository root. */
  from: string;
  /** The imported file, relative to the repository root (a package specifier when external). */
  to: string;
  specifier: string;
  /** 1-based line of the import in `from`. */
  line: number;
  kind: "static" | "type" | "dynamic" | "side-effect";
  /** The target is a package (npm:, node:, a bare name) or a package shim, not a layer's file. */
  external: boolean;
}

/** Files (relative to the root) and the imports they make. */
export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
}

/**
 * The layers of lib/, lowest first; folders in one entry share a rank (siblings). The notebook
 * sources are a layer of their own, a sibling of cli at the top: both are what a user runs.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["data", "ops"],
  ["backends"],
  ["models"],
  ["eval"],
  ["records"],
  ["analysis"],
  ["train"],
  ["study", "bench"],
  ["viz"],
  ["notebooks"],
  ["cli", "notebooks/sources"],
];

/**
 * The layer of a file under lib/: its top-level folder, except the notebook sources, which
 * form their own layer (notebooks/sources) above the notebook helpers. A file directly in lib/,
 * or in a folder LAYERS does not name, has no layer (null), which the check reports: a new
 * folder needs a rank before it can hold code.
 */
export function layerOf(
  file: string,
  layers: readonly (readonly string[])[] = LAYERS,
): { name: string; rank: number } | null {
  if (!file.startsWith("lib/")) return null;
  const parts = file.slice(4).split("/");
  if (parts.length < 2) return null;
  const candidates = parts.length > 2 ? [`${parts[0]}/${parts[1]}`, parts[0]] : [parts[0]];
  for (const name of candidates) {
    const rank = layers.findIndex((l) => l.includes(name));
    if (rank >= 0) return { name, rank };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Reading imports from source text

const REGEX_AFTER = new Set("(,=:[!&|?{};+-*%<>~^".split(""));
const REGEX_AFTER_WORD = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "yield",
  "await",
]);

/**
 * The source with everything that is not code blanked to spaces (newlines kept, so offsets and
 * lines stay): comments, the contents of string literals (their quotes kept), the text of
 * template literals (their `${...}` code kept) and regular expression literals.
 */
export function blankNonCode(src: string): string {
  const out = src.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  // Brace depths at which a template's `${` was opened: a `}` at that depth resumes the template.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  const n = src.length;
  const previousSignificant = (): string => {
    let k = i - 1;
    while (k >= 0 && /\s/.test(out[k])) k--;
    if (k < 0) return "";
    if (/[\w$]/.test(out[k])) {
      let s = k;
      while (s > 0 && /[\w$]/.test(out[s - 1])) s--;
      return out.slice(s, k + 1).join("");
    }
    return out[k];
  };
  /** Skips template text from i (just after "`" or "}"); stops after "`" or "${". */
  const templateText = () => {
    const start = i;
    while (i < n) {
      if (src[i] === "\\") {
        i += 2;
        continue;
      }
      if (src[i] === "`") {
        blank(start, i);
        i++;
        return;
      }
      if (src[i] === "$" && src[i + 1] === "{") {
        blank(start, i);
        i += 2;
        templates.push(depth);
        depth++;
        return;
      }
      i++;
    }
    blank(start, n);
  };
  while (i < n) {
    const c = src[i];
    if (c === "/" && src[i + 1] === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const start = ++i;
      while (i < n && src[i] !== c && src[i] !== "\n") i += src[i] === "\\" ? 2 : 1;
      blank(start, Math.min(i, n));
      i++;
    } else if (c === "`") {
      i++;
      templateText();
    } else if (c === "{") {
      depth++;
      i++;
    } else if (c === "}") {
      depth--;
      i++;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        templateText();
      }
    } else if (c === "/") {
      const prev = previousSignificant();
      const isRegex = prev === "" || REGEX_AFTER.has(prev) || REGEX_AFTER_WORD.has(prev);
      if (!isRegex) {
        i++;
        continue;
      }
      const start = i++;
      let inClass = false;
      while (i < n && src[i] !== "\n") {
        if (src[i] === "\\") i += 2;
        else if (src[i] === "[") (inClass = true), i++;
        else if (src[i] === "]") (inClass = false), i++;
        else if (src[i] === "/" && !inClass) break;
        else i++;
      }
      blank(start + 1, Math.min(i, n));
      i++;
    } else {
      i++;
    }
  }
  return out.join("");
}

/** An import found in a text: its specifier, 1-based line and kind. */
export interface FoundImport {
  specifier: string;
  line: number;
  kind: ImportEdge["kind"];
}

// On blanked text a string literal is its quotes around spaces; the specifier is read back from
// the original text at the same offsets. The clause between `import` and `from` holds only
// names, braces, commas, `*` and whitespace (so no statement is crossed).
const FROM_IMPORT = /(?<![\w$.])(import|export)(\s+type\b)?[\w$\s{},*]*?\bfrom\s*(["'])( *)\3/dg;
const SIDE_EFFECT = /(?<![\w$.])import\s*(["'])( *)\1/dg;
const DYNAMIC = /(?<![\w$.])import\s*\(\s*(["'])( *)\1\s*[,)]/dg;

/** Every import in a TypeScript source with a literal specifier. */
export function findImports(src: string): FoundImport[] {
  const code = blankNonCode(src);
  const found: { at: number; specifier: string; kind: ImportEdge["kind"] }[] = [];
  const take = (re: RegExp, group: number, kind: (m: RegExpExecArray) => ImportEdge["kind"]) => {
    re.lastIndex = 0;
    for (let m = re.exec(code); m !== null; m = re.exec(code)) {
      const [start, end] = m.indices![group]!;
      found.push({ at: m.index, specifier: src.slice(start, end), kind: kind(m) });
    }
  };
  take(FROM_IMPORT, 4, (m) => (m[2] ? "type" : "static"));
  take(SIDE_EFFECT, 2, () => "side-effect");
  take(DYNAMIC, 2, () => "dynamic");
  const lineAt = (at: number) => src.slice(0, at).split("\n").length;
  return found
    .filter((f) => f.specifier.length > 0)
    .sort((a, b) => a.at - b.at)
    .map((f) => ({ specifier: f.specifier, line: lineAt(f.at), kind: f.kind }));
}

// ---------------------------------------------------------------------------------------------
// Resolving specifiers

function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.join("/");
}

function dirname(path: string): string {
  const k = path.lastIndexOf("/");
  return k < 0 ? "" : path.slice(0, k);
}

/**
 * Where a specifier of `from` leads: a file relative to the root, or the specifier itself for a
 * package. `external` is true for a package, and for a bare package name the import map sends
 * to a local file (the package's shim).
 */
export function resolveSpecifier(
  from: string,
  specifier: string,
  importMap: Record<string, string>,
): { to: string; external: boolean } {
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    return { to: normalize(`${dirname(from)}/${specifier}`), external: false };
  }
  if (specifier in importMap) {
    const target = importMap[specifier];
    if (target.startsWith("./") || target.startsWith("../")) {
      // A bare name mapped to a local file: the package's shim.
      return { to: normalize(target), external: true };
    }
    return { to: specifier, external: true };
  }
  let best = "";
  for (const key of Object.keys(importMap)) {
    if (key.endsWith("/") && specifier.startsWith(key) && key.length > best.length) best = key;
  }
  if (best !== "") {
    const target = importMap[best] + specifier.slice(best.length);
    if (target.startsWith("./") || target.startsWith("../")) {
      return { to: normalize(target), external: false };
    }
    return { to: target, external: true };
  }
  return { to: specifier, external: true };
}

/** The import graph of a set of sources (path relative to the root -> text). */
export function buildGraph(
  sources: Record<string, string>,
  importMap: Record<string, string> = {},
): ImportGraph {
  const files = Object.keys(sources).sort();
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const f of findImports(sources[from])) {
      const { to, external } = resolveSpecifier(from, f.specifier, importMap);
      edges.push({ from, to, specifier: f.specifier, line: f.line, kind: f.kind, external });
    }
  }
  return { files, edges };
}

/** Every .ts file under `dir` (relative to `root`), with its text, and deno.json's imports. */
export async function readTree(
  root: string,
  dir = "lib",
): Promise<{ sources: Record<string, string>; importMap: Record<string, string> }> {
  const sources: Record<string, string> = {};
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${root}/${rel}`)) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && e.name.endsWith(".ts")) {
        sources[path] = await Deno.readTextFile(`${root}/${path}`);
      }
    }
  };
  await walk(dir);
  const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  return { sources, importMap: denoJson.imports ?? {} };
}

// ---------------------------------------------------------------------------------------------
// The rules

/** One broken rule: the file and line, and what is wrong. */
export interface ImportProblem {
  file: string;
  line: number;
  message: string;
}

/**
 * Layer rule problems: an import of a missing file, of a file outside lib/, from a file without
 * a layer, to a folder ranked higher than the importer's or to a sibling folder of the same
 * rank; a package shim importing lib.
 */
export function layerProblems(
  graph: ImportGraph,
  layers: readonly (readonly string[])[] = LAYERS,
): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const known = new Set(graph.files);
  const shims = new Set(graph.edges.filter((e) => e.external && known.has(e.to)).map((e) => e.to));
  for (const file of graph.files) {
    if (layerOf(file, layers) === null && !shims.has(file)) {
      problems.push({
        file,
        line: 1,
        message: "is in no layer: put it in a folder that LAYERS ranks, or rank its folder",
      });
    }
  }
  for (const e of graph.edges) {
    if (shims.has(e.from) && !e.external) {
      problems.push({
        file: e.from,
        line: e.line,
        message: `is a package shim and imports ${e.to}: a shim imports packages only`,
      });
      continue;
    }
    if (e.external) continue;
    if (!known.has(e.to)) {
      const where = e.to.startsWith("lib/") ? "a missing file" : "a file outside lib/";
      problems.push({ file: e.from, line: e.line, message: `imports ${where}: ${e.specifier}` });
      continue;
    }
    const a = layerOf(e.from, layers);
    const b = layerOf(e.to, layers);
    if (a === null || b === null) continue;
    if (b.rank > a.rank) {
      problems.push({
        file: e.from,
        line: e.line,
        message: `(${a.name}) imports ${e.to} (${b.name}), a higher layer`,
      });
    } else if (b.rank === a.rank && b.name !== a.name) {
      problems.push({
        file: e.from,
        line: e.line,
        message: `(${a.name}) imports ${e.to} (${b.name}), a sibling layer of the same rank`,
      });
    }
  }
  return problems;
}

/**
 * The import loops between files: each strongly connected set of files (more than one file,
 * or a file importing itself) as one loop through it, first file repeated at the end.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const f of graph.files) next.set(f, []);
  for (const e of graph.edges) {
    if (!e.external && next.has(e.to) && !next.get(e.from)!.includes(e.to)) {
      next.get(e.from)!.push(e.to);
    }
  }
  // Tarjan's strongly connected components, iterative.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of graph.files) {
    if (index.has(root)) continue;
    const work: { node: string; child: number }[] = [{ node: root, child: 0 }];
    index.set(root, counter), low.set(root, counter++), stack.push(root), onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const children = next.get(top.node)!;
      if (top.child < children.length) {
        const w = children[top.child++];
        if (!index.has(w)) {
          index.set(w, counter), low.set(w, counter++), stack.push(w), onStack.add(w);
          work.push({ node: w, child: 0 });
        } else if (onStack.has(w)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== top.node);
        const selfLoop = next.get(top.node)!.includes(top.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  // One concrete loop per component: the shortest path from its first file back to itself.
  return components.map((component) => {
    const inside = new Set(component);
    const start = component[0];
    const parent = new Map<string, string>();
    const queue = [start];
    let last: string | null = null;
    while (queue.length > 0 && last === null) {
      const node = queue.shift()!;
      for (const w of next.get(node)!) {
        if (!inside.has(w)) continue;
        if (w === start) {
          last = node;
          break;
        }
        if (!parent.has(w)) parent.set(w, node), queue.push(w);
      }
    }
    const path = [start];
    for (let node = last!; node !== start; node = parent.get(node)!) path.splice(1, 0, node);
    path.push(start);
    return path;
  });
}

/** Problems and loops as lines a failing test prints. */
export function formatReport(problems: ImportProblem[], cycles: string[][]): string {
  return [
    ...problems.map((p) => `${p.file}:${p.line}: ${p.message}`),
    ...cycles.map((c) => `import loop: ${c.join(" -> ")}`),
  ].join("\n");
}
