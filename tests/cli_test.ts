/**
 * The CLI contract for train, eval, deblur, ablate and bench: bad arguments and bad files
 * give one line on stderr naming the value or file at fault, exit code 2, no stack trace;
 * --help prints usage and exits 0. (metrics, blur, data: tests/cli_data_test.ts.)
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function task(name: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}lib/cli/${name}.ts`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr).trim(),
  };
}

const CASES: [string, string[], RegExp][] = [
  ["train", ["--model", "nope"], /unknown model "nope"/],
  ["train", ["--steps", "-3"], /--steps must be at least 1, got -3/],
  ["train", ["--steps=0"], /--steps must be at least 1, got 0/],
  ["train", ["--loss", "l3"], /--loss must be one of l2, l1, psnr, got "l3"/],
  ["ablate", ["--loss", "huber"], /--loss must be one of l2, l1, psnr, got "huber"/],
  ["train", ["--gopro", "/nonexistent/GOPRO"], /--gopro-variant/],
  ["train", ["--gopro", "/nonexistent/GOPRO", "--gopro-variant", "blur"], /\/nonexistent\/GOPRO/],
  ["train", ["--benchmark", "no-such-benchmark"], /no-such-benchmark.*deno task data benchmark/],
  [
    "train",
    ["--controlled", "no-such-controlled"],
    /data\/controlled\/no-such-controlled .*deno task data controlled --name no-such-controlled/,
  ],
  ["train", ["--controlled", "mix", "--pairs", "/p"], /not --controlled and --pairs/],
  ["train", ["--bogus"], /bogus/],
  ["train", ["--set", "numBlocks"], /--set expects KEY=VALUE, got "numBlocks"/],
  ["train", ["--set", "blocks=2"], /--set: svrnn: unknown config field blocks/],
  ["train", ["--set", "gate=sometimes"], /gate must be one of/],
  ["eval", ["--checkpoint", "/nonexistent.safetensors"], /\/nonexistent\.safetensors/],
  ["eval", ["--backend", "tpu"], /--backend must be/],
  ["eval", ["--split", "val"], /--split must be one of train, test/],
  ["eval", ["--pairs", "data/fixtures", "--split", "train"], /a --pairs folder has no splits/],
  ["eval", ["--controlled", "no-such-controlled"], /data\/controlled\/no-such-controlled /],
  ["eval", ["--controlled", "../mix"], /--controlled takes a benchmark name/],
  ["deblur", ["/nonexistent.png", "/tmp/out.png"], /input not found: \/nonexistent\.png/],
  ["deblur", ["README.md", "/tmp/out.txt"], /output must end in \.png/],
  ["deblur", ["only-one-arg"], /expected 2 argument/],
  ["ablate", ["--variants", "svrnn-small,nope"], /unknown model "nope"/],
  ["bench", ["--only", "everything"], /unknown benchmark "everything"/],
];

for (const [name, args, message] of CASES) {
  Deno.test(`${name} ${args.join(" ")}: one clear line, exit code 2`, async () => {
    const { code, stderr } = await task(name, args);
    assert.equal(code, 2, stderr);
    const lines = stderr.split("\n").filter((l) => !/XDG_RUNTIME_DIR/.test(l));
    assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
    assert.match(lines[0], new RegExp(`^${name}: error: `));
    assert.match(lines[0], message);
    assert.doesNotMatch(stderr, /^\s+at /m);
  });
}

Deno.test("deblur: a corrupt image file is named in one line, exit code 2", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/bad.png`, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  const { code, stderr } = await task("deblur", [
    `${dir}/bad.png`,
    `${dir}/out.png`,
    "--model",
    "cnn-small",
  ]);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /bad\.png/);
  assert.equal(stderr.split("\n").filter((l) => !/XDG_RUNTIME_DIR|random/.test(l)).length, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train, eval, deblur, ablate, bench: --help prints usage and exits 0", async () => {
  for (const name of ["train", "eval", "deblur", "ablate", "bench"]) {
    const { code, stdout } = await task(name, ["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^usage: deno task ${name}`));
  }
});

Deno.test("train: the progress bar's ETA reads as a duration, '-' while unknown", async () => {
  const { BAR_FORMAT, duration } = await import("../lib/cli/train.ts");
  // cli-progress fills these tokens itself, over any payload of the same name.
  const own = ["eta", "eta_formatted", "duration", "duration_formatted", "percentage"];
  const tokens = [...BAR_FORMAT.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  assert.ok(tokens.includes("remaining"));
  assert.deepEqual(tokens.filter((t) => own.includes(t)), []);
  assert.equal(duration(12.4), "12s");
  assert.equal(duration(250), "4m10s");
  assert.equal(duration(3900), "1h05m");
  assert.equal(duration(Infinity), "-");
  assert.equal(duration(NaN), "-");
});
