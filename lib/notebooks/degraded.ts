/**
 * A notebook that cannot show what it was written to show (a checkpoint, a benchmark, a
 * results file is missing) says so here, so that `deno task reproduce` does not store a
 * thinner notebook and call it "ok":
 *
 *   if (!onDisk.ok) {
 *     degraded("benchmark synth-v2 (data/benchmarks/synth-v2)", "synth-v2-quick images");
 *     ...
 *   }
 *
 * `what` names what was missing, `instead` what the notebook did without it (the
 * substitute, or "left out"). Each call appends one JSON line to the file named by
 * `$SVRNN_DEGRADED` (the runner, lib/notebooks/jupyter.ts, sets it per notebook and reads
 * it back with `readDegradations`); without it (a script, a test) the record is kept in
 * memory only (`degradations()`). The notebook still shows its own note to the reader: this
 * is the signal for the runner. A non-quick `deno task reproduce` fails on a degraded
 * notebook; quick mode (a smoke test) may substitute freely.
 *
 * Works without --allow-env / outside a kernel (then: memory only).
 */
import { envVar, notebookName } from "../records/paths.ts";

export interface Degradation {
  /** The notebook that recorded it ($SVRNN_NOTEBOOK), or null outside the runner. */
  notebook: string | null;
  /** What was missing, e.g. "shipped checkpoint svrnn-small (results/checkpoints/...)". */
  what: string;
  /** What the notebook did instead: the substitute, or "left out". */
  instead: string;
}

/** The environment variable naming the file degradations are appended to. */
export const DEGRADED_ENV = "SVRNN_DEGRADED";

const recorded: Degradation[] = [];

/** Records that the notebook used `instead` because `what` was missing. */
export function degraded(what: string, instead: string): Degradation {
  const d: Degradation = { notebook: notebookName() ?? null, what, instead };
  if (recorded.some((r) => r.what === what && r.instead === instead)) return d;
  recorded.push(d);
  const file = envVar(DEGRADED_ENV);
  if (file) {
    // Synchronous, so the record is on disk before the cell's next statement runs.
    Deno.writeTextFileSync(file, JSON.stringify(d) + "\n", { append: true });
  }
  return d;
}

/** Every degradation recorded in this process (in order, duplicates dropped). */
export function degradations(): readonly Degradation[] {
  return recorded;
}

/**
 * Parses the runner's degradation file (one JSON object per line); lines that are not a
 * degradation are reported as one ("unreadable degradation record ...") rather than
 * dropped, so a garbled file cannot turn a degraded run into an "ok" one.
 */
export function parseDegradations(text: string): Degradation[] {
  const out: Degradation[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let d: Partial<Degradation> | null = null;
    try {
      d = JSON.parse(line);
    } catch { /* below */ }
    if (d && typeof d.what === "string" && typeof d.instead === "string") {
      const rec: Degradation = {
        notebook: typeof d.notebook === "string" ? d.notebook : null,
        what: d.what,
        instead: d.instead,
      };
      if (!out.some((o) => o.what === rec.what && o.instead === rec.instead)) out.push(rec);
    } else {
      out.push({
        notebook: null,
        what: `unreadable degradation record ${JSON.stringify(line.slice(0, 80))}`,
        instead: "unknown",
      });
    }
  }
  return out;
}

/** The degradations in `path` (empty when the file does not exist). */
export async function readDegradations(path: string): Promise<Degradation[]> {
  try {
    return parseDegradations(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** One line for a reader: "what: instead; what: instead". */
export function describeDegradations(list: readonly Degradation[]): string {
  return list.map((d) => `${d.what} -> ${d.instead}`).join("; ");
}
