/**
 * A study: a committed JSON file (studies/NAME.json) that names the benchmark factors, the
 * variants, the training budget, the seeds and, written before any run, the prediction of
 * every claim it tests. This module reads and checks study files, lists their runs
 * (cell x variant x seed), splits them into shards, and turns finished runs into claims
 * with verdicts. Pure: no file system, no tfjs.
 *
 * The verdict rule: a claim "A minus B" is resolved only when, under every seed, the
 * paired bootstrap interval of the per-image PSNR difference (95%, images resampled)
 * excludes 0 on the same side. Anything else is "not resolved".
 */
import { type PairedDifference, pairedDifference } from "../analysis/paired.ts";
import { checkSpec, type ControlledSpec, DEFAULT_CONTROLLED } from "../data/controlled.ts";
import { InputError } from "../data/errors.ts";
import type { ClaimResult, GainRow, RunResult, StudyBudget, Verdict } from "../records/formats.ts";

/** One trained configuration: a registered model with config overrides. */
export interface StudyVariant {
  /** Label in tables and run keys. */
  name: string;
  /** Registered model name (lib/models/registry.ts). */
  model: string;
  /** Config fields replacing the model's (e.g. { "gate": "invariant" }). */
  overrides?: Record<string, unknown>;
}

/** One benchmark setting: fields replacing the study's base benchmark. */
export interface StudyCell {
  name: string;
  benchmark: Partial<Omit<ControlledSpec, "name">>;
}

export interface StudyClaim {
  claim: string;
  /** Written before the run, from the IIR argument. */
  prediction: string;
  /** The cell both variants are compared on. */
  cell: string;
  /** Variant names: the comparison is a minus b. */
  a: string;
  b: string;
}

export interface Study {
  name: string;
  title: string;
  /** Why the study exists, in a sentence or two. */
  question: string;
  /** The base benchmark; each cell replaces some fields. */
  benchmark: Partial<Omit<ControlledSpec, "name">>;
  cells: StudyCell[];
  variants: StudyVariant[];
  budget: StudyBudget;
  seeds: number[];
  claims: StudyClaim[];
}

/** One run of a study. */
export interface RunSpec {
  key: string;
  cell: string;
  variant: StudyVariant;
  seed: number;
  benchmark: ControlledSpec;
}

/** Checks a parsed study file; every error names the file and the field. */
export function checkStudy(s: Study, file: string): Study {
  const bad = (why: string): never => {
    throw new InputError(`${file}: ${why}`);
  };
  for (const k of ["name", "title", "question"] as const) {
    if (typeof s[k] !== "string" || !s[k]) bad(`"${k}" must be a non-empty string`);
  }
  if (!/^[a-z0-9-]+$/.test(s.name)) bad(`"name" must be lowercase letters, digits and -`);
  for (const k of ["cells", "variants", "seeds", "claims"] as const) {
    if (!Array.isArray(s[k]) || s[k].length === 0) bad(`"${k}" must be a non-empty list`);
  }
  if (s.seeds.length < 2) bad(`"seeds" needs at least 2 seeds (verdicts must hold under each)`);
  const names = (list: { name: string }[], what: string) => {
    const seen = new Set<string>();
    for (const x of list) {
      if (!x.name || !/^[A-Za-z0-9._-]+$/.test(x.name)) {
        bad(`${what} name ${JSON.stringify(x.name)}`);
      }
      if (seen.has(x.name)) bad(`${what} ${x.name} appears twice`);
      seen.add(x.name);
    }
    return seen;
  };
  const cells = names(s.cells, "cell"), variants = names(s.variants, "variant");
  for (const k of ["steps", "batchSize", "patchSize"] as const) {
    if (!(Number.isInteger(s.budget?.[k]) && s.budget[k] > 0)) {
      bad(`budget.${k} must be a positive integer`);
    }
  }
  if (!(s.budget.learningRate > 0)) bad(`budget.learningRate must be positive`);
  if (!(s.budget.lrPower >= 0)) bad(`budget.lrPower must be 0 or more`);
  for (const c of s.claims) {
    if (!c.claim || !c.prediction) bad(`every claim needs "claim" and "prediction"`);
    if (!cells.has(c.cell)) bad(`claim "${c.claim}": unknown cell ${c.cell}`);
    for (const v of [c.a, c.b]) {
      if (!variants.has(v)) bad(`claim "${c.claim}": unknown variant ${v}`);
    }
  }
  for (const c of s.cells) checkSpec(cellBenchmark(s, c));
  return s;
}

