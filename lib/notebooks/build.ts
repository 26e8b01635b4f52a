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
 *   deno run -A lib/notebooks/build.ts NAME [--force | --sync]
 *
 * writes notebooks/NAME.ipynb (unexecuted; `deno task reproduce --only NAME` executes it);
 * it refuses to overwrite an existing notebook without --force. `--sync` instead copies the
 * source's cell texts (and tags) into the existing notebook and keeps its outputs, for an
 * edit that the next `deno task reproduce` will re-execute; it refuses when the cells no
 * longer line up (a cell added, removed or changed kind). The file is rewritten by Python's
 * json module with nbformat's settings, so nothing but the edited sources changes.
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

/**
 * nbformat's way of writing a notebook (`nbformat.write`: sorted keys, indent 1, UTF-8), in
 * Python, whose float formatting the executed notebooks' outputs already carry: sets each
 * cell's source (and tags) from `cells` and keeps everything else.
 */
const SYNC_PY = `
import json, sys
path = sys.argv[1]
cells = json.load(sys.stdin)
with open(path, encoding="utf-8") as f:
    nb = json.load(f)
have = [c["cell_type"] for c in nb["cells"]]
want = [c["cell_type"] for c in cells]
if have != want:
    print(f"cells do not line up: notebook {len(have)} ({' '.join(t[0] for t in have)}), "
          f"source {len(want)} ({' '.join(t[0] for t in want)})", file=sys.stderr)
    sys.exit(3)
changed = 0
for c, new in zip(nb["cells"], cells):
    if c["source"] != new["source"]:
        changed += 1
        c["source"] = new["source"]
    tags = new.get("metadata", {}).get("tags")
    if tags:
        c.setdefault("metadata", {})["tags"] = tags
    elif "tags" in c.get("metadata", {}):
        del c["metadata"]["tags"]
with open(path, "w", encoding="utf-8") as f:
    f.write(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\\n")
print(changed)
`;

/** Copies the built cells' sources into the notebook at `path`, keeping its outputs. */
export async function syncNotebookSources(path: string, name: string, cells: CellSpec[]) {
  const built = buildNotebook(name, cells) as { cells: unknown[] };
  const child = new Deno.Command("python3", {
    args: ["-c", SYNC_PY, path],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(built.cells)));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(dec.decode(out.stderr).trim().split("\n").pop() ?? "python3 failed");
  }
  return { changed: Number(dec.decode(out.stdout).trim()) };
}

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  if (!name || !/^[A-Za-z0-9_]+$/.test(name)) {
    console.error("usage: deno run -A lib/notebooks/build.ts NAME [--force | --sync]");
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
  if (rest.includes("--sync")) {
    if (!present) {
      console.error(`build: error: ${out} does not exist (build it without --sync)`);
      Deno.exit(2);
    }
    try {
      const { changed } = await syncNotebookSources(out, name, cells);
      console.error(`synced ${out}: ${changed} cell source(s) changed, outputs kept`);
    } catch (e) {
      console.error(
        `build: error: cannot sync ${out}: ${(e as Error).message} (rebuild with --force)`,
      );
      Deno.exit(2);
    }
    Deno.exit(0);
  }
  if (present && !rest.includes("--force")) {
    console.error(`build: error: ${out} exists (pass --force to overwrite its cells and outputs)`);
    Deno.exit(2);
  }
  await Deno.mkdir(`${root}/notebooks`, { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(buildNotebook(name, cells), null, 1) + "\n");
  console.error(`wrote ${out} (${cells.length} cells, not executed)`);
}
