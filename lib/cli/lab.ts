/**
 * `deno task lab`: a notebook server on notebooks/ with the kit's Deno kernel ready:
 * JupyterLab from the project's .venv when it is there, else Debian's classic Notebook
 * (apt-installed in seconds on first run); `--lab` pip-installs JupyterLab and plotly's
 * renderer into .venv instead (minutes). Writes the svrnn-deno kernelspec to .jupyter/.
 * The server runs in its own process group, so Ctrl-C stops it and every kernel it
 * started. Arguments after `--` go to `jupyter lab` / `jupyter notebook`.
 */
import { type CommandSpec, runCommand } from "./common.ts";
import { repoRoot } from "../records/paths.ts";
import { ensureLab, JupyterSetupError } from "../notebooks/jupyter.ts";
import { InputError } from "../data/errors.ts";

const spec: CommandSpec = {
  name: "lab",
  summary:
    "Start a notebook server in notebooks/ with the svrnn-deno kernel (Debian's Notebook in seconds, or JupyterLab with --lab).",
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
    lab: {
      type: "boolean",
      description:
        "JupyterLab (pip-installed into .venv on first run: minutes) instead of the Notebook",
    },
    "no-install": { type: "boolean", description: "fail instead of installing a server" },
  },
  details: `Which server: JupyterLab when .venv has it (--lab installs it there); otherwise the
classic Notebook from Debian (apt-get install jupyter-notebook on first run, seconds; as root).
The kernelspec .jupyter/kernels/svrnn-deno points at the deno running this command; Jupyter
finds it through JUPYTER_PATH. Ctrl-C stops the server and its kernels.`,
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
    ctx.progress(`lab: looking for ${ctx.flag("lab") ? "JupyterLab" : "a notebook server"}`);
    let setup;
    try {
      setup = await ensureLab({
        install: !ctx.flag("no-install"),
        progress: ctx.progress,
        root,
        prefer: ctx.flag("lab") ? "lab" : undefined,
      });
    } catch (e) {
      if (e instanceof JupyterSetupError) throw new InputError(e.message);
      throw e;
    }
    const args = [setup.app, `--notebook-dir=${root}/notebooks`];
    if (ctx.flag("no-browser") || headless()) args.push("--no-browser");
    if (port !== undefined) args.push(`--port=${port}`);
    // Jupyter refuses to run as root (containers, CI) without this flag.
    if (Deno.build.os !== "windows" && Deno.uid() === 0) args.push("--allow-root");
    args.push(...extra);
    ctx.progress(`lab: ${setup.jupyter} ${args.join(" ")}`);
    // setsid: the server and its kernels form one process group, signalled together below
    const hasSetsid = Deno.build.os === "linux" && await new Deno.Command("setsid", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output().then((o) => o.success, () => false);
    const child = new Deno.Command(hasSetsid ? "setsid" : setup.jupyter, {
      args: hasSetsid ? [setup.jupyter, ...args] : args,
      env: setup.env,
      cwd: `${root}/notebooks`,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const group = (signal: Deno.Signal) => {
      try {
        if (hasSetsid) Deno.kill(-child.pid, signal);
        else child.kill(signal);
      } catch { /* already gone */ }
    };
    // Jupyter shuts down on a second SIGINT without asking; kernels get the same signal
    const forward = () => {
      ctx.progress("lab: stopping the server and its kernels");
      group("SIGINT");
      setTimeout(() => group("SIGINT"), 200);
    };
    try {
      Deno.addSignalListener("SIGINT", forward);
    } catch { /* not supported on this OS */ }
    const status = await child.status;
    group("SIGTERM"); // any kernel the server left behind
    if (!status.success && status.code !== 130) {
      console.error(
        `lab: error: jupyter lab exited with code ${status.code} (its messages are above)`,
      );
      Deno.exit(status.code || 1);
    }
    return { exitCode: status.code };
  }, own);
}
