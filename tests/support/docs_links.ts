/**
 * A checker for the repository's documentation links (tests/docs_links_test.ts):
 *
 * - every relative Markdown link (label in brackets, then path#anchor in parentheses) points to
 *   an existing file and, with an anchor into a Markdown file, to one of its headings (GitHub's
 *   anchor rules);
 * - every bare citation of a page under the docs folder (a path such as the one of this kit's
 *   paper page, with or without `#anchor`) resolves the same way, from the repository root;
 * - no file cites the design and reference notes that live outside the repository.
 *
 * Markdown links resolve from the file's folder, except in notebook sources
 * (lib/notebooks/sources/*.ts), whose Markdown cells are rendered from notebooks/.
 */

/** One problem found: file (relative to the root), 1-based line, message. */
export interface LinkProblem {
  file: string;
  line: number;
  message: string;
}

/**
 * GitHub's heading anchor: inline Markdown stripped (code spans keep their text, links their
 * label), lower-cased, every character that is not a letter, digit, space, hyphen or
 * underscore removed, spaces turned into hyphens.
 */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/<[^>]+>/g, "");
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\p{M} _-]/gu, "").replace(/ /g, "-");
}

/**
 * The anchors a Markdown text defines: its ATX headings' slugs (a repeated slug gets -1, -2,
 * ... as on GitHub) and explicit `id="..."` / `name="..."` HTML anchors. Fenced code is
 * skipped.
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1][0];
      else if (f[1][0] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = githubSlug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

/** A link or citation found in a text: its target (path and optional anchor) and line. */
export interface Reference {
  path: string;
  anchor: string | null;
  line: number;
  /** "link": a Markdown link, relative to its file; "citation": a bare docs path, from the root. */
  kind: "link" | "citation";
}

const MD_LINK = /\[[^\]\n]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
// A docs page cited by path: the folder name, a slash, a file name ending in .md, an anchor.
const CITATION = /(?<![\w./-])(docs\/[\w-]+(?:\/[\w-]+)*\.md)(?:#([\w-]+))?/g;
// The notes outside the repository that sources used to cite (written so that this file
// does not match them itself).
const FORBIDDEN: { pattern: RegExp; what: string }[] = [
  { pattern: /refer[e]nce\//, what: "cites the reference notes kept outside the repository" },
  { pattern: /\.\.\/shar[e]d/, what: "cites the shared folder outside the repository" },
  {
    pattern: /\b(?:SVRNN|PLATFORM|DESIGN)\.m[d]\b/,
    what: "cites a note that is not in the repository",
  },
];

/**
 * Markdown links and bare docs citations of a text, in order. With `linksInComments`, Markdown
 * links count only on comment lines (source code, where brackets and parentheses also occur in
 * code and regular expressions); docs citations count everywhere.
 */
export function findReferences(text: string, linksInComments = false): Reference[] {
  const out: Reference[] = [];
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    const linkSpans: [number, number][] = [];
    const scanLinks = !linksInComments || /^\s*(?:\/\/|\/\*|\*|#)/.test(line);
    for (const m of scanLinks ? line.matchAll(MD_LINK) : []) {
      const target = m[1];
      linkSpans.push([m.index!, m.index! + m[0].length]);
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:, ...
      const hash = target.indexOf("#");
      out.push({
        path: hash < 0 ? target : target.slice(0, hash),
        anchor: hash < 0 ? null : target.slice(hash + 1),
        line: i + 1,
        kind: "link",
      });
    }
    for (const m of line.matchAll(CITATION)) {
      // A docs path inside a Markdown link is that link's target, checked above.
      if (linkSpans.some(([a, b]) => m.index! >= a && m.index! < b)) continue;
      out.push({ path: m[1], anchor: m[2] ?? null, line: i + 1, kind: "citation" });
    }
  }
  return out;
}

/** Lines of a text that cite notes outside the repository. */
export function findForbidden(text: string): { line: number; what: string }[] {
  const out: { line: number; what: string }[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    for (const f of FORBIDDEN) if (f.pattern.test(line)) out.push({ line: i + 1, what: f.what });
  }
  return out;
}

function normalise(parts: string[]): string | null {
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(p);
  }
  return out.join("/");
}

function dirOf(file: string): string {
  const i = file.lastIndexOf("/");
  return i < 0 ? "" : file.slice(0, i);
}

/** The folder a file's Markdown links are relative to (see the module comment). */
export function linkBase(file: string): string {
  return /^lib\/notebooks\/sources\/[^/]+\.ts$/.test(file) ? "notebooks" : dirOf(file);
}

/** What the checker needs from a file tree (paths relative to its root). */
export interface FileTree {
  /** A text file's contents, or null when there is no such file. */
  read(path: string): Promise<string | null>;
  /** Whether a file or folder exists. */
  exists(path: string): Promise<boolean>;
}

/** A FileTree over a folder on disk. */
export function diskTree(root: string): FileTree {
  return {
    read: async (path) => {
      try {
        return await Deno.readTextFile(`${root}/${path}`);
      } catch {
        return null;
      }
    },
    exists: async (path) => {
      try {
        await Deno.stat(`${root}/${path}`);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Checks the given files (paths relative to the root) and returns every problem found. */
export async function checkLinks(files: readonly string[], tree: FileTree): Promise<LinkProblem[]> {
  const read = (path: string) => tree.read(path);
  const problems: LinkProblem[] = [];
  const anchorCache = new Map<string, Set<string> | null>();
  const anchorsOf = async (path: string) => {
    if (!anchorCache.has(path)) {
      const text = await read(path);
      anchorCache.set(path, text === null ? null : headingAnchors(text));
    }
    return anchorCache.get(path)!;
  };
  for (const file of files) {
    const text = await read(file);
    if (text === null) {
      problems.push({ file, line: 0, message: "file not found" });
      continue;
    }
    const found: LinkProblem[] = [];
    for (const f of findForbidden(text)) found.push({ file, line: f.line, message: f.what });
    for (const ref of findReferences(text, !/\.md$/i.test(file))) {
      const shown = ref.path + (ref.anchor === null ? "" : `#${ref.anchor}`);
      let target: string | null;
      if (ref.path === "") target = file; // "#anchor": this file
      else if (ref.kind === "citation") target = normalise(ref.path.split("/"));
      else if (ref.path.startsWith("/")) target = normalise(ref.path.slice(1).split("/"));
      else target = normalise([...linkBase(file).split("/"), ...ref.path.split("/")]);
      if (target === null) {
        found.push({ file, line: ref.line, message: `${shown}: leaves the repository` });
        continue;
      }
      if (!(await tree.exists(target))) {
        found.push({ file, line: ref.line, message: `${shown}: no file ${target}` });
        continue;
      }
      if (ref.anchor !== null && /\.md$/i.test(target)) {
        const anchors = await anchorsOf(target);
        if (anchors !== null && !anchors.has(ref.anchor)) {
          found.push({
            file,
            line: ref.line,
            message: `${shown}: ${target} has no heading with anchor #${ref.anchor}`,
          });
        }
      }
    }
    // by line; the sort is stable, so a line's problems keep their order
    problems.push(...found.sort((a, b) => a.line - b.line));
  }
  return problems;
}

/** One line per problem, `file:line: message`. */
export function formatProblems(problems: readonly LinkProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join("\n");
}
