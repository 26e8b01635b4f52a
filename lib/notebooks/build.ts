/**
 * Builds a notebook file (nbformat 4.5, Deno kernel `svrnn-deno`, TypeScript) from a
 * TypeScript source in the "percent" format, so a notebook can be written and reviewed as
 * code that `deno check` type-checks (lib/notebooks/sources/NAME.ts):
 *
 *   // %% [markdown]
 *   // # Title               <- Markdown cell: its lines are `// ` comments
 *   // %%                    <- code cell (optionally `// %% tags=["no-output"]`)
 *   const x = 1;
 *
 * Lines before the first marker are a header and are dropped.
 *
 *   deno run -A lib/notebooks/build.ts NAME [--force]
 *
 * writes notebooks/NAME.ipynb (unexecuted; `deno task reproduce --only NAME` executes it);
 * it refuses to overwrite an existing notebook without --force.
 */
import { repoRoot } from "../records/paths.ts";

export type CellSpec = { md: string } | { code: string; tags?: string[] };

/** Parses the percent format into cells. */
export function parsePercent(text: string): CellSpec[] {
  const cells: CellSpec[] = [];
  let cur: { kind: "md" | "code"; tags: string[]; lines: string[] } | null = null;
  const flush = () => {
    if (!cur) return;
    const body = cur.lines.join("\n").replace(/^\s*\n/, "").replace(/\s+$/, "");
    if (cur.kind === "md") cells.push({ md: body });
    else if (body.trim()) {
      cells.push({ code: body, ...(cur.tags.length ? { tags: cur.tags } : {}) });
    }
  };
  for (const line of text.split("\n")) {
    const m = line.match(/^\/\/ %%(.*)$/);
    if (m) {
      flush();
      const rest = m[1].trim();
      const tags = rest.match(/tags=(\[.*\])/);
      cur = {
        kind: rest.startsWith("[markdown]") ? "md" : "code",
        tags: tags ? JSON.parse(tags[1]) : [],
        lines: [],
      };
      continue;
    }
    if (!cur) continue;
    cur.lines.push(cur.kind === "md" ? line.replace(/^\/\/ ?/, "") : line);
  }
  flush();
  return cells;
}

/** Jupyter's cell source: a list of lines, each but the last ending in "\n". */
function sourceLines(text: string): string[] {
  const t = text.replace(/^\n+/, "").replace(/\s+$/, "");
  const lines = t.split("\n");
  return lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l));
}

/** Dedents a template literal (common leading whitespace removed). */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, "").split("\n");
  const indents = lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join("\n");
}

/** The notebook JSON object for `cells`. */
export function buildNotebook(name: string, cells: CellSpec[]): Record<string, unknown> {
  return {
    cells: cells.map((c, i) => {
      const id = `${name.slice(0, 2)}-${String(i).padStart(3, "0")}`;
      if ("md" in c) {
        return { cell_type: "markdown", id, metadata: {}, source: sourceLines(dedent(c.md)) };
      }
      return {
        cell_type: "code",
        id,
        metadata: c.tags?.length ? { tags: c.tags } : {},
        execution_count: null,
        outputs: [],
        source: sourceLines(dedent(c.code)),
      };
    }),
    metadata: {
      kernelspec: { name: "svrnn-deno", display_name: "Deno (svrnn-kit)", language: "typescript" },
      language_info: {
        name: "typescript",
        file_extension: ".ts",
        mimetype: "text/x.typescript",
        codemirror_mode: "typescript",
        pygments_lexer: "typescript",
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  if (!name || !/^[A-Za-z0-9_]+$/.test(name)) {
    console.error("usage: deno run -A lib/notebooks/build.ts NAME [--force]");
    Deno.exit(2);
  }
  const root = repoRoot();
  const src = `${root}/lib/notebooks/sources/${name}.ts`;
  let cells: CellSpec[];
  try {
    cells = parsePercent(await Deno.readTextFile(src));
  } catch (e) {
    console.error(`build: error: cannot read ${src}: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const out = `${root}/notebooks/${name}.ipynb`;
  let present = false;
  try {
    await Deno.stat(out);
    present = true;
  } catch { /* new */ }
  if (present && !rest.includes("--force")) {
    console.error(`build: error: ${out} exists (pass --force to overwrite its cells and outputs)`);
    Deno.exit(2);
  }
  await Deno.mkdir(`${root}/notebooks`, { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(buildNotebook(name, cells), null, 1) + "\n");
  console.error(`wrote ${out} (${cells.length} cells, not executed)`);
}
