/**
 * Chooses and initialises the tfjs backend, and registers the kit's custom kernels.
 *
 * "native" (lib/backends/native: OpenBLAS through Deno's FFI) is used only when asked for by name.
 * "auto" prefers WebGPU only on a real GPU: on GPU-less machines Deno exposes Mesa's
 * llvmpipe software adapter, which runs WGSL correctly but ten times slower than wasm
 * (docs/platform.md#measured-rates), so it is chosen only when asked for by name.
 * tfjs's cpu backend banner ("install tfjs-node") is silenced where deno.json maps
 * `@tensorflow/tfjs`: lib/backends/tfjs.ts.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-webgpu";
import "../ops/gate_rnn.ts";
import "./wasm_train_kernels.ts";
import { InputError } from "../data/errors.ts";
import {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendName,
  isBackendChoice,
} from "./choices.ts";

export {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendName,
  isBackendChoice,
} from "./choices.ts";

export interface BackendInfo {
  /** The backend tfjs now runs on. */
  name: BackendName;
  /** What was asked for ("auto" or a name). */
  requested: BackendChoice;
  /** WebGPU adapter description, or null when WebGPU is not in use or unavailable. */
  adapter: string | null;
  /** True when the WebGPU adapter is a software fallback (llvmpipe). */
  fallbackAdapter: boolean | null;
  /** WebAssembly SIMD in use (wasm backend only). */
  simd: boolean | null;
  /** WebAssembly threads (wasm) or OpenBLAS threads (native) in use. */
  threads: number | null;
  /** The native library in use (native backend only). */
  library: string | null;
  /** OpenBLAS's CPU kernel (native backend only; see NativeInfo.core). */
  core?: string | null;
  /** The native backend's convolution library (convPath in native/backend.ts). */
  convs?: "openblas" | "dnnl" | "table" | null;
}

/** Describes the WebGPU adapter without creating a device; null when there is none. */
export async function probeWebGPU(): Promise<{ description: string; fallback: boolean } | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return null;
  quietMesa();
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const description = info.description || info.device || info.vendor || "unknown adapter";
    const fallback = Boolean(
      info.isFallbackAdapter ??
        (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
    );
    return { description, fallback };
  } catch {
    return null;
  }
}

/**
 * Mesa's Vulkan loader prints "XDG_RUNTIME_DIR is invalid or not set" on every adapter
 * request in a headless session (CI, containers); giving it a private runtime folder
 * silences that without changing which adapter is found.
 */
function quietMesa(): void {
  try {
    const deno = (globalThis as { Deno?: typeof Deno }).Deno;
    if (deno && deno.build.os === "linux" && !deno.env.get("XDG_RUNTIME_DIR")) {
      deno.env.set("XDG_RUNTIME_DIR", deno.makeTempDirSync({ prefix: "svrnn-xdg-" }));
    }
  } catch {
    // No --allow-env or --allow-write: the message is only noise.
  }
}

function envChoice(): BackendChoice | undefined {
  let v: string | undefined;
  try {
    v = (globalThis as { Deno?: typeof Deno }).Deno?.env.get("SVRNN_BACKEND");
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
  if (v === undefined || v === "") return undefined;
  if (!isBackendChoice(v)) {
    throw new InputError(
      `SVRNN_BACKEND must be one of ${BACKEND_CHOICES.join(", ")}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/**
 * Initialises a backend: the argument, else $SVRNN_BACKEND, else "auto". Throws a
 * one-line Error when a named backend cannot start.
 */
export async function initBackend(choice?: BackendChoice): Promise<BackendInfo> {
  const requested = choice ?? envChoice() ?? "auto";
  if (!isBackendChoice(requested)) {
    throw new InputError(
      `backend must be one of ${BACKEND_CHOICES.join(", ")}, got ${JSON.stringify(requested)}`,
    );
  }
  const probe = requested === "auto" || requested === "webgpu" ? await probeWebGPU() : null;
  let name: BackendName;
  if (requested === "auto") name = probe && !probe.fallback ? "webgpu" : "wasm";
  else name = requested;
  if (name === "webgpu" && !probe) {
    throw new InputError(
      "backend webgpu: no WebGPU adapter available (navigator.gpu.requestAdapter)",
    );
  }
  if (name === "native") {
    // Imported only when asked for: Deno FFI, never part of a browser bundle. Throws one
    // line saying how to install OpenBLAS when it is missing.
    const { convPath, initNativeBackend } = await import("./native/backend.ts");
    const n = await initNativeBackend();
    return {
      name,
      requested,
      adapter: null,
      fallbackAdapter: null,
      simd: null,
      threads: n.threads,
      library: n.library,
      core: n.core,
      convs: convPath(),
    };
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name}: tfjs could not initialise it`);
  await tf.ready();
  return {
    name,
    requested,
    adapter: name === "webgpu" ? probe!.description : null,
    fallbackAdapter: name === "webgpu" ? probe!.fallback : null,
    simd: name === "wasm" ? tf.env().getBool("WASM_HAS_SIMD_SUPPORT") as boolean : null,
    threads: name === "wasm"
      ? (tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? navigator.hardwareConcurrency : 1)
      : null,
    library: null,
  };
}

/**
 * Tells the current backend that a training loop starts (true) or has ended (false). Only
 * "native" acts on it: its buffer pool then keeps a step's arrays for the next
 * (lib/backends/native/backend.ts setTrainingPool).
 */
export async function setTrainingMode(on: boolean): Promise<void> {
  if (tf.getBackend() !== "native") return;
  const { setTrainingPool } = await import("./native/backend.ts");
  setTrainingPool(on);
}

/** One line for logs and provenance, e.g. "wasm (SIMD, 1 thread)". */
export function describeBackend(info: BackendInfo): string {
  if (info.name === "webgpu") {
    return `webgpu (${info.adapter}${info.fallbackAdapter ? ", software fallback" : ""})`;
  }
  if (info.name === "native") {
    // Convolutions on oneDNN change the arithmetic, so the line names them.
    const convs = info.convs === "dnnl"
      ? "; convs: oneDNN"
      : info.convs === "table"
      ? "; convs: oneDNN by measured shape"
      : "";
    return `native (OpenBLAS ${info.library}${
      info.core ? ` ${info.core}` : ""
    }, ${info.threads} thread${info.threads === 1 ? "" : "s"}${convs})`;
  }
  if (info.name === "wasm") {
    return `wasm (${info.simd ? "SIMD" : "no SIMD"}, ${info.threads} thread${
      info.threads === 1 ? "" : "s"
    })`;
  }
  return "cpu (pure JS)";
}
