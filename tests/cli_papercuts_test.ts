/**
 * Issue 20's CLI papercuts, through the real entry points: numeric options out of range
 * (negative numbers included) give the one-line range error, one --backend option for every
 * task with one message listing the choices, a training run validates at its last step and
 * prints the input's own validation PSNR, `train --help` has a quick example, a missing
 * benchmark or photo set is named with the one full command that prepares it; and no tfjs
 * "install the node backend" banner.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const BANNER = /tfjs-node|install our node backend/;

async function deno(args: string[], cwd = ROOT) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr).trim(),
  };
}

function task(name: string, args: string[], cwd = ROOT) {
  return deno(["run", "-A", `${ROOT}lib/cli/${name}.ts`, ...args], cwd);
}

/** stderr lines without Mesa's headless-session noise. */
function lines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "" && !/XDG_RUNTIME_DIR/.test(l));
}

Deno.test("tfjs: no 'install the node backend' banner from the cpu backend (default, cpu, native base)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-banner-" });
  try {
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      script,
      `import * as tf from "@tensorflow/tfjs";
tf.tensor([1, 2]).dispose(); // the engine's first sync pick: cpu
await tf.setBackend("cpu");
tf.tensor([3]).dispose();
const factory = tf.findBackendFactory("cpu")!;
tf.registerBackend("cpu-again", factory, 0);
await tf.setBackend("cpu-again");
tf.tensor([4]).dispose();
console.log("done", tf.getBackend());
`,
    );
    const r = await deno(["run", "-A", "--config", `${ROOT}deno.json`, script]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /done cpu-again/);
    assert.doesNotMatch(r.stdout + r.stderr, BANNER);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- numeric options: negative numbers reach the range check -----------------------------

const RANGE_CASES: [string, string[], RegExp][] = [
  ["train", ["--steps", "-5"], /--steps must be at least 1, got -5$/],
  ["train", ["--lr", "-1e-4"], /--lr must be at least 0, got -0\.0001$/],
  ["train", ["--seed", "-1"], /--seed must be at least 0, got -1$/],
  ["train", ["--val-every", "-.5"], /--val-every must be an integer, got "-\.5"$/],
  ["ablate", ["--steps", "-5"], /--steps must be at least 1, got -5$/],
  ["eval", ["--limit", "-2"], /--limit must be at least 1, got -2$/],
  [
    "deblur",
    ["data/fixtures/camera.png", "/tmp/x.png", "-q", "--overlap", "-3"],
    /--overlap must be at least 0, got -3$/,
  ],
  [
    "deblur",
    ["data/fixtures/camera.png", "/tmp/x.png", "-q", "--tile", "-64"],
    /--tile must be "auto" or a non-negative/,
  ],
  ["metrics", ["a.png", "b.png", "--crop", "-4"], /--crop must be in 0\.\.100000, got -4$/],
  ["blur", ["a.png", "b.png", "--strength", "-1"], /--strength must be in 0\.\.100, got -1$/],
  ["bench", ["--reps", "-1"], /--reps must be at least 1, got -1$/],
];

for (const [name, args, message] of RANGE_CASES) {
  Deno.test(`${name} ${args.join(" ")}: the one-line range error, exit code 2`, async () => {
    const { code, stderr } = await task(name, args);
    assert.equal(code, 2, stderr);
    const ls = lines(stderr);
    assert.equal(ls.length, 1, `expected one line, got:\n${stderr}`);
    assert.match(ls[0], new RegExp(`^${name}: error: `));
    assert.match(ls[0], message);
    assert.doesNotMatch(stderr, /ambiguous/);
  });
}

