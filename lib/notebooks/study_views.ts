/**
 * What notebook 04 shows of a joined study (results/studies/NAME.json): the gain of every
 * variant per cell (one figure per study: gain against blur length, by layout, by
 * direction), the claims as a table, and each verdict in plain words beside its prediction.
 * The words are derived from the numbers, so the prose cannot drift from the results.
 */
import type { ClaimResult, GainRow, LinearReachFile, StudyFile } from "../records/formats.ts";
import { barFigure, COLORS, type Figure, lineFigure, withHLine } from "../viz/figure.ts";
import type { Row } from "../viz/table.ts";

const signed = (x: number, d = 2) => `${x >= 0 ? "+" : ""}${x.toFixed(d)}`;

/** Gain over the input per cell (x) and variant (bars), with the seeds' range as error bars. */
export function studyGainFigure(
  study: Pick<StudyFile, "title" | "gains">,
  xTitle = "cell",
): Figure {
  const gains = study.gains as GainRow[];
  const cells = [...new Set(gains.map((g) => g.cell))];
  const variants = [...new Set(gains.map((g) => g.variant))];
  const at = (c: string, v: string) => gains.find((g) => g.cell === c && g.variant === v);
  return barFigure(
    cells,
    variants.map((v) => {
      const rows = cells.map((c) => at(c, v));
      return {
        name: `${v} (${(rows.find((r) => r)?.params ?? 0).toLocaleString("en-US")} params)`,
        values: rows.map((r) => r?.gainDb ?? NaN),
        interval: {
          lo: rows.map((r) => (r ? Math.min(...r.perSeed) : NaN)),
          hi: rows.map((r) => (r ? Math.max(...r.perSeed) : NaN)),
        },
      };
    }),
    {
      title: study.title,
      xTitle,
      yTitle: "PSNR gain over the input (dB; bars: seed range)",
    },
  );
}

/**
 * How far a filter must see to undo one cell's blur: the best linear row filter's gain
 * against its width (results/studies/NAME/linear-reach.json), a vertical line where the CNN's
 * receptive field ends (`cnnWidth` px across), and each trained variant's mean gain on the
 * same cell as a horizontal line (their test crops are scored whole, the filter's on the
 * columns where the widest filter fits, so the lines compare roughly, not exactly).
 */
export function reachFigure(
  linear: Pick<LinearReachFile, "rows">,
  cell: string,
  cnnWidth: number,
  study?: Pick<StudyFile, "gains">,
): Figure {
  const rows = linear.rows.filter((r) => r.cell === cell);
  const lo = Math.min(0, ...rows.map((r) => r.meanGainDb));
  const gains = (study?.gains ?? []).filter((g) => g.cell === cell);
  const hi = Math.max(0, ...rows.map((r) => r.meanGainDb), ...gains.map((g) => g.gainDb));
  let fig = lineFigure([
    {
      name: "best linear row filter of that width",
      x: rows.map((r) => r.taps),
      y: rows.map((r) => r.meanGainDb),
      mode: "lines+markers",
      color: COLORS[2],
    },
    {
      name: `cnn-small's receptive field (${cnnWidth} px across)`,
      x: [cnnWidth, cnnWidth],
      y: [lo - 0.2, hi + 0.2],
      color: "#555555",
      dash: "dash",
      width: 1.5,
    },
  ], {
    title: `How far a filter must see: ${cell}`,
    xTitle: "filter width (px seen along the row)",
    yTitle: "PSNR gain over the input (dB)",
  });
  gains.forEach((g, i) => {
    fig = withHLine(fig, g.gainDb, `${g.variant}, trained (mean of seeds)`, {
      color: COLORS[i % COLORS.length],
    });
  });
  return fig;
}

/** A cell's linear ceiling as table rows: filter width, gain, crops improved. */
export function linearReachRows(linear: Pick<LinearReachFile, "rows">, cell: string): Row[] {
  return linear.rows.filter((r) => r.cell === cell).map((r) => ({
    "filter width (px)": r.taps,
    "gain over the input (dB)": signed(r.meanGainDb),
    "crops improved": `${r.improved}/${r.images}`,
  }));
}

/** The A and B of a claim's "A minus B". */
export function claimSides(c: Pick<ClaimResult, "comparison">): [string, string] {
  const m = /^(.+) minus (.+)$/.exec(c.comparison);
  if (!m) throw new Error(`claim comparison "${c.comparison}" is not "A minus B"`);
  return [m[1], m[2]];
}

/**
 * The verdict a prediction states: its text up to the first colon, "not resolved" or
 * "resolved: NAME better" with NAME one of the two sides; null when it states neither.
 */
