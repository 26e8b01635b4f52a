/**
 * One worker of `runInParallel` (lib/study/parallel.ts): runs one shard of a study file.
 * Arguments, all positional: FILE SHARD(I/N) BACKEND RESULTS RUNS quiet|progress. Errors
 * are one line on stderr and exit code 2 (input) or 1.
 */
import { backendFor, runShard } from "./parallel.ts";
import { readStudy } from "./run.ts";
import { parseShard } from "./study.ts";
import { provenance } from "../records/provenance.ts";
import { isInputError } from "../data/errors.ts";
import type { BackendChoice } from "../backends/choices.ts";

if (import.meta.main) {
  const [file, shardText, backend, resultsRoot, runsRoot, mode] = Deno.args;
  try {
    const { study } = await readStudy(file);
    const shard = parseShard(shardText);
    const text = await backendFor(backend as BackendChoice);
    const say = mode === "quiet" ? undefined : (m: string) => console.error(m);
    const mine = study.name;
    say?.(`study ${mine}: shard ${shardText} on ${text}`);
    await runShard(study, shard, {
      resultsRoot,
      runsRoot,
      provenance: await provenance(`deno task study ${mine} --jobs ${shard.count}`),
      backend: text,
      progress: say,
    });
  } catch (e) {
    console.error(`study worker ${shardText}: error: ${(e as Error).message}`);
    Deno.exit(isInputError(e) ? 2 : 1);
  }
}
