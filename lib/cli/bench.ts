/**
 * `deno task bench`: speed of the kit's kernels, written to results/bench/*.json with
 * provenance. Speed is reported as times and as ratios against baselines run in the same
 * process, never asserted by tests.
 */
import * as tf from "@tensorflow/tfjs";
import { type CommandSpec, type Context, runCommand, UsageError } from "./common.ts";
import { type BackendName, describeBackend, initBackend, probeWebGPU } from "../backends/select.ts";
import {
  benchKernel,
  benchOpsLoop,
  benchTypeScriptLoop,
  type GateRnnRecord,
} from "../bench/gate_rnn.ts";
import { benchConvGrad, formatConvGradTable } from "../bench/conv_grad.ts";
import { benchNative, formatNativeBench } from "../bench/native.ts";
import { nativeAvailable } from "../backends/native/backend.ts";
import { benchSideBySide, findTorchPython, formatSideBySide } from "../bench/torch.ts";
import { benchDnnlConv, formatDnnlConvBench } from "../bench/dnnl_conv.ts";
import { dnnlAvailable } from "../backends/native/dnnl.ts";
import { benchV8Flags, formatV8FlagsBench } from "../bench/v8_flags.ts";
import { provenance, writeJsonAtomic } from "../records/provenance.ts";

const BENCHES = ["gate_rnn", "conv_grad", "native", "torch", "dnnl_conv", "v8_flags"] as const;
type Bench = typeof BENCHES[number];

export const BENCH_SPEC: CommandSpec = {
  name: "bench",
  summary: "Benchmark the kit's kernels and write results/bench/NAME.json with provenance.",
  usage: "",
  positionals: { max: 0 },
  options: {
    only: {
      type: "string",
      valueName: "LIST",
      description: `comma-separated benchmarks (default all: ${BENCHES.join(", ")})`,
    },
    backends: {
      type: "string",
      valueName: "LIST",
      description: "gate_rnn: comma-separated backends (default cpu,wasm,webgpu where available)",
    },
    shape: {
      type: "string",
      valueName: "N,H,W,C",
      default: "1,360,640,32",
      description: "gate_rnn: tensor shape (the half-resolution feature map of 1280x720)",
    },
    reps: {
      type: "string",
      valueName: "K",
      default: "5",
      description: "timed repetitions (median)",
    },
    layers: {
      type: "string",
      valueName: "LIST",
      description: "conv_grad: only these SVRNN layers",
    },
    out: {
      type: "string",
      valueName: "DIR",
      default: "results/bench",
      description: "output folder",
    },
  },
  details: `gate_rnn: gateRecurrent, four directions, forward and backward, per backend, against a
plain TypeScript loop and a loop of tfjs slice/multiply/add ops.
conv_grad: the wasm backend's conv gradients (lib/backends/wasm_train/) against its forward conv and
the shipped Conv2DBackpropInput, on SVRNN's layer shapes at batch 4 of 128x128 patches.
native: the OpenBLAS backend against wasm in one process: a conv, the svrnn forward on a
1280x720 image, training steps (batch 4 of 64x64, batch 20 of 128x128), svrnn-small steps per
second, and a per-kernel profile (about 15 minutes; skipped when OpenBLAS is missing).
torch: the native backend beside PyTorch (bench/torch_reference.py, Debian's python3-torch; a
bench-only reference, skipped when absent), case by case in one run: the svrnn forward at
1280x720, svrnn train steps at batch 4 of 64x64 and 20 of 128x128, the svrnn-small step of the
controlled studies (about 5 minutes).
dnnl_conv: every conv pass of svrnn-small and cnn-small training steps (batch 8 of 64x64), of
svrnn training steps (batch 4 of 64x64, batch 20 of 128x128) and of the svrnn and svrnn-small
forwards (256x256, 1280x720) on OpenBLAS against oneDNN (three layouts), at 1 thread and all; the
table the native backend chooses its conv path from (about 25 minutes; skipped when OpenBLAS or
libdnnl is missing).
v8_flags: training steps (svrnn-small at batch 8 of 64x64 on one thread, svrnn at batch 4 of 64x64
on two) under V8's default flags and under the kit's (lib/backends/v8_flags.ts), one process each,
in pairs, steady-state medians (about 5 minutes; skipped when OpenBLAS is missing).`,
};

function parseShape(s: string): number[] {
  const shape = s.split(",").map(Number);
  if (shape.length !== 4 || !shape.every((v) => Number.isInteger(v) && v > 0)) {
    throw new UsageError(`--shape must be four positive integers N,H,W,C, got "${s}"`);
  }
  return shape;
}

