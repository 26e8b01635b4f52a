/** `deno task deblur --help` names every shipped model, what it is for, and which are missing. */
import assert from "node:assert/strict";
import { SHIPPED_MODELS } from "../lib/records/paths.ts";

Deno.test("deblur --help lists every shipped model with its purpose, marking unreleased files", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/deblur.ts", "--help"],
    stdout: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const help = new TextDecoder().decode(r.stdout);
  assert.equal(r.code, 0);
  assert.ok(SHIPPED_MODELS.length >= 2);
  for (const m of SHIPPED_MODELS) {
    const present = await Deno.stat(m.file).then((s) => s.isFile, () => false);
    const line = help.split("\n").find((l) => l.trim().startsWith(m.file));
    assert.ok(line, `${m.file} missing from --help`);
    assert.equal(line!.includes("(not released yet)"), !present, line);
    assert.ok(help.includes(m.purpose), m.purpose);
  }
});