Deno.test("parser: every string option of every task takes a negative number as its value", async () => {
  const { parseCommandLine } = await import("../lib/cli/common.ts");
  const specs = [
    (await import("../lib/cli/train.ts")).TRAIN_SPEC,
    (await import("../lib/cli/eval.ts")).EVAL_SPEC,
    (await import("../lib/cli/deblur.ts")).DEBLUR_SPEC,
    (await import("../lib/cli/ablate.ts")).ABLATE_SPEC,
    (await import("../lib/cli/bench.ts")).BENCH_SPEC,
  ];
  let checked = 0;
  for (const spec of specs) {
    for (const [k, o] of Object.entries(spec.options ?? {})) {
      if (o.type !== "string") continue;
      for (const flag of [`--${k}`, ...(o.short ? [`-${o.short}`] : [])]) {
        const ctx = parseCommandLine(spec, [flag, "-5", "pos"]);
        const v = ctx.values[k];
        assert.deepEqual(o.multiple ? v : [v], ["-5"], `${spec.name} ${flag} -5`);
        assert.deepEqual(ctx.positionals, ["pos"]);
        checked++;
      }
    }
  }
  assert.ok(checked > 40, `checked ${checked} options`);
  // A value that is not a number still reads as an option, and "--" still ends them.
  const t = specs[0];
  assert.throws(() => parseCommandLine(t, ["--steps", "-q"]), /--steps/);
  assert.deepEqual(parseCommandLine(t, ["--", "--steps", "-5"]).positionals, ["--steps", "-5"]);
});

// --- one --backend option ------------------------------------------------------------------

const BACKEND_LINE = /--backend must be one of auto, cpu, wasm, webgpu, native, got "gpu"$/;

for (
  const [name, args] of [
    ["train", []],
    ["eval", []],
    ["deblur", ["data/fixtures/camera.png", "/tmp/x.png"]],
    ["ablate", []],
  ] as [string, string[]][]
) {
  Deno.test(`${name} --backend gpu: one line listing the valid backends`, async () => {
    const { code, stderr } = await task(name, [...args, "--backend", "gpu"]);
    assert.equal(code, 2, stderr);
    const ls = lines(stderr);
    assert.equal(ls.length, 1, stderr);
    assert.match(ls[0], new RegExp(`^${name}: error: `));
    assert.match(ls[0], BACKEND_LINE);
  });
}

