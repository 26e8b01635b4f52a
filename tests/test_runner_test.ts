/**
 * `deno task test` (lib/cli/test.ts): says what it will skip before the tests start, passes
 * deno test's exit code through, and --quick names every file it leaves out.
 */
import assert from "node:assert/strict";
import { PIECES, QUICK_SKIPS } from "../lib/cli/test.ts";

async function runner(args: string[]): Promise<{ code: number; text: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/test.ts", "--no-install", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    text: dec.decode(r.stdout) + dec.decode(r.stderr),
  };
}

Deno.test("test runner: it prints the skip list and passes deno test's result and exit code through", async () => {
  const ok = await runner(["--quick", "--", "tests/trend_test.ts"]);
  assert.equal(ok.code, 0, ok.text);
  assert.ok(ok.text.includes("test: will skip:"), ok.text);
  assert.match(ok.text, /ok \| 3 passed \| 0 failed/);
  for (const file of Object.keys(QUICK_SKIPS)) assert.ok(ok.text.includes(file), file);

  const dir = await Deno.makeTempDir();
  try {
    const failing = `${dir}/failing_test.ts`;
    await Deno.writeTextFile(failing, 'Deno.test("fails", () => { throw new Error("x"); });\n');
    const bad = await runner(["--", failing]);
    assert.notEqual(bad.code, 0, bad.text);
    assert.match(bad.text, /FAILED \| 0 passed \| 1 failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("test runner: every quick skip is a test file, every optional piece names packages", async () => {
  for (const file of Object.keys(QUICK_SKIPS)) {
    assert.ok((await Deno.stat(file)).isFile, file);
  }
  for (const p of PIECES) {
    assert.ok(p.packages.length > 0, p.name);
    assert.equal(typeof (await p.present()), "boolean");
  }
});
