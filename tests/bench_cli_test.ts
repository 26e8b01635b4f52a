/**
 * `deno task bench` runs end to end at a tiny shape and writes well-formed records with
 * provenance. Times are not asserted (tests never assert wall-clock speed).
 */
import assert from "node:assert/strict";

const BENCH = new URL("../lib/cli/bench.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BENCH, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("bench: writes gate_rnn.json with every implementation, pass and provenance", async () => {
  const dir = await Deno.makeTempDir();
  const { code, stdout } = await run([
    "--only",
    "gate_rnn",
    "--backends",
    "cpu,wasm",
    "--shape",
    "1,6,10,4",
    "--reps",
    "1",
    "--out",
    dir,
    "--json",
  ]);
  assert.equal(code, 0);
  const file = JSON.parse(await Deno.readTextFile(`${dir}/gate_rnn.json`));
  assert.deepEqual(JSON.parse(stdout).gate_rnn, file);
  assert.match(file.provenance.commit, /^[0-9a-f]{40}$|^unknown$/);
  const keys = file.records.map((r: { implementation: string; backend: string; pass: string }) =>
    `${r.implementation}/${r.backend}/${r.pass}`
  );
  for (const pass of ["forward", "backward"]) {
    assert.ok(keys.includes(`typescript-loop/js/${pass}`));
    for (const b of ["cpu", "wasm"]) {
      assert.ok(keys.includes(`kernel/${b}/${pass}`), `kernel/${b}/${pass} in ${keys}`);
      assert.ok(keys.includes(`tfjs-ops-loop/${b}/${pass}`));
    }
  }
  for (const r of file.records) {
    assert.deepEqual(r.shape, [1, 6, 10, 4]);
    assert.ok(Number.isFinite(r.ms) && r.ms >= 0);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bench: conv_grad writes forward, input- and filter-gradient times per layer", async () => {
  const dir = await Deno.makeTempDir();
  const { code } = await run([
    "--only",
    "conv_grad",
    "--layers",
    "convd1_2",
    "--reps",
    "1",
    "--out",
    dir,
  ]);
  assert.equal(code, 0);
  const file = JSON.parse(await Deno.readTextFile(`${dir}/conv_grad.json`));
  assert.equal(file.records.length, 1);
  const r = file.records[0];
  assert.equal(r.layer, "convd1_2");
  for (const k of ["forwardMs", "inputGradMs", "filterGradMs"]) assert.ok(r[k] > 0, k);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bench: a bad --shape is one clear line and exit code 2", async () => {
  const { code, stderr } = await run(["--shape", "1,2,3"]);
  assert.equal(code, 2);
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, /^bench: error: --shape must be four positive integers/);
});
