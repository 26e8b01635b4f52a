/**
 * `deno task bench`: speed of the kit's kernels, written to results/bench/*.json with
 * provenance. Speed is reported as times and as ratios against baselines run in the same
 * process, never asserted by tests.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { type BackendName, describeBackend, initBackend, probeWebGPU } from "../backend.ts";
import {
  benchKernel,
  benchOpsLoop,
  benchTypeScriptLoop,
  type GateRnnRecord,
} from "../bench/gate_rnn.ts";
import { provenance, writeJsonAtomic } from "./provenance.ts";

const HELP = `deno task bench [options]

Benchmarks the gate-recurrent operator on every available backend (forward and backward,
four directions) against a plain TypeScript loop and a loop of tfjs ops, and writes
results/bench/gate_rnn.json.

Options:
  --backends LIST   comma-separated backends (default: cpu,wasm,webgpu where available)
  --shape N,H,W,C   tensor shape (default 1,360,640,32: the half-resolution feature map
                    of a 1280x720 image)
  --reps K          timed repetitions per measurement, median reported (default 5)
  --out DIR         output folder (default results/bench)
  --json            print the records as one JSON object on stdout
  --debug           show stack traces on error
  -h, --help        this text`;

class UsageError extends Error {}

function parse() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backends: { type: "string" },
      shape: { type: "string", default: "1,360,640,32" },
      reps: { type: "string", default: "5" },
      out: { type: "string", default: "results/bench" },
      json: { type: "boolean", default: false },
      debug: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const shape = values.shape!.split(",").map(Number);
  if (shape.length !== 4 || !shape.every((v) => Number.isInteger(v) && v > 0)) {
    throw new UsageError(`--shape must be four positive integers N,H,W,C, got "${values.shape}"`);
  }
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) {
    throw new UsageError(`--reps must be a positive integer, got "${values.reps}"`);
  }
  const backends = values.backends?.split(",");
  for (const b of backends ?? []) {
    if (!["cpu", "wasm", "webgpu"].includes(b)) {
      throw new UsageError(`--backends: unknown backend "${b}" (cpu, wasm, webgpu)`);
    }
  }
  return { ...values, shape, reps, backends: backends as BackendName[] | undefined };
}

async function main(): Promise<void> {
  const opts = parse();
  if (opts.help) {
    console.log(HELP);
    return;
  }
  const backends = opts.backends ??
    (await probeWebGPU() ? ["cpu", "wasm", "webgpu"] : ["cpu", "wasm"]) as BackendName[];
  const records: (GateRnnRecord & { backendDetail: string })[] = [];
  const progress = (msg: string) => console.error(`[bench] ${msg}`);

  progress(`typescript loop, shape [${opts.shape}]`);
  for (const r of await benchTypeScriptLoop(opts.shape, opts.reps)) {
    records.push({ ...r, backendDetail: `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})` });
  }
  for (const name of backends) {
    const info = await initBackend(name);
    const detail = describeBackend(info);
    progress(`kernel on ${detail}`);
    for (const r of await benchKernel(opts.shape, opts.reps)) {
      records.push({ ...r, backendDetail: detail });
    }
    progress(`tfjs-ops loop on ${detail}`);
    // The ops loop is hundreds of times slower: two timed runs are enough for its median.
    for (const r of await benchOpsLoop(opts.shape, Math.min(opts.reps, 2))) {
      records.push({ ...r, backendDetail: detail });
    }
    tf.disposeVariables();
  }

  // Ratios against the TypeScript loop measured above, in this process.
  const tsTime = (pass: string) =>
    records.find((r) => r.implementation === "typescript-loop" && r.pass === pass)!.ms;
  const withRatios = records.map((r) => ({
    ...r,
    speedupOverTypeScriptLoop: tsTime(r.pass) / r.ms,
  }));
  const result = {
    benchmark: "gate_rnn",
    description:
      "gateRecurrent, all four directions, median wall time; baselines: plain TypeScript loop, loop of tfjs ops",
    provenance: await provenance(`deno task bench ${Deno.args.join(" ")}`.trim()),
    records: withRatios,
  };
  const path = `${opts.out}/gate_rnn.json`;
  await writeJsonAtomic(path, result);
  progress(`wrote ${path}`);
  for (const r of withRatios) {
    console.error(
      `  ${r.implementation.padEnd(16)} ${r.backend.padEnd(7)} ${r.pass.padEnd(8)} ${
        r.ms.toFixed(1).padStart(9)
      } ms  ${r.gbPerS.toFixed(1).padStart(6)} GB/s  x${r.speedupOverTypeScriptLoop.toFixed(2)}`,
    );
  }
  if (opts.json) console.log(JSON.stringify(result));
}

if (import.meta.main) {
  const debug = Deno.args.includes("--debug");
  try {
    await main();
  } catch (e) {
    const err = e as Error;
    const usage = e instanceof UsageError || err.name === "TypeError" && "code" in err;
    console.error(`bench: ${err.message}`);
    if (debug) console.error(err.stack);
    Deno.exit(usage ? 2 : 1);
  }
}