Deno.test("--backend: one option definition, shared by every task that runs a model", async () => {
  const { BACKEND_OPTION } = await import("../lib/cli/common.ts");
  const specs = [
    (await import("../lib/cli/train.ts")).TRAIN_SPEC,
    (await import("../lib/cli/eval.ts")).EVAL_SPEC,
    (await import("../lib/cli/deblur.ts")).DEBLUR_SPEC,
    (await import("../lib/cli/ablate.ts")).ABLATE_SPEC,
  ];
  for (const spec of specs) {
    const o = spec.options?.backend;
    assert.ok(o, `${spec.name} has --backend`);
    const { default: _d, ...rest } = o;
    const { default: _e, ...shared } = BACKEND_OPTION;
    assert.deepEqual(rest, shared, `${spec.name} --backend is BACKEND_OPTION`);
  }
  // Nothing in lib/cli spells the backend list or checks --backend by hand.
  for await (const e of Deno.readDir(`${ROOT}lib/cli`)) {
    // study.ts is still being written (issue 19's study runner); it is to take BACKEND_OPTION.
    if (!e.name.endsWith(".ts") || e.name === "study.ts") continue;
    const text = await Deno.readTextFile(`${ROOT}lib/cli/${e.name}`);
    assert.doesNotMatch(text, /auto, cpu, wasm, webgpu/, e.name);
    assert.doesNotMatch(text, /isBackendChoice\(/, e.name);
  }
});

// --- train: validation at the last step, beside the input's own PSNR ----------------------

/** A scratch folder holding data/benchmarks/synth-v2-quick (from the committed fixtures). */
async function quickBenchmarkDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-papercuts-" });
  const r = await deno([
    "run",
    "-A",
    `${ROOT}lib/cli/data.ts`,
    "benchmark",
    "--quick",
    "--out",
    `${dir}/data/benchmarks`,
    "--quiet",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

/** `deno task train` run from `cwd` (so data/benchmarks/ is the scratch folder's). */
function trainIn(cwd: string, args: string[]) {
  return deno(
    ["run", "-A", "--config", `${ROOT}deno.json`, `${ROOT}lib/cli/train.ts`, ...args],
    cwd,
  );
}

const TINY = [
  "--model",
  "svrnn-small",
  "--benchmark",
  "synth-v2-quick",
  "--batch",
  "1",
  "--patch",
  "32",
  "--val-images",
  "1",
  "--val-crop",
  "32",
  "--backend",
  "wasm",
  "--quiet",
];

Deno.test("train: a run validates at its last step and prints the input's validation PSNR beside the model's", async () => {
  const dir = await quickBenchmarkDir();
  try {
    // 3 steps, validation every 1000: only the last step can validate.
    const r = await trainIn(dir, [...TINY, "--steps", "3", "--val-every", "1000", "--out", "run"]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim();
    assert.match(
      out,
      /^trained to step 3; validation PSNR \d+\.\d\d dB at step 3, input \d+\.\d\d dB \([+-]\d+\.\d\d dB\); best validation PSNR \d+\.\d\d dB$/,
    );
    assert.doesNotMatch(out, /- dB/);
    const log = (await Deno.readTextFile(`${dir}/run/log.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(log.filter((x) => x.kind === "val").map((x) => x.step), [3]);
    // The printed gain is the model's PSNR minus the input's.
    const [, model, input, gain] = out.match(
      /PSNR ([\d.]+) dB at step 3, input ([\d.]+) dB \(([+-][\d.]+) dB\)/,
    )!;
    assert.ok(Math.abs(Number(model) - Number(input) - Number(gain)) < 0.011);

    // Stopped before any validation (--stop-at): says so, no "best validation PSNR - dB".
    const s = await trainIn(dir, [
      ...TINY,
      "--steps",
      "5",
      "--stop-at",
      "1",
      "--val-every",
      "1000",
      "--out",
      "short",
    ]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(
      s.stdout.trim(),
      /^trained to step 1; not validated this run \(validation every 1000 steps and at step 5\); input validation PSNR \d+\.\d\d dB$/,
    );
    assert.doesNotMatch(s.stdout, /- dB/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train --help: a quick example on the fixtures, a few hundred small steps", async () => {
  const { code, stdout } = await task("train", ["--help"]);
  assert.equal(code, 0);
  const m = stdout.match(/quick example \(about (\d+) minutes?[^\n]*\n([\s\S]*?)\nexamples:/);
  assert.ok(m, stdout);
  assert.ok(Number(m[1]) <= 5, "a few minutes");
  const example = m[2].replace(/\\\n\s*/g, "");
  assert.match(example, /deno task data benchmark --quick && deno task train /);
  assert.match(example, /--benchmark synth-v2-quick/);
  const num = (flag: string) => Number(example.match(new RegExp(`--${flag} (\\d+)`))?.[1]);
  assert.ok(num("steps") * num("batch") <= 2000, "about 1200 patches: minutes on one core");
  assert.ok(num("val-every") <= num("steps"));
});

// --- missing data: the one full command that prepares it -----------------------------------

Deno.test("missing benchmark or photo set: named with the one full command that prepares it", async () => {
  const empty = await Deno.makeTempDir({ prefix: "svrnn-nodata-" });
  try {
    const cases: [string[], string][] = [
      [[], "deno task data && deno task data benchmark"],
      [["--benchmark", "synth-v1"], "deno task data && deno task data benchmark --name synth-v1"],
      [["--benchmark", "synth-v2-quick"], "deno task data benchmark --name synth-v2-quick"],
    ];
    for (const [args, command] of cases) {
      const r = await trainIn(empty, args);
      assert.equal(r.code, 2, r.stderr);
      const ls = lines(r.stderr);
      assert.equal(ls.length, 1, r.stderr);
      assert.ok(ls[0].endsWith(`prepare it with \`${command}\``), ls[0]);
    }
    // data benchmark without the photo set: the photo set and the benchmark in one line.
    const b = await task("data", [
      "benchmark",
      "--photos",
      `${empty}/photos`,
      "--out",
      `${empty}/benchmarks`,
    ]);
    assert.equal(b.code, 2, b.stderr);
    assert.match(lines(b.stderr)[0], /run `deno task data && deno task data benchmark`/);
    const v = await task("data", ["verify", "--dest", `${empty}/photos`]);
    assert.equal(v.code, 2, v.stderr);
    assert.match(lines(v.stderr)[0], new RegExp(`run \`deno task data --dest ${empty}/photos\``));
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
