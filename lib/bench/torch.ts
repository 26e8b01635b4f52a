/**
 * The kit beside PyTorch on this CPU, for the record (issue: training speed): the same
 * cases timed by the kit's native backend and by PyTorch in one run, case by case (kit,
 * then PyTorch, so both see the machine in the same state), at the same thread count.
 *
 * The PyTorch side is `bench/torch_reference.py`, a bench-only reference of SVRNN built
 * from the layer list declared in lib/models/svrnn.ts (sent to it as JSON, so the network
 * is declared once); its parameter count must equal the kit's or the case fails. PyTorch
 * comes from Debian's python3-torch when present; without it the bench says so and writes
 * nothing. Neither the kit nor its tests depend on it.
 */
import { modelConfig, modelParamCount } from "../models/registry.ts";
import { type SVRNNConfig, svrnnLayers } from "../models/svrnn.ts";
import { DEFAULT_TRAIN_CONFIG } from "../train/config.ts";
import { benchForward, benchStep, type Timing } from "./native.ts";
import { describeNative, initNativeBackend } from "../backends/native/backend.ts";

/** One measurement: a forward of one image, or one training step of a batch. */
export interface SideBySideCase {
  what: "forward" | "train";
  model: string;
  batch: number;
  height: number;
  width: number;
  /** Why this case is here. */
  why: string;
}

/** The issue's cases: the paper's network at the sizes people use, and the studies' step. */
export const SIDE_BY_SIDE_CASES: readonly SideBySideCase[] = [
  { what: "forward", model: "svrnn", batch: 1, height: 720, width: 1280, why: "a GoPro frame" },
  { what: "train", model: "svrnn", batch: 4, height: 64, width: 64, why: "small batch" },
  { what: "train", model: "svrnn", batch: 20, height: 128, width: 128, why: "the paper's batch" },
  {
    what: "train",
    model: "svrnn-small",
    batch: 8,
    height: 64,
    width: 64,
    why: "the controlled studies' step",
  },
];

export interface TorchSide {
  torch: string;
  threads: number;
  mkldnn: boolean;
  params: number;
  runsMs: number[];
  ms: number;
}

export interface SideBySideRow {
  case: SideBySideCase;
  params: number;
  kit: Timing;
  torch: TorchSide;
  /** Kit time over PyTorch time: below 1, the kit is faster. */
  ratio: number;
}

/** The Python that has `import torch`: Debian's python3 first, then whatever is on PATH. */
export async function findTorchPython(): Promise<string | null> {
  for (const py of ["/usr/bin/python3", "python3"]) {
    try {
      const r = await new Deno.Command(py, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) return py;
    } catch { /* not there */ }
  }
  return null;
}

const REFERENCE = decodeURIComponent(
  new URL("../../bench/torch_reference.py", import.meta.url).pathname,
);

/** Times one case in PyTorch (a fresh process per case: no state carried between cases). */
export async function torchCase(
  python: string,
  c: SideBySideCase,
  reps: number,
  threads: number,
): Promise<TorchSide> {
  const config = modelConfig(c.model) as SVRNNConfig;
  const layers = svrnnLayers(config).map((l) => ({
    name: l.name,
    inC: l.inChannels,
    outC: l.outChannels,
    kernel: l.kernel,
    stride: l.stride,
  }));
  const child = new Deno.Command(python, {
    args: [REFERENCE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { OMP_NUM_THREADS: String(threads) },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify({
      ...c,
      config,
      layers,
      reps,
      threads,
      recipe: DEFAULT_TRAIN_CONFIG,
    })),
  );
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop();
    throw new Error(`bench/torch_reference.py failed on ${c.what} ${c.model}: ${err}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as TorchSide;
}

export interface SideBySideResult {
  benchmark: "torch";
  description: string;
  kit: string;
  torch: { version: string; threads: number; mkldnn: boolean; python: string };
  rows: SideBySideRow[];
}

/** Every case on the kit's native backend, then in PyTorch, at the BLAS thread count. */
export async function benchSideBySide(
  python: string,
  opts: { reps?: number; slowReps?: number; progress?: (m: string) => void } = {},
): Promise<SideBySideResult> {
  const say = opts.progress ?? (() => {});
  const info = await initNativeBackend();
  const rows: SideBySideRow[] = [];
  for (const c of SIDE_BY_SIDE_CASES) {
    const slow = c.what === "forward" || c.batch * c.height * c.width >= 20 * 128 * 128;
    const reps = slow ? opts.slowReps ?? 3 : opts.reps ?? 5;
    const label = `${c.what} ${c.model} [${c.batch},${c.height},${c.width},3]`;
    say(`torch: ${label}: kit (native)`);
    const kit = c.what === "forward"
      ? (await benchForward("native", [c.height, c.width], reps, c.model)).timing
      : (await benchStep("native", c.model, c.batch, c.height, reps)).timing;
    say(`torch: ${label}: PyTorch`);
    const torch = await torchCase(python, c, reps, info.threads);
    const params = modelParamCount(c.model);
    if (torch.params !== params) {
      throw new Error(
        `bench/torch_reference.py built ${torch.params} parameters for ${c.model}, the kit ${params}`,
      );
    }
    const row = { case: c, params, kit, torch, ratio: kit.ms / torch.ms };
    say(
      `  kit ${(kit.ms / 1000).toFixed(3)} s, PyTorch ${(torch.ms / 1000).toFixed(3)} s: ratio ${
        row.ratio.toFixed(2)
      }`,
    );
    rows.push(row);
  }
  const t = rows[0]?.torch;
  return {
    benchmark: "torch",
    description: "the kit's native backend beside PyTorch (bench/torch_reference.py, NCHW, " +
      "the gate scan as a loop of slice ops), same process tree, case by case, same threads; " +
      "median wall times; ratio = kit / PyTorch",
    kit: describeNative(info),
    torch: {
      version: t?.torch ?? "",
      threads: t?.threads ?? info.threads,
      mkldnn: t?.mkldnn ?? false,
      python,
    },
    rows,
  };
}

/** The table the CLI prints and the README quotes. */
export function formatSideBySide(r: SideBySideResult): string {
  const lines = [
    `kit: ${r.kit}`,
    `PyTorch ${r.torch.version} (${r.torch.threads} threads, oneDNN ${
      r.torch.mkldnn ? "on" : "off"
    })`,
    "| case | kit (s) | PyTorch (s) | kit / PyTorch |",
    "| --- | ---: | ---: | ---: |",
  ];
  for (const row of r.rows) {
    const c = row.case;
    lines.push(
      `| ${c.what} ${c.model} ${c.batch}x${c.height}x${c.width} (${c.why}) | ${
        (row.kit.ms / 1000).toFixed(3)
      } | ${(row.torch.ms / 1000).toFixed(3)} | ${row.ratio.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}
