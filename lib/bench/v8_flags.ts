/**
 * The kit's V8 flags (lib/backends/v8_flags.ts) against V8's defaults, on the training steps
 * the kit runs for long: a flag is fixed for the life of a process, so the two sides cannot
 * share one; each pair is two processes, one after the other (default flags, then the kit's),
 * and the ratio is taken pair by pair so that a drift in the machine's speed moves both.
 *
 * Each process runs `steps` training steps of one case on the native backend (the bench
 * step of lib/bench/native.ts) and reports every step's time. The figure per process is the
 * median over the steps from `settle` on: the steady state a long training run lives in,
 * after the JIT has settled (with Maglev, some element-wise loops fall back to it after ten
 * or so steps and stay there).
 */
import { KIT_V8_FLAGS } from "../backends/v8_flags.ts";
import { median } from "../eval/stats.ts";

export interface V8FlagsCase {
  model: string;
  batch: number;
  patch: number;
  threads: number;
  steps: number;
  settle: number;
  why: string;
}

export const V8_FLAGS_CASES: readonly V8FlagsCase[] = [
  {
    model: "svrnn-small",
    batch: 8,
    patch: 64,
    threads: 1,
    steps: 60,
    settle: 20,
    why: "the controlled studies' step, one study process per core",
  },
  {
    model: "svrnn",
    batch: 4,
    patch: 64,
    threads: 2,
    steps: 40,
    settle: 15,
    why: "the side-by-side bench's small svrnn step",
  },
];

export interface V8FlagsPair {
  /** Steady-state median step, ms, under V8's default flags and under the kit's. */
  defaultMs: number;
  kitMs: number;
  ratio: number;
}

export interface V8FlagsRow {
  case: V8FlagsCase;
  pairs: V8FlagsPair[];
  /** Medians over the pairs. */
  defaultMs: number;
  kitMs: number;
  /** Kit flags' step time over the default flags' (below 1: the kit's flags are faster). */
  ratio: number;
  /** Every step of the last pair, for a look at when the default flags slow down. */
  lastPairSteps: { default: number[]; kit: number[] };
}

export interface V8FlagsBenchResult {
  benchmark: "v8_flags";
  description: string;
  kitFlags: string;
  rows: V8FlagsRow[];
}

const CHILD = new URL(import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

async function runChild(c: V8FlagsCase, flags: string): Promise<number[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CHILD, "--child", JSON.stringify(c)],
    // V8's defaults: no DENO_V8_FLAGS at all (an empty one is an error).
    clearEnv: true,
    env: {
      ...Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) => k !== "DENO_V8_FLAGS"),
      ),
      ...(flags ? { DENO_V8_FLAGS: flags } : {}),
      OPENBLAS_NUM_THREADS: String(c.threads),
    },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`v8_flags bench: child failed (${c.model}, "${flags}")`);
  return JSON.parse(text.split("\n").pop()!) as number[];
}

export async function benchV8Flags(
  options: { pairs?: number; progress?: (m: string) => void } = {},
): Promise<V8FlagsBenchResult> {
  const say = options.progress ?? (() => {});
  const nPairs = options.pairs ?? 3;
  const rows: V8FlagsRow[] = [];
  for (const c of V8_FLAGS_CASES) {
    const pairs: V8FlagsPair[] = [];
    let last = { default: [] as number[], kit: [] as number[] };
    for (let p = 0; p < nPairs; p++) {
      const d = await runChild(c, "");
      const k = await runChild(c, KIT_V8_FLAGS);
      const [defaultMs, kitMs] = [median(d.slice(c.settle)), median(k.slice(c.settle))];
      pairs.push({ defaultMs, kitMs, ratio: kitMs / defaultMs });
      last = { default: d, kit: k };
      say(
        `v8_flags: ${c.model} b${c.batch} ${c.patch}x${c.patch} t${c.threads} pair ${p + 1}: ` +
          `default ${defaultMs.toFixed(0)} ms, ${KIT_V8_FLAGS} ${kitMs.toFixed(0)} ms`,
      );
    }
    rows.push({
      case: c,
      pairs,
      defaultMs: median(pairs.map((p) => p.defaultMs)),
      kitMs: median(pairs.map((p) => p.kitMs)),
      ratio: median(pairs.map((p) => p.ratio)),
      lastPairSteps: last,
    });
  }
  return {
    benchmark: "v8_flags",
    description: `training steps on the native backend under V8's default flags and under the ` +
      `kit's (${KIT_V8_FLAGS}), one process each, in pairs; per process the median step from ` +
      `the case's settle step on, ms`,
    kitFlags: KIT_V8_FLAGS,
    rows,
  };
}

export function formatV8FlagsBench(r: V8FlagsBenchResult): string {
  return r.rows.map((row) =>
    `${row.case.model} batch ${row.case.batch} of ${row.case.patch}x${row.case.patch}, ` +
    `${row.case.threads} thread(s): default ${row.defaultMs.toFixed(0)} ms, ${r.kitFlags} ` +
    `${row.kitMs.toFixed(0)} ms (x${row.ratio.toFixed(2)} over ${row.pairs.length} pairs)`
  ).join("\n");
}

if (import.meta.main && Deno.args[0] === "--child") {
  const c = JSON.parse(Deno.args[1]) as V8FlagsCase;
  const { benchStep } = await import("./native.ts");
  const rec = await benchStep("native", c.model, c.batch, c.patch, c.steps);
  console.log(JSON.stringify(rec.timing.runsMs));
}
