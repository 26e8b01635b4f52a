/**
 * `deno task test`: the whole suite, as CI runs it, on any machine. Before the tests start
 * it looks for the optional system pieces some tests need (OpenBLAS, Mesa's software Vulkan
 * adapter, headless Jupyter, Chromium, ffmpeg, dpkg-deb), installs the missing ones with
 * apt when it can (root and apt-get present, unless --no-install), and prints what will be
 * skipped and why, so a skipped test is never a surprise at the end of a long run.
 *
 * `--quick` leaves out the files that train models or execute notebooks (QUICK_SKIPS, with
 * the reason for each): the inner loop of editing lib/.
 */
import { type CommandSpec, runCommand } from "./common.ts";
import { loadBlas } from "../backends/native/blas.ts";
import { dnnlAvailable } from "../backends/native/dnnl.ts";

/** An optional system piece: how to find it, the Debian packages that provide it. */
interface Piece {
  name: string;
  /** What is skipped without it. */
  skips: string;
  packages: string[];
  present(): Promise<boolean>;
}

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

async function anyFile(dir: string, prefix: string): Promise<boolean> {
  try {
    for await (const e of Deno.readDir(dir)) if (e.name.startsWith(prefix)) return true;
  } catch { /* no such folder */ }
  return false;
}

export const PIECES: readonly Piece[] = [
  {
    name: "OpenBLAS",
    skips: "the native CPU backend's tests (tests/native_test.ts)",
    packages: ["libopenblas0-pthread"],
    present: () => {
      try {
        loadBlas();
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },
  },
  {
    name: "oneDNN",
    skips: "the oneDNN convolutions' tests (tests/dnnl_test.ts)",
    packages: ["libdnnl2"],
    present: () => Promise.resolve(dnnlAvailable()),
  },
  {
    name: "Mesa llvmpipe (software Vulkan)",
    skips: "the WebGPU gate kernels' tests (tests/gate_rnn_webgpu_test.ts)",
    packages: ["mesa-vulkan-drivers", "libvulkan1"],
    present: () => anyFile("/usr/share/vulkan/icd.d", "lvp_icd"),
  },
  {
    name: "headless Jupyter (nbclient, ipykernel)",
    skips: "executing the notebooks (tests/notebooks_test.ts)",
    packages: ["python3-nbclient", "python3-nbformat", "jupyter-client", "python3-ipykernel"],
    present: () =>
      succeeds("/usr/bin/python3", ["-c", "import nbclient, nbformat, jupyter_client, ipykernel"]),
  },
  {
    name: "Chromium",
    skips: "the plotly loader drawn in a real page (tests/viz_loader_test.ts)",
    packages: ["chromium"],
    present: () => succeeds("chromium", ["--version"]),
  },
  {
    name: "nbconvert and RequireJS",
    skips: "the notebooks' HTML exports drawn in Chromium (tests/notebook_html_test.ts)",
    packages: ["python3-nbconvert", "libjs-requirejs"],
    present: async () =>
      await succeeds("/usr/bin/python3", ["-c", "import nbconvert"]) &&
      await Deno.stat("/usr/share/javascript/requirejs/require.min.js").then(() => true, () =>
        false),
  },
  {
    name: "ffmpeg",
    skips: "the video decode round trip (tests/data_blur_test.ts)",
    packages: ["ffmpeg"],
    present: () => succeeds("ffmpeg", ["-version"]),
  },
  {
    name: "dpkg-deb",
    skips: "the photo fetcher on a fake .deb (tests/data_photos_test.ts)",
    packages: ["dpkg"],
    present: () => succeeds("dpkg-deb", ["--version"]),
  },
];

/** Test files --quick leaves out, and why (each takes a minute or more on 2 cores). */
export const QUICK_SKIPS: Readonly<Record<string, string>> = {
  "tests/notebooks_test.ts": "executes every notebook",
  "tests/notebook_html_test.ts": "exports every notebook to HTML and draws it in Chromium",
  "tests/gpu_script_test.ts": "runs the GPU script's quick mode (trains on the software adapter)",
  "tests/wasm_training_test.ts": "trains on the wasm backend",
  "tests/train_test.ts": "trains models end to end",
  "tests/study_test.ts": "runs a study (trains and evaluates)",
  "tests/cli_test.ts": "trains and evaluates through the CLI",
  "tests/native_test.ts": "checks every native kernel against cpu",
  "tests/dnnl_test.ts": "checks every conv pass on oneDNN against OpenBLAS and cpu",
  "tests/wasm_train_kernels_test.ts": "checks conv gradients on wasm at every shape",
};

export const TEST_SPEC: CommandSpec = {
  name: "test",
  summary: "Run the test suite (what CI runs), after finding or installing the optional pieces.",
  usage: "[-- DENO_TEST_ARGS...]",
  options: {
    quick: {
      type: "boolean",
      description: `leave out the slow files (${Object.keys(QUICK_SKIPS).length}: training, ` +
        "notebook execution); under 3 minutes on 2 cores",
    },
    "no-install": {
      type: "boolean",
      description: "never install missing pieces with apt (only report what is skipped)",
    },
  },
  details: [
    "Optional pieces (tests that need a missing one are skipped, named so in the output):",
    ...PIECES.map((p) => `  ${p.name.padEnd(40)} ${p.packages.join(" ")}`),
    "Without root or apt-get nothing is installed; the list of skips is printed first.",
    "Arguments after -- go to `deno test` (for example a test file or --filter NAME).",
  ].join("\n"),
};

async function canApt(): Promise<boolean> {
  return Deno.uid?.() === 0 && (await succeeds("apt-get", ["--version"]));
}

async function aptInstall(packages: string[], log: (m: string) => void): Promise<boolean> {
  log(`installing ${packages.join(" ")} with apt-get`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const update = await new Deno.Command("apt-get", { args: ["update", "-qq"], env }).output();
  if (!update.success) return false;
  const r = await new Deno.Command("apt-get", {
    args: ["install", "-y", "-qq", ...packages],
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return r.success;
}

if (import.meta.main) {
  runCommand(TEST_SPEC, async (ctx) => {
    const log = (m: string) => console.error(`test: ${m}`);
    let missing: Piece[] = [];
    for (const p of PIECES) if (!(await p.present())) missing.push(p);
    if (missing.length > 0 && !ctx.flag("no-install")) {
      if (await canApt()) {
        await aptInstall(missing.flatMap((p) => p.packages), log);
        const still: Piece[] = [];
        for (const p of missing) if (!(await p.present())) still.push(p);
        missing = still;
      } else {
        log("not root or no apt-get: missing pieces are not installed");
      }
    }
    const quick = ctx.flag("quick");
    log(missing.length === 0 && !quick ? "nothing will be skipped" : "will skip:");
    for (const p of missing) {
      log(`  ${p.skips}: ${p.name} missing (apt-get install ${p.packages.join(" ")})`);
    }
    if (quick) {
      for (const [file, why] of Object.entries(QUICK_SKIPS)) log(`  ${file}: --quick (${why})`);
    }
    const args = ["test", "-A", "--no-check=remote"];
    if (quick) args.push(`--ignore=${Object.keys(QUICK_SKIPS).join(",")}`);
    args.push(...(ctx.positionals.length > 0 ? ctx.positionals : ["tests/"]));
    const r = await new Deno.Command(Deno.execPath(), {
      args,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    ctx.exitCode = r.code;
    return { code: r.code, skipped: missing.map((p) => p.name), quick };
  });
}
