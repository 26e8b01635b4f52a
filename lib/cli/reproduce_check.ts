/**
 * `deno task reproduce:check`: after `deno task reproduce`, says whether the notebooks and
 * results it rewrote differ from the commit only in timings and provenance (issue 20), by
 * comparing each file's two versions through lib/records/volatile.ts's normaliser.
 *
 * - no argument: every file under notebooks/ and results/ that git reports changed against
 *   `--against REV` (default HEAD), untracked ones included, against REV's version;
 * - `DIR` (a `reproduce --out DIR` folder): every file under DIR/notebooks and DIR/results
 *   against REV's version of the same path;
 * - `DIR_A DIR_B`: two such folders, file by file.
 *
 * One line per file with a real change (the first difference), a summary line, exit code 1
 * when any file changed for real. Git-ignored paths (plotly.min.js) are skipped.
 */
import { type CommandSpec, type Context, runCommand, UsageError } from "./common.ts";
import { repoRoot } from "../records/paths.ts";
import {
  compareTexts,
  figureJsonPath,
  fileKind,
  isTimingFigure,
  type Verdict,
} from "../records/volatile.ts";

export const REPRODUCE_CHECK_SPEC: CommandSpec = {
  name: "reproduce:check",
  summary: "Check that the files a `deno task reproduce` rewrote differ from the commit (or " +
    "from another run) only in timings and provenance.",
  usage: "[DIR [DIR_B]]",
  positionals: { max: 2 },
  options: {
    against: {
      type: "string",
      valueName: "REV",
      default: "HEAD",
      description: "the commit to compare with (no argument, or one DIR)",
    },
    all: { type: "boolean", description: "also list the files that differ only in volatile parts" },
  },
  details: `Without an argument: the files under notebooks/ and results/ that git reports changed
(git diff --name-only REV, and untracked ones), each against its version at REV. With DIR (a
\`deno task reproduce --out DIR\` folder): every file under DIR/notebooks and DIR/results
against REV's version of the same path. With DIR_A DIR_B: two such folders, file by file.

Ignored as volatile (lib/records/volatile.ts): commit, date, runtime and machine lines, the
provenance object of figure and table JSON, timing columns of tables ("time (s)",
"train (min)", "ms/image", "patches/s"), durations and rates in notebook output text, the
coordinates on a time axis of a figure, how stream output was chunked, figure element ids,
the kernel version, results/reproduce.json as a whole. Everything else must be equal.

examples:
  deno task reproduce && deno task reproduce:check
  deno task reproduce --only 01 --out /tmp/a && deno task reproduce:check /tmp/a
  deno task reproduce:check /tmp/a /tmp/b     # two runs of the same commit

Exit code 1 when a file changed beyond timings and provenance.`,
};

/** Where one side of the comparison reads a file (relative path; null when absent). */
type Reader = (path: string) => Promise<Uint8Array | null>;

async function git(root: string, args: string[]): Promise<Uint8Array | null> {
  const out = await new Deno.Command("git", { args, cwd: root, stdout: "piped", stderr: "null" })
    .output();
  return out.success ? out.stdout : null;
}

async function gitLines(root: string, args: string[]): Promise<string[]> {
  const out = await git(root, args);
  if (out === null) throw new UsageError(`git ${args.join(" ")} failed in ${root}`);
  return new TextDecoder().decode(out).split("\0").filter((l) => l !== "");
}

function revReader(root: string, rev: string): Reader {
  return (path) => git(root, ["show", `${rev}:${path}`]);
}

