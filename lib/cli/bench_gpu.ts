/**
 * `bash bench/gpu.sh` (or `deno task bench:gpu`): the GPU run (docs/backends.md#the-gpu-run).
 * Measures the webgpu backend (lib/bench/gpu.ts), then trains svrnn-small on the controlled
 * benchmark for what is left of the time budget, and writes everything to one JSON file,
 * rewritten after every phase so that a run cut short still leaves what it measured.
 *
 * The data and the training run as child processes (`deno task data controlled`, `deno task
 * train`): the data is rendered on the CPU while the GPU is measured, and a training process
 * that overruns the budget can be stopped without losing this one's file.
 */
import { type CommandSpec, type Context, InputError, runCommand } from "./common.ts";
import { type BackendInfo, describeBackend, initBackend } from "../backends/select.ts";
import {
  type AdapterRecord,
  benchForward,
  benchGateScan,
  benchStep,
  describeAdapter,
  type ForwardRecord,
  FULL_SHAPES,
  type GateScanRecord,
  type GpuShapes,
  planTraining,
  QUICK_SHAPES,
  type StepRecord,
  type TrainPlan,
} from "../bench/gpu.ts";
import { type Provenance, provenance, writeJsonAtomic } from "../records/provenance.ts";
import { parseTrainingLog, type TrainLogRecord } from "../records/formats.ts";
import { CONTROLLED_ROOT } from "../data/controlled_io.ts";
import { shippedCheckpointFile } from "../records/paths.ts";

export const BENCH_GPU_SPEC: CommandSpec = {
  name: "bench:gpu",
  summary: "Measure the webgpu backend on this machine's GPU, then train svrnn-small on the " +
    "controlled benchmark for the rest of the time budget; one JSON file " +
    "(docs/backends.md#the-gpu-run).",
  usage: "",
  positionals: { max: 0 },
  options: {
    quick: {
      type: "boolean",
      description: "tiny shapes and a few steps (minutes on Mesa's software adapter)",
    },
    "budget-min": {
      type: "string",
      valueName: "M",
      description: "minutes for the whole run, measurements and training (default 8; quick 4)",
    },
    out: {
      type: "string",
      valueName: "FILE",
      description:
        "the JSON file (default results/bench/gpu.json; quick runs/gpu-quick/gpu.json); " +
        "the training run goes beside it",
    },
    "started-at": {
      type: "string",
      valueName: "MS",
      description: "epoch milliseconds the budget counts from (bench/gpu.sh passes its own start)",
    },
    offline: {
      type: "boolean",
      description: "run the child processes with --cached-only (bench/gpu.sh, on a packed tree)",
    },
  },
  details: `Phases, each recorded as a result, {"error": ...} or {"skipped": ...}: the adapter,
the gate scan forward and backward at [1,360,640,32] (GB/s, and the fraction of the card's spec
bandwidth where lib/bench/gpu.ts knows the card), the svrnn forward at 1280x720, an svrnn training
step at batch 20 of 128x128, svrnn-small's steps per second at batch 8 of 64x64, then training:
svrnn-small on data/controlled/mix (rendered first if missing; without the photo set, cut from the
fixtures in 80-px crops as data/controlled/mix-fixtures), continuing from the released controlled
model (results/checkpoints/svrnn-small-controlled.safetensors), for as many steps as the rate fits
in the time left, validation off (scored after, on wasm: docs/backends.md#the-gpu-run), its run
folder NAME-train/ and released weights NAME.safetensors beside the JSON.`,
};

const ROOT = new URL("../..", import.meta.url).pathname;
/** Kept free at the end for stopping the trainer and writing the file. */
const RESERVE_SEC = 15;
/** Kept free after training for evaluating its weights (a new process, 33 crops on wasm). */
const EVAL_SEC = { full: 40, quick: 20 };

type Phase<T> = T | { error: string } | { skipped: string };
const STOPPED = "did not finish: the run was stopped during this phase";

export interface DataRecord {
  name: string;
  /** Where the pairs were cut from: the photo set or, without it, the fixtures. */
  source: "photos" | "fixtures" | null;
  trainPairs: number | null;
  testPairs: number | null;
  /** The command that made or checked it, and how long it took. */
  command: string;
  sec: number;
}