export function predictedVerdict(c: Pick<ClaimResult, "prediction" | "comparison">):
  | ClaimResult["verdict"]
  | null {
  const [a, b] = claimSides(c);
  const p = c.prediction.trim();
  if (p.startsWith("not resolved")) return "not resolved";
  const m = /^resolved: (.+?) better/.exec(p);
  if (!m) return null;
  if (m[1] === a || m[1] === "A") return "resolved: A better";
  if (m[1] === b || m[1] === "B") return "resolved: B better";
  return null;
}

/** A verdict with the sides named: "resolved: svrnn-small better", "not resolved". */
export function verdictWords(v: ClaimResult["verdict"], a: string, b: string): string {
  return v === "resolved: A better"
    ? `resolved: ${a} better`
    : v === "resolved: B better"
    ? `resolved: ${b} better`
    : "not resolved";
}

/** One sentence: what was measured, whether the seeds agree, and against the prediction. */
export function verdictSentence(c: ClaimResult): string {
  const [a, b] = claimSides(c);
  const seeds = c.perSeed.map((s) => `${signed(s.meanDb)} dB`).join(", ");
  const measured = c.verdict === "resolved: A better"
    ? `${a} is better, by ${signed(c.meanDb)} dB (95% interval ${signed(c.ci95[0])} to ${
      signed(c.ci95[1])
    }), under every seed (${seeds})`
    : c.verdict === "resolved: B better"
    ? `${b} is better, by ${signed(-c.meanDb)} dB (95% interval ${signed(-c.ci95[1])} to ${
      signed(-c.ci95[0])
    }), under every seed (${seeds})`
    : `not resolved: ${a} minus ${b} is ${signed(c.meanDb)} dB on average, but the seeds' ` +
      `intervals do not all exclude zero on one side (per seed: ${seeds})`;
  const predicted = predictedVerdict(c);
  const match = predicted === null
    ? "the prediction states no verdict"
    : predicted === c.verdict
    ? "as predicted"
    : `against the prediction (${verdictWords(predicted, a, b)})`;
  return `${c.cell}: ${measured}; ${match}.`;
}

/** The claims as table rows (claim, cell, A - B, interval, verdict, predicted, matched). */
export function claimRows(claims: ClaimResult[]): Row[] {
  return claims.map((c) => {
    const predicted = predictedVerdict(c);
    return {
      claim: c.claim,
      cell: c.cell,
      "A minus B": c.comparison,
      "mean (dB)": signed(c.meanDb),
      "95% interval": `[${signed(c.ci95[0])}, ${signed(c.ci95[1])}]`,
      "per seed": c.perSeed.map((s) => signed(s.meanDb)).join(", "),
      verdict: verdictWords(c.verdict, ...claimSides(c)),
      predicted: predicted ? verdictWords(predicted, ...claimSides(c)) : "(none stated)",
      "as predicted": predicted === c.verdict ? "yes" : "no",
    };
  });
}

/** How many claims of a study came out as predicted, in words. */
export function predictionScore(claims: ClaimResult[]): string {
  const hits = claims.filter((c) => predictedVerdict(c) === c.verdict).length;
  return `${hits} of ${claims.length} claims came out as predicted`;
}

/**
 * Each claim of a study as a Markdown list item: the claim, its prediction as written
 * before the run, and the measured verdict in words; then how many came out as predicted.
 */
export function verdictMarkdown(study: Pick<StudyFile, "claims">): string {
  const items = study.claims.map((c) =>
    `- **${c.claim}** (${c.comparison}). *Predicted:* ${c.prediction}. *Measured:* ${
      verdictSentence(c)
    }`
  );
  return [...items, "", `${predictionScore(study.claims)}.`].join("\n");
}

/** One row per joined study: what it asks, its size, its cost per run, its predictions. */
export function studyOverviewRows(
  studies: Pick<StudyFile, "study" | "question" | "gains" | "runs" | "claims" | "budget">[],
): Row[] {
  return studies.map((s) => {
    const minutes = s.runs.map((r) => r.trainMinutes);
    return {
      study: s.study,
      question: s.question,
      cells: new Set(s.gains.map((g) => g.cell)).size,
      variants: new Set(s.gains.map((g) => g.variant)).size,
      runs: s.runs.length,
      steps: s.budget.steps,
      "train minutes per run": `${Math.min(...minutes).toFixed(1)}-${
        Math.max(...minutes).toFixed(1)
      }`,
      "as predicted": `${
        s.claims.filter((c) => predictedVerdict(c) === c.verdict).length
      } of ${s.claims.length}`,
    };
  });
}