/** The full benchmark spec of a cell; its name encodes the study and the cell. */
export function cellBenchmark(s: Study, c: StudyCell): ControlledSpec {
  return { ...DEFAULT_CONTROLLED, ...s.benchmark, ...c.benchmark, name: `${s.name}.${c.name}` };
}

/** Every run, in a fixed order: cells, then variants, then seeds. */
export function studyRuns(s: Study): RunSpec[] {
  const out: RunSpec[] = [];
  for (const c of s.cells) {
    const benchmark = cellBenchmark(s, c);
    for (const v of s.variants) {
      for (const seed of s.seeds) {
        out.push({
          key: `${c.name}--${v.name}--s${seed}`,
          cell: c.name,
          variant: v,
          seed,
          benchmark,
        });
      }
    }
  }
  return out;
}

/** Parses "I/N" (1-based). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && index >= 1 && index <= count)) {
    throw new InputError(`--shard must be I/N with 1 <= I <= N, got "${text}"`);
  }
  return { index, count };
}

/** The runs of shard I of N: every N-th run, starting at run I - 1. */
export function shardRuns<T>(runs: T[], shard: { index: number; count: number }): T[] {
  return runs.filter((_, i) => i % shard.count === shard.index - 1);
}

/** What a reader changes in a committed study to ask their own question (notebook 04). */
export interface StudyEdit {
  /** Name of the edited study: its runs are cached under it, so choose a new one per question. */
  name: string;
  /** The one cell kept (default: the study's first). */
  cell?: string;
  /** Benchmark fields replacing the cell's (e.g. `{ length: 25 }`, `{ angle: "any" }`). */
  benchmark?: StudyCell["benchmark"];
  /** The two variants compared, A then B (default: the study's first two). */
  variants?: [StudyVariant, StudyVariant];
  /** Budget fields replacing the study's (e.g. `{ steps: 200 }`). */
  budget?: Partial<StudyBudget>;
  seeds?: number[];
  /** Written before the run: "resolved: NAME better: why" or "not resolved: why". */
  prediction?: string;
}

/**
 * A one-cell, two-variant study derived from `base`: the claim is A minus B on that cell,
 * with the reader's prediction, else the base study's for the same pair, else none.
 */
export function editStudy(base: Study, e: StudyEdit): Study {
  const cell = base.cells.find((c) => c.name === (e.cell ?? base.cells[0].name));
  if (!cell) {
    throw new InputError(
      `study ${base.name} has no cell "${e.cell}" (cells: ${
        base.cells.map((c) => c.name).join(", ")
      })`,
    );
  }
  const [a, b] = e.variants ?? [base.variants[0], base.variants[1]];
  const same = base.claims.find((c) => c.cell === cell.name && c.a === a.name && c.b === b.name);
  const unchanged = !e.benchmark || Object.keys(e.benchmark).length === 0;
  const cellName = unchanged ? cell.name : `${cell.name}-edited`;
  return {
    ...base,
    name: e.name,
    title: `${base.title} (edited: ${e.name})`,
    cells: [{ name: cellName, benchmark: { ...cell.benchmark, ...e.benchmark } }],
    variants: [a, b],
    budget: { ...base.budget, ...e.budget },
    seeds: e.seeds ?? base.seeds,
    claims: [{
      claim: `${a.name} against ${b.name} on ${cell.name}${
        unchanged ? "" : ` edited to ${JSON.stringify(e.benchmark)}`
      }`,
      prediction: e.prediction ?? (same && unchanged ? same.prediction : "(no prediction written)"),
      cell: cellName,
      a: a.name,
      b: b.name,
    }],
  };
}

function round(x: number, d = 3): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** The per-image PSNR of a run aligned to `names` (throws naming the run on a mismatch). */
function aligned(r: RunResult, names: string[]): number[] {
  const by = new Map(r.perImage.map((p) => [p.name, p.psnr]));
  return names.map((n) => {
    const v = by.get(n);
    if (v === undefined) throw new Error(`run ${r.key} has no score for image ${n}`);
    return v;
  });
}

/** The verdict rule over per-seed differences (see the module comment). */
export function verdictOf(perSeed: Pick<PairedDifference, "lo" | "hi">[]): Verdict {
  if (perSeed.length === 0) return "not resolved";
  if (perSeed.every((d) => d.lo > 0)) return "resolved: A better";
  if (perSeed.every((d) => d.hi < 0)) return "resolved: B better";
  return "not resolved";
}

