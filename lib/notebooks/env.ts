/**
 * What a notebook (or `deno task reproduce`) needs to know about its run, from the
 * environment that the runner gives the kernel:
 *
 * - `SVRNN_QUICK=1`: quick mode (tests): shrink every experiment to seconds, fixtures only;
 * - `SVRNN_FULL=1`: full mode (`deno task reproduce --full`): retrain instead of loading
 *   shipped models and stored results;
 * - `SVRNN_RESULTS=DIR`: where figures and tables go (default `<repo>/results`; tests and
 *   quick runs point it at a temporary folder so committed results are not overwritten);
 * - `SVRNN_NOTEBOOK=NAME`: the notebook being executed (recorded in provenance).
 *
 * Every function works without --allow-env / outside Deno (then: not quick, defaults).
 * `repoRoot`, `resultsDir` and `notebookName` live in lib/records/paths.ts (re-exported here).
 */

import { envVar as env } from "../records/paths.ts";

export { isQuick, notebookName, repoRoot, resultsDir } from "../records/paths.ts";
import { isQuick } from "../records/paths.ts";

/** True in full mode (SVRNN_FULL set to 1, true or yes): retrain everything. */
export function isFull(): boolean {
  return /^(1|true|yes)$/i.test(env("SVRNN_FULL") ?? "");
}

/** `full` normally, `quickValue` in quick mode: `const steps = quick(400, 40)`. */
export function quick<T>(full: T, quickValue: T): T {
  return isQuick() ? quickValue : full;
}
