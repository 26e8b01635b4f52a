/**
 * `deno task lab`: JupyterLab on notebooks/ with the kit's Deno kernel ready. On first run
 * it pip-installs JupyterLab and plotly (for the interactive figure renderer) into the
 * project's .venv (this may take minutes) and writes the svrnn-deno kernelspec to .jupyter/.
 * Arguments after `--` go to `jupyter lab`.
 */
import { type CommandSpec, runCommand } from "./common.ts";
import { repoRoot } from "../records/paths.ts";
import { ensureLab, JupyterSetupError } from "../notebooks/jupyter.ts";
import { InputError } from "../data/errors.ts";

const spec: CommandSpec = {
  name: "lab",
  summary:
    "Start JupyterLab in notebooks/ with the svrnn-deno kernel (installs JupyterLab into .venv on first run).",
  usage: "[-- JUPYTER_LAB_ARGS...]",
  options: {
    port: {
      type: "string",
      valueName: "N",
      description: "port for the server (default: Jupyter's)",
    },
    "no-browser": {
      type: "boolean",
      description: "do not open a browser (automatic when there is no display)",
    },
    "no-install": { type: "boolean", description: "fail instead of installing JupyterLab" },
  },
  details: `First run: python3 -m venv .venv && .venv/bin/pip install jupyterlab plotly (minutes).
The kernelspec .jupyter/kernels/svrnn-deno points at the deno running this command; Jupyter
finds it through JUPYTER_PATH. Stop the server with Ctrl-C.`,
};

function headless(): boolean {
  if (Deno.build.os !== "linux") return false;
  return !Deno.env.get("DISPLAY") && !Deno.env.get("WAYLAND_DISPLAY");
}

if (import.meta.main) {
  const dashdash = Deno.args.indexOf("--");
  const own = dashdash < 0 ? Deno.args : Deno.args.slice(0, dashdash);
  const extra = dashdash < 0 ? [] : Deno.args.slice(dashdash + 1);
  runCommand(spec, async (ctx) => {
    const port = ctx.int("port", undefined, 1, 65535);
    const root = repoRoot();
    ctx.progress(
      "lab: checking JupyterLab in .venv (first run installs it: this may take minutes)",
    );
    let setup;
    try {
      setup = await ensureLab({ install: !ctx.flag("no-install"), progress: ctx.progress, root });
    } catch (e) {
      if (e instanceof JupyterSetupError) throw new InputError(e.message);
      throw e;
    }
    const args = ["lab", `--notebook-dir=${root}/notebooks`];
    if (ctx.flag("no-browser") || headless()) args.push("--no-browser");
    if (port !== undefined) args.push(`--port=${port}`);
    // Jupyter refuses to run as root (containers, CI) without this flag.
    if (Deno.build.os !== "windows" && Deno.uid() === 0) args.push("--allow-root");
    args.push(...extra);
    ctx.progress(`lab: ${setup.jupyter} ${args.join(" ")}`);
    const child = new Deno.Command(setup.jupyter, {
      args,
      env: setup.env,
      cwd: `${root}/notebooks`,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const forward = () => {
      try {
        child.kill("SIGINT");
      } catch { /* already gone */ }
    };
    try {
      Deno.addSignalListener("SIGINT", forward);
    } catch { /* not supported on this OS */ }
    const status = await child.status;
    if (!status.success && status.code !== 130) {
      console.error(
        `lab: error: jupyter lab exited with code ${status.code} (its messages are above)`,
      );
      Deno.exit(status.code || 1);
    }
    return { exitCode: status.code };
  }, own);
}
