/**
 * A project-local Jupyter setup for the kit's notebooks (Deno-only):
 *
 * - the kernelspec `svrnn-deno` is written to `<repo>/.jupyter/kernels/svrnn-deno/` (git-
 *   ignored) and points at the deno binary running this code (`Deno.execPath()`); Jupyter
 *   finds it through JUPYTER_PATH, so nothing is installed into the user's Jupyter;
 * - headless execution needs Python with nbclient and nbformat: the project's `.venv` if it
 *   has them, else the system python3; when neither has them, Debian's packages are
 *   installed with apt-get (when apt is usable), else nbclient is pip-installed into
 *   `<repo>/.venv`; if both fail, a `JupyterSetupError` says what to install;
 * - JupyterLab (`deno task lab`) is pip-installed into `<repo>/.venv` on first use.
 *
 * `runNotebook` executes one notebook with `lib/notebooks/run_notebook.py` (nbclient) and
 * returns its report: it fails if a cell raises or a code cell shows no output; what the
 * notebook recorded with `degraded()` (lib/notebooks/degraded.ts: a substitute for missing
 * data or results) comes back in `degraded`.
 */
import { repoRoot } from "../records/paths.ts";
import { exists } from "../data/image_io.ts";
import { type Degradation, DEGRADED_ENV, readDegradations } from "./degraded.ts";
import { KIT_V8_FLAGS } from "../backends/v8_flags.ts";

export const KERNEL_NAME = "svrnn-deno";

/** Jupyter could not be found or installed; the message says what to do. */
export class JupyterSetupError extends Error {
  override name = "JupyterSetupError";
}

export interface JupyterSetup {
  /** Python interpreter with nbclient and nbformat. */
  python: string;
  /** Where it came from. */
  source: "venv" | "system" | "apt" | "pip";
  /** Folder holding kernels/svrnn-deno (put first on JUPYTER_PATH). */
  jupyterPath: string;
  kernelName: string;
  /** Environment additions for every Jupyter process (JUPYTER_PATH, ...). */
  env: Record<string, string>;
}

export interface SetupOptions {
  /** Install Jupyter when missing (default true). */
  install?: boolean;
  /** Progress lines (stderr in the CLI). */
  progress?: (msg: string) => void;
  /** Repository root (default: found from the cwd). */
  root?: string;
}

async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; inherit?: boolean } = {},
): Promise<{ ok: boolean; code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env: opts.env,
      cwd: opts.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return {
      ok: out.success,
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } catch (e) {
    return { ok: false, code: -1, stdout: "", stderr: (e as Error).message };
  }
}

/** Like `run`, calling `onLine` with each line of stdout and stderr as it arrives. */
async function runStreaming(
  cmd: string,
  args: string[],
  onLine: (line: string) => void,
): Promise<{ ok: boolean; stderr: string }> {
  let child;
  try {
    child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .spawn();
  } catch (e) {
    return { ok: false, stderr: (e as Error).message };
  }
  let stderr = "";
  const pump = async (stream: ReadableStream<Uint8Array>, keep: boolean) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      if (keep) stderr += chunk;
      buf += chunk;
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) onLine(l.trim());
    }
    if (buf.trim()) onLine(buf.trim());
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, false),
    pump(child.stderr, true),
  ]);
  return { ok: status.success, stderr };
}

/** True if `python` can import all `modules`. */
export async function hasModules(python: string, modules: string[]): Promise<boolean> {
  return (await run(python, ["-c", `import ${modules.join(", ")}`])).ok;
}

const EXEC_MODULES = ["nbclient", "nbformat", "jupyter_client"];
const APT_PACKAGES = [
  "python3-nbclient",
  "python3-nbformat",
  "jupyter-client",
  "python3-ipykernel",
];

function venvPython(root: string): string {
  return Deno.build.os === "windows"
    ? `${root}/.venv/Scripts/python.exe`
    : `${root}/.venv/bin/python`;
}

async function findPython(root: string, modules: string[]): Promise<
  { python: string; source: "venv" | "system" } | null
> {
  const venv = venvPython(root);
  if (await exists(venv) && await hasModules(venv, modules)) {
    return { python: venv, source: "venv" };
  }
  for (const p of ["/usr/bin/python3", "python3", "python"]) {
    if (await hasModules(p, modules)) return { python: p, source: "system" };
  }
  return null;
}

