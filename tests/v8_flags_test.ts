/**
 * The kit's V8 flags (lib/backends/v8_flags.ts) reach every way its code is started: each
 * deno.json task that runs Deno, the GPU script and the Jupyter kernelspec.
 */
import assert from "node:assert/strict";
import { KIT_V8_FLAGS, v8FlagsInEffect } from "../lib/backends/v8_flags.ts";
import { writeKernelSpec } from "../lib/notebooks/jupyter.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("v8 flags: every deno.json task that runs Deno sets DENO_V8_FLAGS to the kit's flags", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks as Record<
    string,
    string
  >;
  const running = Object.entries(tasks).filter(([, cmd]) => /\bdeno run\b/.test(cmd));
  assert(running.length >= 10, `only ${running.length} tasks run Deno`);
  for (const [name, cmd] of running) {
    assert(
      cmd.startsWith(`DENO_V8_FLAGS=${KIT_V8_FLAGS} deno run `),
      `task "${name}" does not start with DENO_V8_FLAGS=${KIT_V8_FLAGS}: ${cmd}`,
    );
  }
});

Deno.test("v8 flags: bench/gpu.sh exports the same flags", () => {
  const script = Deno.readTextFileSync(new URL("bench/gpu.sh", ROOT));
  assert(script.includes(`export DENO_V8_FLAGS=${KIT_V8_FLAGS}\n`), "gpu.sh lacks the export");
});

Deno.test("v8 flags: the Jupyter kernelspec starts the kernel with them", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await writeKernelSpec(root);
    const names = [...Deno.readDirSync(`${dir}/kernels`)].map((e) => e.name);
    assert.equal(names.length, 1);
    const spec = JSON.parse(Deno.readTextFileSync(`${dir}/kernels/${names[0]}/kernel.json`));
    assert.equal(spec.env.DENO_V8_FLAGS, KIT_V8_FLAGS);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("v8 flags: a process reports the flags it was started with", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { v8FlagsInEffect } from "${
        new URL("lib/backends/v8_flags.ts", ROOT).href
      }"; console.log(v8FlagsInEffect());`,
    ],
    env: { DENO_V8_FLAGS: KIT_V8_FLAGS },
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), KIT_V8_FLAGS);
  assert.equal(typeof v8FlagsInEffect(), "string");
});
