/**
 * Provenance stamped on every file the kit writes under results/: which commit, which
 * machine, which runtime, when. Deno-only (reads git, /proc and the environment).
 */
import * as tf from "@tensorflow/tfjs";
import { v8FlagsInEffect } from "../backends/v8_flags.ts";

export interface Provenance {
  commit: string;
  /** True when tracked code (outside results/ and notebooks/) had uncommitted changes. */
  dirty: boolean;
  date: string;
  deno: string;
  tfjs: string;
  /** DENO_V8_FLAGS the process ran under ("" for V8's defaults): they change timings. */
  v8Flags: string;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string };
  command: string;
}

async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** `command` is what a reader types to regenerate the file, e.g. "deno task bench". */
export async function provenance(command: string): Promise<Provenance> {
  // Generated outputs (results/, notebooks/) do not make the code dirty: a reproduce run
  // rewrites them as it goes.
  const status = await git([
    "status",
    "--porcelain",
    "--untracked-files=no",
    "--",
    ":(top)",
    ":(top,exclude)results",
    ":(top,exclude)notebooks",
  ]);
  return {
    commit: (await git(["rev-parse", "HEAD"])) ?? "unknown",
    dirty: status === null ? true : status.length > 0,
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    tfjs: tf.version.tfjs,
    v8Flags: v8FlagsInEffect(),
    machine: {
      cpu: cpuModel(),
      cores: navigator.hardwareConcurrency,
      memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
      os: `${Deno.build.os} ${Deno.osRelease()}`,
    },
    command,
  };
}

/** Writes JSON through a temporary file and a rename, so a killed run leaves no half file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}