async function aptUsable(): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  if (!(await run("apt-get", ["--version"])).ok) return false;
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

/** A Python that can create a virtual environment (with pip), or null. */
async function venvCapablePython(): Promise<string | null> {
  for (const p of ["python3", "/usr/bin/python3", "python"]) {
    if (await hasModules(p, ["venv", "ensurepip"])) return p;
  }
  return null;
}

/** Creates `<root>/.venv` if missing and pip-installs `packages` into it. */
async function pipInstall(
  root: string,
  packages: string[],
  progress: (m: string) => void,
): Promise<string> {
  const py = venvPython(root);
  if (!(await exists(py))) {
    const base = await venvCapablePython();
    if (!base) throw new JupyterSetupError("no Python with the venv module to create .venv");
    progress(`creating ${root}/.venv with ${base}`);
    const r = await run(base, ["-m", "venv", `${root}/.venv`]);
    if (!r.ok) throw new JupyterSetupError(`python -m venv .venv failed: ${lastLine(r.stderr)}`);
  }
  progress(`pip install ${packages.join(" ")} into .venv (this may take minutes)`);
  const r = await runStreaming(py, [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    "--progress-bar",
    "off",
    ...packages,
  ], (line) => {
    if (/^(Collecting|Successfully|ERROR|WARNING: Retrying)/.test(line)) progress(`  pip: ${line}`);
  });
  if (!r.ok) {
    throw new JupyterSetupError(`pip install ${packages.join(" ")} failed: ${lastLine(r.stderr)}`);
  }
  return py;
}

function lastLine(s: string): string {
  const lines = s.trim().split("\n").filter((l) => l.trim());
  return lines[lines.length - 1] ?? "(no message)";
}

/** Writes (or refreshes) the svrnn-deno kernelspec; returns the JUPYTER_PATH folder. */
export async function writeKernelSpec(root = repoRoot()): Promise<string> {
  const jupyterPath = `${root}/.jupyter`;
  const dir = `${jupyterPath}/kernels/${KERNEL_NAME}`;
  const spec = {
    argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno (svrnn-kit)",
    language: "typescript",
    // The kit's V8 flags (lib/backends/v8_flags.ts) for a Jupyter started by hand too.
    env: { NO_COLOR: "1", DENO_V8_FLAGS: KIT_V8_FLAGS },
    metadata: { "svrnn-kit": "written by lib/notebooks/jupyter.ts; points at this deno binary" },
  };
  const text = JSON.stringify(spec, null, 2) + "\n";
  const path = `${dir}/kernel.json`;
  let current = "";
  try {
    current = await Deno.readTextFile(path);
  } catch { /* missing */ }
  if (current !== text) {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(path, text);
  }
  return jupyterPath;
}

