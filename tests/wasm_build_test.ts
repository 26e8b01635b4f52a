/** The committed WebAssembly bytes are exactly what the AssemblyScript source compiles to. */
import assert from "node:assert/strict";
import { buildModuleText } from "#lib/ops/wasm/build.ts";

Deno.test("gate_scan_wasm.ts matches a fresh build of gate_scan.as.ts (run `deno task build:wasm`)", async () => {
  const committed = await Deno.readTextFile(
    new URL("../lib/ops/wasm/gate_scan_wasm.ts", import.meta.url),
  );
  assert.equal(await buildModuleText(), committed);
});
