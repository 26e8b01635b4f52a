/**
 * Library code shown in a notebook as the reader's own code: the source of one function
 * read from its file, so the notebook displays what actually runs and cannot drift from it.
 *
 *   const src = await libFunctionSource("ops/gate_rnn_cpu.ts", "scanForward");
 *   await showMarkdown(codeMarkdown(src));
 *
 * `functionSource` is the pure part (text in, the declaration and its doc comment out);
 * it relies on the repository's formatting (`deno fmt`): a top-level declaration starts at
 * column 0 and its body ends with the first later line that is `}` (or `};`) at column 0.
 */
import { repoRoot } from "../records/paths.ts";

export interface FunctionSource {
  /** The function's name. */
  name: string;
  /** Its file, relative to the repository root (set by `libFunctionSource`). */
  path: string;
  /** 1-based first and last line of the excerpt in the file (the doc comment included). */
  startLine: number;
  endLine: number;
  /** The excerpt: the doc comment, the signature and the body. */
  text: string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The top-level function (or `const NAME = ...` arrow function) named `name` in `text`,
 * with the comment block right above it. Throws an Error naming `name` when it is absent,
 * declared more than once, or its end cannot be found.
 */
export function functionSource(text: string, name: string, path = ""): FunctionSource {
  const lines = text.split("\n");
  const n = escapeRe(name);
  const start = new RegExp(
    `^(export\\s+)?(default\\s+)?((async\\s+)?function\\*?\\s+${n}\\b|(const|let)\\s+${n}\\b)`,
  );
  // Overload signatures (ending in ";") are not the implementation.
  const hits = lines.flatMap((l, i) => (start.test(l) && !/;\s*$/.test(l) ? [i] : []));
  const where = path ? ` in ${path}` : "";
  if (hits.length === 0) throw new Error(`functionSource: no top-level function ${name}${where}`);
  if (hits.length > 1) {
    throw new Error(
      `functionSource: ${name} is declared ${hits.length} times${where} (lines ${
        hits.map((i) => i + 1).join(", ")
      })`,
    );
  }
  const first = hits[0];
  let end = -1;
  for (let i = first; i < lines.length; i++) {
    if (/^\};?\s*$/.test(lines[i]) || (i === first && /\}\s*;?\s*$/.test(lines[i]))) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`functionSource: cannot find the end of ${name}${where}`);
  // The comment block directly above: a /** ... */ block or consecutive // lines.
  let top = first;
  if (top > 0 && /\*\/\s*$/.test(lines[top - 1])) {
    let i = top - 1;
    while (i >= 0 && !/^\s*\/\*/.test(lines[i])) i--;
    if (i >= 0) top = i;
  } else {
    while (top > 0 && /^\s*\/\//.test(lines[top - 1])) top--;
  }
  return {
    name,
    path,
    startLine: top + 1,
    endLine: end + 1,
    text: lines.slice(top, end + 1).join("\n"),
  };
}

/**
 * The source of function `name` in `lib/FILE` (FILE relative to `lib/`, e.g.
 * "ops/gate_rnn_cpu.ts"), read from the repository on disk.
 */
export async function libFunctionSource(file: string, name: string): Promise<FunctionSource> {
  const path = `lib/${file.replace(/^(\.\/)?(lib\/)?/, "")}`;
  const text = await Deno.readTextFile(`${repoRoot()}/${path}`);
  return functionSource(text, name, path);
}

/**
 * Markdown showing `src` as a fenced code block under a one-line caption naming the file
 * and lines (the fence is longer than any backtick run inside the code).
 */
export function codeMarkdown(src: FunctionSource, opts: { lang?: string } = {}): string {
  const longest = Math.max(2, ...(src.text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const where = src.path
    ? `\`${src.name}\` in \`${src.path}\`, lines ${src.startLine}-${src.endLine}:`
    : `\`${src.name}\`:`;
  return `${where}\n\n${fence}${opts.lang ?? "ts"}\n${src.text}\n${fence}`;
}