export interface TrainingRecord {
  command: string;
  data: DataRecord;
  plan: TrainPlan;
  /** "done", "stopped at the deadline" (killed; the last checkpoint stands) or "failed". */
  status: "done" | "stopped at the deadline" | "failed";
  exitCode: number | null;
  message: string | null;
  wallSec: number;
  /** Steps completed, from the trainer's result or, when it was stopped, its log. */
  steps: number;
  /** Mean patches per second over the logged steps, as the trainer measured them. */
  patchesPerSec: number | null;
  /** The trained weights on the benchmark's test split (`deno task eval`, on wasm). */
  evaluation: Phase<EvaluationRecord>;
  /** Paths relative to the JSON's folder. */
  runFolder: string;
  checkpoint: string | null;
  released: string | null;
}

export interface EvaluationRecord {
  command: string;
  weights: string;
  images: number;
  meanPsnr: number;
  meanInputPsnr: number;
  gainPsnr: number;
  medianGainPsnr: number;
  improved: number;
  meanSsim: number;
  meanInputSsim: number;
  sec: number;
}

export interface GpuBenchFile {
  benchmark: "gpu";
  quick: boolean;
  /** False until the last phase has finished. */
  complete: boolean;
  description: string;
  budget: { minutes: number; startedAt: string; elapsedSec: number };
  backend: string;
  shapes: GpuShapes;
  adapter: Phase<AdapterRecord>;
  gateScan: Phase<{ shape: number[]; bytesCounted: string; records: GateScanRecord[] }>;
  forward: Phase<ForwardRecord>;
  trainStep: Phase<StepRecord>;
  throughput: Phase<StepRecord>;
  training: Phase<TrainingRecord>;
  /** Wall seconds of each phase. */
  phaseSec: Record<string, number>;
  provenance: Provenance & { packed?: unknown };
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

function isResult<T>(p: Phase<T>): p is T {
  return typeof p === "object" && p !== null && !("error" in p) && !("skipped" in p);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

interface Child {
  code: number | null;
  stdout: string;
  timedOut: boolean;
  sec: number;
}

/**
 * Runs `deno run -A [--cached-only] ARGS` in the repository, its stderr passed through; killed
 * (TERM, then KILL) when `untilMs` (epoch ms) comes.
 */
async function runDeno(args: string[], offline: boolean, untilMs: number): Promise<Child> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(offline ? ["--cached-only"] : []), ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let timedOut = false;
  let hard: ReturnType<typeof setTimeout> | undefined;
  const soft = setTimeout(() => {
    timedOut = true;
    child.kill("SIGTERM");
    hard = setTimeout(() => child.kill("SIGKILL"), 5000);
  }, Math.max(0, untilMs - Date.now()));
  const out = await child.output();
  clearTimeout(soft);
  clearTimeout(hard);
  return {
    code: out.signal ? null : out.code,
    stdout: new TextDecoder().decode(out.stdout),
    timedOut,
    sec: (performance.now() - t0) / 1000,
  };
}

/** The controlled benchmark to train on, and the `deno task data controlled` options making it. */
async function dataPlan(quick: boolean): Promise<{ name: string; args: string[] }> {
  if (quick) {
    return {
      name: "gpu-quick",
      args: ["--fixtures", "--name", "gpu-quick", "--per-photo", "2,1", "--crop", "64"],
    };
  }
  // The mix needs the photo set (deno task data), which does not travel to a GPU machine; the
  // same factors cut from the fixtures get their own name so they are never taken for it, and
  // 80-px crops, the largest the renderer's 64-px margin leaves in the 216-px-high fixture.
  const photos = await exists(`${ROOT}data/photos/manifest.json`);
  const mix = await exists(`${ROOT}${CONTROLLED_ROOT}/mix/manifest.json`);
  if (photos || mix) return { name: "mix", args: [] };
  return { name: "mix-fixtures", args: ["--fixtures", "--name", "mix-fixtures", "--crop", "80"] };
}

async function prepareData(
  quick: boolean,
  offline: boolean,
  untilMs: number,
): Promise<DataRecord> {
  const { name, args } = await dataPlan(quick);
  const cli = ["controlled", ...args, "--json", "--quiet"];
  const r = await runDeno(["lib/cli/data.ts", ...cli], offline, untilMs);
  const command = `deno task data ${cli.join(" ")}`;
  if (r.code !== 0) {
    throw new Error(
      `${command} ${r.timedOut ? "ran past the budget" : `failed (exit ${r.code})`}`,
    );
  }
  const manifest = JSON.parse(
    await Deno.readTextFile(`${ROOT}${CONTROLLED_ROOT}/${name}/manifest.json`),
  ) as { source?: "photos" | "fixtures"; pairs?: { split: string }[] };
  const count = (s: string) => manifest.pairs?.filter((p) => p.split === s).length ?? null;
  return {
    name,
    source: manifest.source ?? null,
    trainPairs: count("train"),
    testPairs: count("test"),
    command,
    sec: r.sec,
  };
}

/** The JSON's folder, and the stem its training outputs are named after. */
function siblings(out: string): { dir: string; stem: string } {
  const slash = out.lastIndexOf("/");
  const dir = slash < 0 ? "." : out.slice(0, slash) || "/";
  const base = out.slice(slash + 1);
  return { dir, stem: base.endsWith(".json") ? base.slice(0, -5) : base };
}

async function readLog(path: string): Promise<TrainLogRecord[]> {
  try {
    return parseTrainingLog(await Deno.readTextFile(path), path);
  } catch {
    return [];
  }
}

async function runTraining(
  plan: TrainPlan,
  data: DataRecord,
  shape: GpuShapes["throughput"],
  quick: boolean,
  out: string,
  offline: boolean,
  untilMs: number,
): Promise<TrainingRecord> {
  const { dir, stem } = siblings(out);
  const runFolder = `${dir}/${stem}-train`;
  const released = `${dir}/${stem}.safetensors`;
  const steps = plan.steps;
  // The recipe of the shipped controlled model (recipes/svrnn-small-controlled.4.json) at the
  // throughput measurement's batch and patch, so the plan's rate is the one trained at,
  // continuing from its released weights: trained on the mix from scratch the model stays at
  // its input (docs/studies.md), so minutes of GPU are worth most as a fifth stage.
  // deno-fmt-ignore
  const args = [
    "--model", shape.model,
    "--init", shippedCheckpointFile("svrnn-small-controlled"),
    "--controlled", data.name,
    "--steps", String(steps),
    "--batch", String(shape.batch),
    "--patch", String(shape.patch),
    "--lr", "3e-4",
    "--lr-power", "1",
    "--weight-decay", "0",
    "--loss", "psnr",
    "--seed", "0",
    "--log-every", String(Math.max(1, Math.floor(steps / 50))),
    "--val-every", "0",
    "--val-images", "0",
    "--checkpoint-every", String(Math.max(1, Math.ceil(steps / 4))),
    "--backend", "webgpu",
    "--out", runFolder,
    "--fresh",
    "--release", released,
    "--release-weights", "last",
    "--json",
  ];
  const evalSec = quick ? EVAL_SEC.quick : EVAL_SEC.full;
  const r = await runDeno(["lib/cli/train.ts", ...args], offline, untilMs - evalSec * 1000);
  const log = await readLog(`${runFolder}/log.jsonl`);
  const trainLogs = log.filter((l) => l.kind === "train" && l.patchesPerSec !== undefined);
  let step: number | undefined;
  try {
    if (r.code === 0) step = JSON.parse(r.stdout).step;
  } catch {
    step = undefined;
  }
  const status = r.code === 0 ? "done" : r.timedOut ? "stopped at the deadline" : "failed";
  const rel = (p: string) => p.slice(dir.length + 1);
  const last = `${runFolder}/last.safetensors`;
  const weights = r.code === 0 && await exists(released)
    ? released
    : await exists(last)
    ? last
    : null;
  return {
    command: `deno task train ${args.join(" ")}`,
    data,
    plan,
    status,
    exitCode: r.code,
    message: status === "failed" ? `deno task train exited with ${r.code}` : null,
    wallSec: r.sec,
    steps: step ?? Math.max(0, ...log.map((l) => l.step)),
    patchesPerSec: trainLogs.length
      ? trainLogs.reduce((a, l) => a + l.patchesPerSec!, 0) / trainLogs.length
      : null,
    evaluation: weights
      ? await evaluate(shape.model, weights, data.name, offline, untilMs).then(
        (e) => ({ ...e, weights: rel(e.weights) }),
        (e) => ({ error: message(e) }),
      )
      : { skipped: "no checkpoint was written" },
    runFolder: rel(runFolder),
    checkpoint: await exists(last) ? rel(last) : null,
    released: r.code === 0 && await exists(released) ? rel(released) : null,
  };
}

/**
 * The trained weights on the test split, once training has ended: training runs with
 * validation off so the whole budget goes to steps, and the scoring runs on the wasm
 * backend, whose results do not depend on the adapter.
 */
async function evaluate(
  model: string,
  weights: string,
  data: string,
  offline: boolean,
  untilMs: number,
): Promise<EvaluationRecord> {
  // deno-fmt-ignore
  const cli = [
    "--model", model,
    "--checkpoint", weights,
    "--controlled", data,
    "--backend", "wasm",
    "--tile", "0",
    "--json",
    "--quiet",
  ];
  const r = await runDeno(["lib/cli/eval.ts", ...cli], offline, untilMs);
  const command = `deno task eval ${cli.join(" ")}`;
  if (r.code !== 0) {
    throw new Error(`${command} ${r.timedOut ? "ran past the budget" : `exited with ${r.code}`}`);
  }
  const summary = JSON.parse(r.stdout).summary as Omit<EvaluationRecord, "command" | "sec">;
  return {
    command,
    weights,
    images: summary.images,
    meanPsnr: summary.meanPsnr,
    meanInputPsnr: summary.meanInputPsnr,
    gainPsnr: summary.gainPsnr,
    medianGainPsnr: summary.medianGainPsnr,
    improved: summary.improved,
    meanSsim: summary.meanSsim,
    meanInputSsim: summary.meanInputSsim,
    sec: r.sec,
  };
}

/** The commit the pack step recorded, for a copied tree that has no .git of its own. */
async function packedSource(): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${ROOT}.gpu/source.json`));
  } catch {
    return null;
  }
}

async function main(ctx: Context) {
  const quick = ctx.flag("quick");
  const offline = ctx.flag("offline");
  const minutes = ctx.num("budget-min", quick ? 4 : 8, 0.5, 600);
  const out = ctx.str("out") ?? (quick ? "runs/gpu-quick/gpu.json" : "results/bench/gpu.json");
  const startedAt = ctx.int("started-at", Date.now(), 0);
  const deadline = startedAt + minutes * 60_000 - RESERVE_SEC * 1000;
  const shapes = quick ? QUICK_SHAPES : FULL_SHAPES;
  const left = () => (deadline - Date.now()) / 1000;

  let info: BackendInfo;
  try {
    info = await initBackend("webgpu");
  } catch (e) {
    throw new InputError(
      `${message(e)}; see docs/backends.md#the-gpu-run for the Vulkan loader and driver`,
    );
  }
  if (info.fallbackAdapter && !quick) {
    ctx.warn(`${info.adapter} is a software adapter: the full shapes may take far longer`);
  }
  const command = ["bash bench/gpu.sh"];
  if (quick) command.push("--quick");
  if (ctx.given.has("budget-min")) command.push(`--budget-min ${minutes}`);
  if (ctx.given.has("out")) command.push(`--out ${out}`);
  const prov: GpuBenchFile["provenance"] = await provenance(command.join(" "));
  const packed = await packedSource();
  if (packed) {
    prov.packed = packed;
    if (prov.commit === "unknown" && typeof packed.commit === "string") {
      prov.commit = packed.commit;
      prov.dirty = Boolean(packed.dirty);
    }
  }
  const file: GpuBenchFile = {
    benchmark: "gpu",
    quick,
    complete: false,
    description: "tfjs webgpu backend on this machine's adapter: gate scan bandwidth, svrnn " +
      "forward, svrnn training step, svrnn-small training throughput, then svrnn-small trained " +
      "on the controlled benchmark for the rest of the budget (bench/gpu.sh, " +
      "docs/backends.md#the-gpu-run)",
    budget: { minutes, startedAt: new Date(startedAt).toISOString(), elapsedSec: 0 },
    backend: describeBackend(info),
    shapes,
    adapter: { skipped: "not reached" },
    gateScan: { skipped: "not reached" },
    forward: { skipped: "not reached" },
    trainStep: { skipped: "not reached" },
    throughput: { skipped: "not reached" },
    training: { skipped: "not reached" },
    phaseSec: {},
    provenance: prov,
  };
  const save = async () => {
    file.budget.elapsedSec = (Date.now() - startedAt) / 1000;
    await writeJsonAtomic(out, file);
  };
  ctx.progress(`bench:gpu: ${file.backend}; ${minutes} min budget; writing ${out}`);

  // Rendered on the CPU while the GPU is measured; awaited before training.
  const data = prepareData(quick, offline, deadline).then(
    (d) => d,
    (e) => ({ error: message(e) }) as { error: string },
  );

  // The measurements stop when only this share of the budget is left, so training gets it.
  const trainingShare = 0.25 * minutes * 60;
  type Key = "adapter" | "gateScan" | "forward" | "trainStep" | "throughput";
  const phase = async <K extends Key>(key: K, label: string, run: () => Promise<unknown>) => {
    if (left() < trainingShare && key !== "adapter" && key !== "throughput") {
      file[key] = { skipped: `${left().toFixed(0)} s of the budget left` } as GpuBenchFile[K];
      await save();
      return;
    }
    ctx.progress(`bench:gpu: ${label}`);
    // What the file says if the run is stopped (bench/gpu.sh's backstop) during this phase.
    file[key] = { error: STOPPED } as GpuBenchFile[K];
    await save();
    const t0 = performance.now();
    try {
      file[key] = await run() as GpuBenchFile[K];
    } catch (e) {
      file[key] = { error: message(e) } as GpuBenchFile[K];
      ctx.warn(`${key}: ${message(e)}`);
    }
    file.phaseSec[key] = (performance.now() - t0) / 1000;
    await save();
  };

  await phase("adapter", "adapter", describeAdapter);
  const peak = isResult(file.adapter) ? file.adapter.peak : null;
  await phase("gateScan", `gate scan [${shapes.gate}]`, async () => ({
    shape: shapes.gate,
    bytesCounted: "per element per direction: forward 12 (x, g read, y written), backward 28 " +
      "(dy, x, g, y read, dx, dg written, one carry); lib/bench/gate_rnn.ts",
    records: await benchGateScan(shapes.gate, shapes.gateReps, peak),
  }));
  const f = shapes.forward;
  await phase("forward", `${f.model} forward ${f.width}x${f.height}`, () => benchForward(f));
  const s = shapes.step;
  await phase(
    "trainStep",
    `${s.model} training step, batch ${s.batch} of ${s.patch}x${s.patch}`,
    () => benchStep(s.model, s.batch, s.patch, s.reps),
  );
  const t = shapes.throughput;
  await phase(
    "throughput",
    `${t.model} throughput, batch ${t.batch} of ${t.patch}x${t.patch}`,
    () => benchStep(t.model, t.batch, t.patch, t.steps),
  );

  const t0 = performance.now();
  const d = await data;
  if ("error" in d) {
    file.training = { error: `data: ${d.error}` };
  } else if (!isResult(file.throughput)) {
    file.training = { skipped: "no throughput measurement to plan the steps from" };
  } else {
    const plan = planTraining(left() - (quick ? EVAL_SEC.quick : EVAL_SEC.full), file.throughput, {
      maxSteps: quick ? 4 : undefined,
    });
    if (plan.steps < 1) {
      file.training = { skipped: `${left().toFixed(0)} s left: no step fits` };
    } else {
      ctx.progress(
        `bench:gpu: training ${t.model} on ${d.name} for ${plan.steps} steps ` +
          `(${left().toFixed(0)} s left)`,
      );
      file.training = { error: STOPPED };
      await save();
      try {
        file.training = await runTraining(plan, d, t, quick, out, offline, deadline);
      } catch (e) {
        file.training = { error: message(e) };
      }
    }
  }
  file.phaseSec.training = (performance.now() - t0) / 1000;
  file.complete = true;
  await save();
  ctx.out(`wrote ${out} (${file.budget.elapsedSec.toFixed(0)} s)`);
  return file;
}

if (import.meta.main) runCommand(BENCH_GPU_SPEC, main);
