/**
 * Moved to lib/records/provenance.ts (below cli, notebooks and viz). This re-export keeps
 * older importers compiling; import from lib/records/provenance.ts instead.
 */
export * from "../records/provenance.ts";
