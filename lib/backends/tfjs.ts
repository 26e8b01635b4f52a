/**
 * The kit's tfjs: deno.json maps `@tensorflow/tfjs` here, so every importer (lib, tests,
 * notebooks, tasks) gets the pinned `npm:@tensorflow/tfjs@4.22.0` with one change: its cpu
 * backend does not print the "install our node backend (tfjs-node)" banner, advice that does
 * not apply under Deno.
 *
 * The banner's condition (tfjs-backend-cpu 4.22, `MathBackendCPU.write`): on an instance's
 * first tensor (`this.firstUse`, set true by its constructor) when the env flag IS_NODE is
 * true, which it is under Deno (`process.versions.node` is defined). Neither flag that could
 * hide it is right here: IS_NODE false would also change the wasm backend's multithread
 * detection (tfjs-backend-wasm flags_wasm), and PROD or IS_TEST would silence every tfjs
 * warning. So `firstUse` reads false on every MathBackendCPU: the registered "cpu", the
 * "native" backend (a MathBackendCPU under another name) and any made later.
 */
import * as tf from "#tfjs-npm";

export * from "#tfjs-npm";

function quietCpuBanner(): void {
  try {
    const probe = tf.findBackendFactory("cpu")?.() as object | undefined;
    if (!probe) return;
    // The constructor's `this.firstUse = true` is an assignment (tfjs is compiled without
    // define semantics for class fields), so it meets this accessor and stores nothing.
    Object.defineProperty(Object.getPrototypeOf(probe), "firstUse", {
      configurable: true,
      get: () => false,
      set: () => {},
    });
    const live = tf.findBackend("cpu") as { firstUse?: boolean } | null;
    if (live && Object.hasOwn(live, "firstUse")) live.firstUse = false;
  } catch {
    // A tfjs without this shape: the banner may show, nothing else changes.
  }
}

quietCpuBanner();