async function gateRnn(ctx: Context, shape: number[], reps: number) {
  const requested = ctx.str("backends")?.split(",");
  for (const b of requested ?? []) {
    if (!["cpu", "wasm", "webgpu"].includes(b)) {
      throw new UsageError(`--backends: unknown backend "${b}" (cpu, wasm, webgpu)`);
    }
  }
  const backends = (requested ??
    (await probeWebGPU() ? ["cpu", "wasm", "webgpu"] : ["cpu", "wasm"])) as BackendName[];
  const records: (GateRnnRecord & { backendDetail: string })[] = [];
  ctx.progress(`gate_rnn: typescript loop, shape [${shape}]`);
  for (const r of await benchTypeScriptLoop(shape, reps)) {
    records.push({ ...r, backendDetail: `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})` });
  }
  for (const name of backends) {
    const detail = describeBackend(await initBackend(name));
    ctx.progress(`gate_rnn: kernel on ${detail}`);
    for (const r of await benchKernel(shape, reps)) records.push({ ...r, backendDetail: detail });
    ctx.progress(`gate_rnn: tfjs-ops loop on ${detail}`);
    // The ops loop is hundreds of times slower: two timed runs are enough for its median.
    for (const r of await benchOpsLoop(shape, Math.min(reps, 2))) {
      records.push({ ...r, backendDetail: detail });
    }
  }
  const tsTime = (pass: string) =>
    records.find((r) => r.implementation === "typescript-loop" && r.pass === pass)!.ms;
  const withRatios = records.map((r) => ({
    ...r,
    speedupOverTypeScriptLoop: tsTime(r.pass) / r.ms,
  }));
  for (const r of withRatios) {
    ctx.progress(
      `  ${r.implementation.padEnd(16)} ${r.backend.padEnd(7)} ${r.pass.padEnd(8)} ${
        r.ms.toFixed(1).padStart(9)
      } ms  ${r.gbPerS.toFixed(1).padStart(6)} GB/s  x${r.speedupOverTypeScriptLoop.toFixed(2)}`,
    );
  }
  return {
    benchmark: "gate_rnn",
    description:
      "gateRecurrent, all four directions, median wall time; baselines: plain TypeScript loop, loop of tfjs ops",
    records: withRatios,
  };
}

async function convGrad(ctx: Context, reps: number) {
  const info = await initBackend("wasm");
  ctx.progress(`conv_grad: ${describeBackend(info)}`);
  const layers = ctx.str("layers")?.split(",");
  const records = await benchConvGrad({ runs: reps, layers });
  ctx.progress("\n" + formatConvGradTable(records));
  return {
    benchmark: "conv_grad",
    description:
      "wasm conv gradients (lib/backends/wasm_train) vs the forward conv and the shipped Conv2DBackpropInput, median wall time",
    backend: describeBackend(info),
    records,
  };
}

async function native(ctx: Context, reps: number) {
  if (!nativeAvailable()) {
    ctx.warn("native: OpenBLAS not available (deno task setup:native); skipped");
    return null;
  }
  const result = await benchNative({ reps, progress: ctx.progress });
  ctx.progress("\n" + formatNativeBench(result));
  return result;
}

async function torch(ctx: Context, reps: number) {
  if (!nativeAvailable()) {
    ctx.warn("torch: OpenBLAS not available (deno task setup:native); skipped");
    return null;
  }
  const python = await findTorchPython();
  if (!python) {
    ctx.warn("torch: no Python with PyTorch (apt-get install python3-torch); skipped");
    return null;
  }
  const result = await benchSideBySide(python, { reps, progress: ctx.progress });
  ctx.progress("\n" + formatSideBySide(result));
  return result;
}

async function dnnlConv(ctx: Context, reps: number) {
  if (!nativeAvailable() || !dnnlAvailable()) {
    ctx.warn("dnnl_conv: OpenBLAS or oneDNN not available (deno task setup:native); skipped");
    return null;
  }
  const result = await benchDnnlConv({ reps, progress: ctx.progress });
  ctx.progress("\n" + formatDnnlConvBench(result));
  return result;
}

async function v8Flags(ctx: Context) {
  if (!nativeAvailable()) {
    ctx.warn("v8_flags: OpenBLAS not available (deno task setup:native); skipped");
    return null;
  }
  const result = await benchV8Flags({ progress: ctx.progress });
  ctx.progress("\n" + formatV8FlagsBench(result));
  return result;
}

async function main(ctx: Context) {
  const only = (ctx.str("only")?.split(",") ?? [...BENCHES]) as Bench[];
  for (const b of only) {
    if (!BENCHES.includes(b)) {
      throw new UsageError(`--only: unknown benchmark "${b}" (${BENCHES.join(", ")})`);
    }
  }
  const shape = parseShape(ctx.str("shape")!);
  const reps = ctx.int("reps", 5, 1);
  const out = ctx.str("out")!;
  const prov = await provenance(`deno task bench ${Deno.args.join(" ")}`.trim());
  const written: Record<string, unknown> = {};
  for (const b of only) {
    const result = b === "gate_rnn"
      ? await gateRnn(ctx, shape, reps)
      : b === "conv_grad"
      ? await convGrad(ctx, reps)
      : b === "torch"
      ? await torch(ctx, reps)
      : b === "dnnl_conv"
      ? await dnnlConv(ctx, reps)
      : b === "v8_flags"
      ? await v8Flags(ctx)
      : await native(ctx, reps);
    if (result === null) continue;
    const file = { ...result, provenance: prov };
    await writeJsonAtomic(`${out}/${b}.json`, file);
    ctx.progress(`wrote ${out}/${b}.json`);
    written[b] = file;
    tf.disposeVariables();
  }
  return written;
}

if (import.meta.main) runCommand(BENCH_SPEC, main);