function jupyterEnv(jupyterPath: string): Record<string, string> {
  let existing = "";
  try {
    existing = Deno.env.get("JUPYTER_PATH") ?? "";
  } catch { /* no env access */ }
  return {
    JUPYTER_PATH: existing ? `${jupyterPath}:${existing}` : jupyterPath,
    JUPYTER_PLATFORM_DIRS: "1",
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
}

/**
 * Finds (or installs) Python with nbclient and writes the kernelspec. Throws
 * `JupyterSetupError` with a one-line explanation when Jupyter cannot be had.
 */
export async function ensureJupyter(opts: SetupOptions = {}): Promise<JupyterSetup> {
  const root = opts.root ?? repoRoot();
  const progress = opts.progress ?? (() => {});
  const jupyterPath = await writeKernelSpec(root);
  const env = jupyterEnv(jupyterPath);
  const done = (python: string, source: JupyterSetup["source"]): JupyterSetup => ({
    python,
    source,
    jupyterPath,
    kernelName: KERNEL_NAME,
    env,
  });
  const found = await findPython(root, EXEC_MODULES);
  if (found) return done(found.python, found.source);
  if (opts.install === false) {
    throw new JupyterSetupError(
      "Jupyter (Python with nbclient and nbformat) is not installed; run without --no-install, " +
        `or install it: apt-get install ${
          APT_PACKAGES.join(" ")
        } (or pip install nbclient nbformat)`,
    );
  }
  const problems: string[] = [];
  if (await aptUsable()) {
    progress(`installing Jupyter from Debian: apt-get install ${APT_PACKAGES.join(" ")}`);
    let r = await run("apt-get", ["install", "-y", "-qq", ...APT_PACKAGES], {
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
    if (!r.ok) {
      progress("apt-get install failed; running apt-get update and retrying");
      await run("apt-get", ["update", "-qq"]);
      r = await run("apt-get", ["install", "-y", "-qq", ...APT_PACKAGES], {
        env: { DEBIAN_FRONTEND: "noninteractive" },
      });
    }
    if (r.ok && await hasModules("/usr/bin/python3", EXEC_MODULES)) {
      return done("/usr/bin/python3", "apt");
    }
    problems.push(`apt-get: ${lastLine(r.stderr || r.stdout)}`);
  } else {
    problems.push("apt-get not usable (not Debian/Ubuntu, or not root)");
  }
  try {
    const py = await pipInstall(root, ["nbclient", "nbformat", "jupyter_client"], progress);
    if (await hasModules(py, EXEC_MODULES)) return done(py, "pip");
    problems.push("pip: installed, but nbclient still cannot be imported");
  } catch (e) {
    problems.push(`pip: ${(e as Error).message}`);
  }
  throw new JupyterSetupError(
    `cannot install Jupyter (${problems.join("; ")}). Install it yourself: apt-get install ${
      APT_PACKAGES.join(" ")
    }, or python3 -m venv .venv && .venv/bin/pip install nbclient nbformat`,
  );
}

export interface LabSetup extends JupyterSetup {
  /** The `jupyter` launcher to run. */
  jupyter: string;
  /** "lab" (JupyterLab, from .venv) or "notebook" (the classic Notebook, from Debian). */
  app: "lab" | "notebook";
}

/** Debian's classic Notebook: installs in seconds, where pip's JupyterLab takes minutes. */
const APT_NOTEBOOK = ["jupyter-notebook", "python3-notebook"];

/**
 * Finds or installs a notebook server and writes the kernelspec. In order: JupyterLab in
 * `<repo>/.venv` when it is there; with `prefer: "lab"`, pip installs it (minutes: the
 * first `deno task lab` once took 12 here); otherwise Debian's classic Notebook, already
 * installed or apt-installed in seconds (its RequireJS pages draw the figures: the plotly
 * loader falls back to window.Plotly), and pip's JupyterLab only when apt cannot be used.
 */
export async function ensureLab(
  opts: SetupOptions & { prefer?: "lab" | "notebook" } = {},
): Promise<LabSetup> {
  const root = opts.root ?? repoRoot();
  const progress = opts.progress ?? (() => {});
  const jupyterPath = await writeKernelSpec(root);
  const bin = Deno.build.os === "windows" ? `${root}/.venv/Scripts` : `${root}/.venv/bin`;
  const py = venvPython(root);
  const base = { jupyterPath, kernelName: KERNEL_NAME, env: jupyterEnv(jupyterPath) };
  const lab = (source: JupyterSetup["source"]): LabSetup => ({
    ...base,
    python: py,
    source,
    jupyter: `${bin}/jupyter`,
    app: "lab",
  });
  const classic = (source: JupyterSetup["source"]): LabSetup => ({
    ...base,
    python: "/usr/bin/python3",
    source,
    jupyter: "/usr/bin/jupyter",
    app: "notebook",
  });
  if (await exists(py) && await hasModules(py, ["jupyterlab", "plotly"])) return lab("venv");
  const systemNotebook = () => hasModules("/usr/bin/python3", ["notebook"]);
  if (opts.prefer !== "lab") {
    if (await systemNotebook()) return classic("system");
    if (opts.install !== false && await aptUsable()) {
      progress(`installing Debian's Jupyter Notebook: apt-get install ${APT_NOTEBOOK.join(" ")}`);
      const env = { DEBIAN_FRONTEND: "noninteractive" };
      let r = await run("apt-get", ["install", "-y", "-qq", ...APT_NOTEBOOK], { env });
      if (!r.ok) {
        progress("apt-get install failed; running apt-get update and retrying");
        await run("apt-get", ["update", "-qq"]);
        r = await run("apt-get", ["install", "-y", "-qq", ...APT_NOTEBOOK], { env });
      }
      if (r.ok && await systemNotebook()) return classic("apt");
      progress(`apt-get could not install the Notebook (${lastLine(r.stderr || r.stdout)})`);
    }
  }
  if (opts.install === false) {
    throw new JupyterSetupError(
      "no notebook server: neither JupyterLab in .venv nor Debian's Notebook " +
        `(apt-get install ${APT_NOTEBOOK.join(" ")}); run without --no-install`,
    );
  }
  await pipInstall(root, ["jupyterlab", "plotly"], progress);
  return lab("pip");
}

export interface CellReport {
  index: number;
  ok: boolean;
  outputs: number;
  tags: string[];
  error?: string;
}

export interface NotebookReport {
  ok: boolean;
  seconds: number;
  cells: CellReport[];
  failures: string[];
  output: string;
  /** Set when the notebook could not be run at all (kernel did not start, ...). */
  setup_error?: string;
  /** The runner's stderr (kernel start-up messages, Python tracebacks). */
  stderr: string;
  /**
   * What the notebook substituted or left out (`degraded()` in lib/notebooks/degraded.ts,
   * read back from the file named by $SVRNN_DEGRADED). Does not make `ok` false: the caller
   * decides (reproduce fails on it outside quick mode).
   */
  degraded: Degradation[];
}

export interface RunOptions {
  /** Where the executed notebook is written (default: in place). */
  output?: string;
  quick?: boolean;
  /** Retrain instead of using shipped results (SVRNN_FULL=1). */
  full?: boolean;
  /** Results folder for the notebook's figures and tables (SVRNN_RESULTS). */
  resultsDir?: string;
  /** Seconds per cell (default 1800). */
  timeout?: number;
  env?: Record<string, string>;
}

/**
 * True when a run failed only because displays went missing (a cell that showed nothing, or
 * fewer displays received than the kit's helpers sent): what the Deno kernel's output race
 * looks like (docs/platform.md#the-output-race; even an awaited display can be dropped, seen
 * in notebook 06's first cell and, once, in the last display of its seventh), so such a
 * run is worth one more try. A cell that raised, or a notebook that did not run, is not.
 */
export function onlyOutputDropped(report: NotebookReport): boolean {
  return !report.ok && !report.setup_error && report.failures.length > 0 &&
    report.failures.every((f) =>
      /^cell \d+: shows no output$/.test(f) || /^outputs dropped: /.test(f)
    );
}

/** Executes one notebook headlessly with the Deno kernel and checks every cell. */
export async function runNotebook(
  setup: JupyterSetup,
  input: string,
  opts: RunOptions = {},
): Promise<NotebookReport> {
  const script = new URL("./run_notebook.py", import.meta.url).pathname;
  const name = input.replace(/^.*\//, "").replace(/\.ipynb$/, "");
  const degradedFile = await Deno.makeTempFile({ prefix: `svrnn-degraded-${name}-` });
  try {
    const env: Record<string, string> = {
      ...setup.env,
      SVRNN_NOTEBOOK: name,
      SVRNN_QUICK: opts.quick ? "1" : "",
      SVRNN_FULL: opts.full ? "1" : "",
      NO_COLOR: "1",
      [DEGRADED_ENV]: degradedFile,
      ...(opts.resultsDir ? { SVRNN_RESULTS: opts.resultsDir } : {}),
      ...(opts.env ?? {}),
    };
    const r = await run(setup.python, [
      script,
      input,
      opts.output ?? input,
      "--kernel",
      setup.kernelName,
      "--timeout",
      String(opts.timeout ?? 1800),
    ], { env });
    const degraded = await readDegradations(degradedFile);
    const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    if (!line) {
      return {
        ok: false,
        seconds: 0,
        cells: [],
        failures: [`runner failed (exit ${r.code}): ${lastLine(r.stderr)}`],
        output: opts.output ?? input,
        setup_error: lastLine(r.stderr),
        stderr: r.stderr,
        degraded,
      };
    }
    const report = JSON.parse(line) as NotebookReport;
    report.failures ??= report.setup_error ? [report.setup_error] : [];
    report.cells ??= [];
    report.stderr = r.stderr;
    report.degraded = degraded;
    return report;
  } finally {
    await Deno.remove(degradedFile).catch(() => {});
  }
}