/** The claims of a study from its finished runs. */
export function studyClaims(s: Study, results: RunResult[]): ClaimResult[] {
  const find = (cell: string, variant: string, seed: number) => {
    const r = results.find((x) => x.cell === cell && x.variant === variant && x.seed === seed);
    if (!r) throw new Error(`study ${s.name}: run ${cell}--${variant}--s${seed} is missing`);
    return r;
  };
  return s.claims.map((c) => {
    const names = find(c.cell, c.a, s.seeds[0]).perImage.map((p) => p.name);
    const perSeedDiffs = s.seeds.map((seed) => {
      const a = aligned(find(c.cell, c.a, seed), names),
        b = aligned(find(c.cell, c.b, seed), names);
      return { seed, d: pairedDifference(a, b, { seed: 0 }) };
    });
    const mean = (seedVals: number[][]) =>
      names.map((_, i) => seedVals.reduce((t, v) => t + v[i], 0) / seedVals.length);
    const A = mean(s.seeds.map((seed) => aligned(find(c.cell, c.a, seed), names)));
    const B = mean(s.seeds.map((seed) => aligned(find(c.cell, c.b, seed), names)));
    const pooled = pairedDifference(A, B, { seed: 0 });
    return {
      claim: c.claim,
      prediction: c.prediction,
      cell: c.cell,
      comparison: `${c.a} minus ${c.b}`,
      meanDb: round(pooled.mean),
      ci95: [round(pooled.lo), round(pooled.hi)],
      perSeed: perSeedDiffs.map(({ seed, d }) => ({
        seed,
        meanDb: round(d.mean),
        ci95: [round(d.lo), round(d.hi)] as [number, number],
        wins: d.wins,
        n: d.n,
      })),
      verdict: verdictOf(perSeedDiffs.map((x) => x.d)),
    };
  });
}

/** Mean PSNR gain over the input per cell and variant, averaged over seeds (for figures). */
export function gainTable(s: Study, results: RunResult[]): GainRow[] {
  const out: GainRow[] = [];
  for (const c of s.cells) {
    for (const v of s.variants) {
      const rs = results.filter((r) => r.cell === c.name && r.variant === v.name);
      if (rs.length === 0) continue;
      const g = rs.map((r) => r.meanPsnr - r.meanInputPsnr);
      out.push({
        cell: c.name,
        variant: v.name,
        gainDb: round(g.reduce((a, b) => a + b, 0) / g.length),
        perSeed: g.map((x) => round(x)),
        params: rs[0].params,
      });
    }
  }
  return out;
}

/** The joined study as Markdown: gain per cell and variant, then each claim with its verdict. */
export function studyMarkdown(
  s: Study,
  claims: ClaimResult[],
  gains: GainRow[],
): string {
  const sign = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
  const lines = [
    `# ${s.title}`,
    "",
    s.question,
    "",
    `Gain over the blurry input (dB, mean over the test images, averaged over seeds ${
      s.seeds.join(" and ")
    }; per seed in brackets):`,
    "",
    `| cell | ${s.variants.map((v) => v.name).join(" | ")} |`,
    `| --- | ${s.variants.map(() => "---").join(" | ")} |`,
  ];
  for (const c of s.cells) {
    const row = s.variants.map((v) => {
      const g = gains.find((x) => x.cell === c.name && x.variant === v.name);
      return g ? `${sign(g.gainDb)} (${g.perSeed.map(sign).join(", ")})` : "";
    });
    lines.push(`| ${c.name} | ${row.join(" | ")} |`);
  }
  lines.push(
    "",
    "| claim | cell | A minus B | mean (dB) | 95% interval | per seed | verdict | prediction |",
  );
  lines.push("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const c of claims) {
    const per = c.perSeed.map((p) => `${sign(p.meanDb)} [${sign(p.ci95[0])}, ${sign(p.ci95[1])}]`)
      .join("; ");
    lines.push(
      `| ${c.claim} | ${c.cell} | ${c.comparison} | ${sign(c.meanDb)} | [${sign(c.ci95[0])}, ${
        sign(c.ci95[1])
      }] | ${per} | ${c.verdict} | ${c.prediction} |`,
    );
  }
  return lines.join("\n") + "\n";
}
