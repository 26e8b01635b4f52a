/**
 * One call at the top of a notebook: initialise the tfjs backend (cpu by default: the
 * notebooks' 1-D and small 2-D experiments are fastest there) and silence tfjs's
 * "running in Node.js" banner, which would otherwise land in the notebook's output.
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendChoice, describeBackend, initBackend } from "../backends/select.ts";
import { isQuick } from "./env.ts";

export interface NotebookContext {
  backend: string;
  quick: boolean;
}

/** Initialises `choice` (default "cpu", or $SVRNN_BACKEND when set) and describes the run. */
export async function notebookSetup(choice?: BackendChoice): Promise<NotebookContext> {
  tf.env().set("PROD", true); // no console banners from tfjs (they only print when !PROD)
  let requested = choice;
  try {
    requested ??= (Deno.env.get("SVRNN_BACKEND") as BackendChoice | undefined) || undefined;
  } catch { /* no env access */ }
  const info = await initBackend(requested ?? "cpu");
  return { backend: describeBackend(info), quick: isQuick() };
}