function dirReader(dir: string): Reader {
  return async (path) => {
    try {
      return await Deno.readFile(`${dir}/${path}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  };
}

async function listFiles(dir: string, sub: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = [...Deno.readDirSync(`${dir}/${sub}`)];
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = `${sub}/${e.name}`;
    if (e.isDirectory) await listFiles(dir, rel, out);
    else if (e.isFile) out.push(rel);
  }
}

async function runFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  await listFiles(dir, "notebooks", out);
  await listFiles(dir, "results", out);
  return out;
}

/** The paths git ignores, of `paths`. */
async function ignored(root: string, paths: string[]): Promise<Set<string>> {
  if (!paths.length) return new Set();
  const cmd = new Deno.Command("git", {
    args: ["check-ignore", "--no-index", "-z", "--stdin"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const w = cmd.stdin.getWriter();
  await w.write(new TextEncoder().encode(paths.join("\0") + "\0"));
  await w.close();
  const out = await cmd.output();
  return new Set(new TextDecoder().decode(out.stdout).split("\0").filter((l) => l !== ""));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface FileResult {
  path: string;
  verdict: Verdict;
  detail?: string;
}

/** Compares `paths` as read by `before` and `after`. */
export async function comparePaths(
  paths: string[],
  before: Reader,
  after: Reader,
): Promise<FileResult[]> {
  const dec = new TextDecoder();
  const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));
  const results: FileResult[] = [];
  for (const path of [...new Set(paths)].sort()) {
    const [a, b] = await Promise.all([before(path), after(path)]);
    if (a !== null && b !== null && sameBytes(a, b)) {
      results.push({ path, verdict: "identical" });
      continue;
    }
    if (a !== null && b !== null && fileKind(path) === "other") {
      results.push({
        path,
        verdict: "changed",
        detail: "differs (not a kind with volatile parts)",
      });
      continue;
    }
    const sibling = figureJsonPath(path);
    let timingFigure = false;
    if (sibling) {
      const [sa, sb] = await Promise.all([before(sibling), after(sibling)]);
      timingFigure = [sa, sb].some((s) => s !== null && isTimingFigure(dec.decode(s)));
    }
    results.push({ path, ...compareTexts(path, text(a), text(b), { timingFigure }) });
  }
  return results;
}

export interface CheckSummary {
  mode: "git" | "dir" | "dirs";
  before: string;
  after: string;
  files: FileResult[];
  /** Files that differ (any verdict but identical). */
  differing: number;
  /** Files that differ beyond timings and provenance. */
  changed: number;
  ok: boolean;
}

/** The command without the exit: compares and prints, returns the summary. */
export async function reproduceCheck(ctx: Context): Promise<CheckSummary> {
  const root = repoRoot();
  const rev = ctx.str("against") ?? "HEAD";
  if ((await git(root, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])) === null) {
    throw new UsageError(`--against ${rev}: not a commit of ${root}`);
  }
  const abs = (d: string) => (d.startsWith("/") ? d : `${Deno.cwd()}/${d}`).replace(/\/+$/, "");
  for (const d of ctx.positionals) {
    try {
      if (!Deno.statSync(abs(d)).isDirectory) throw new Error();
    } catch {
      throw new UsageError(`${d}: not a folder (expected a reproduce --out folder)`);
    }
  }
  let mode: CheckSummary["mode"], paths: string[], before: Reader, after: Reader;
  let beforeName: string, afterName: string;
  if (ctx.positionals.length === 0) {
    mode = "git";
    paths = [
      ...await gitLines(root, ["diff", "--name-only", "-z", rev, "--", "notebooks", "results"]),
      ...await gitLines(root, [
        "ls-files",
        "--others",
        "--exclude-standard",
        "-z",
        "--",
        "notebooks",
        "results",
      ]),
    ];
    before = revReader(root, rev);
    after = dirReader(root);
    [beforeName, afterName] = [rev, "the working tree"];
  } else if (ctx.positionals.length === 1) {
    mode = "dir";
    const dir = abs(ctx.positionals[0]);
    paths = await runFiles(dir);
    before = revReader(root, rev);
    after = dirReader(dir);
    [beforeName, afterName] = [rev, dir];
  } else {
    mode = "dirs";
    const [a, b] = ctx.positionals.map(abs);
    paths = [...await runFiles(a), ...await runFiles(b)];
    before = dirReader(a);
    after = dirReader(b);
    [beforeName, afterName] = [a, b];
  }
  const skip = await ignored(root, paths);
  paths = [...new Set(paths)].filter((p) => !skip.has(p));
  ctx.progress(`reproduce:check: ${paths.length} file(s), ${beforeName} -> ${afterName}`);
  const files = await comparePaths(paths, before, after);
  const differing = files.filter((f) => f.verdict !== "identical");
  const real = differing.filter((f) => f.verdict !== "volatile");
  for (const f of ctx.flag("all") ? differing : real) {
    ctx.out(
      `${f.path}: ${f.verdict === "volatile" ? "timings and provenance only" : f.verdict}${
        f.detail ? `: ${f.detail}` : ""
      }`,
    );
  }
  const identical = files.length - differing.length;
  const same = mode === "git" ? "" : ` (${identical} identical)`;
  ctx.out(
    real.length === 0
      ? `${differing.length} file(s) changed, all only in timings and provenance${same}`
      : `${real.length} of ${differing.length} changed file(s) differ beyond timings and provenance${same}`,
  );
  if (real.length) ctx.exitCode = 1;
  return {
    mode,
    before: beforeName,
    after: afterName,
    files,
    differing: differing.length,
    changed: real.length,
    ok: real.length === 0,
  };
}

if (import.meta.main) runCommand(REPRODUCE_CHECK_SPEC, reproduceCheck);
