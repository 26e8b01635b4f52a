/**
 * Notebook 02's rows and sentences, built from its measurements (lib/analysis/
 * receptive_field.ts, lib/analysis/scan_impulse.ts) so that every number the prose quotes
 * is the one in the table beside it, and the wording follows the numbers (a balanced far
 * field is called balanced, an unbalanced one is not):
 *
 * - `erfRow`: one row of an ERF table;
 * - `scanImpulseRows`, `scanImpulseSentence`: the four-direction scan on one impulse;
 * - `decayRows`, `decaySentence`: how the open-gate ERFs fall off along the centre row;
 * - `gateRows`, `gateHistogram`, `gateSentence`: the gate maps of a photo;
 * - `erfAnswer`: the notebook's closing answer, one bullet per question.
 */
import type {
  ErfSummary,
  GateStats,
  ProfileDecay,
  ReceptiveField,
} from "../analysis/receptive_field.ts";
import { erfSummary, memoryLength, profileDecay } from "../analysis/receptive_field.ts";
import type { ImpulseResponse } from "../analysis/scan_impulse.ts";
import type { Row } from "../viz/table.ts";

const pct = (v: number, digits = 0) => `${(100 * v).toFixed(digits)} %`;
const f2 = (v: number) => v.toFixed(2);
const f3 = (v: number) => v.toFixed(3);

// ---------------------------------------------------------------------------------------
// ERF tables

/** Thresholds of an ERF table: reach above `floor` of the peak, far field beyond `far` px. */
export interface ErfTableOptions {
  floor: number;
  far: number;
}

/** One row of an ERF table: radii, reach, border, far-field mass and its sides. */
export function erfRow(
  label: string,
  e: ReceptiveField,
  opts: ErfTableOptions,
  extra: Row = {},
): Row {
  const s = erfSummary(e, { threshold: opts.floor, far: opts.far });
  return {
    model: label,
    ...extra,
    "r50 (px)": s.r50,
    "r90 (px)": s.r90,
    "r99 (px)": s.r99,
    [`reach > ${opts.floor} (px)`]: s.extent,
    "reaches border": s.reachesBorder ? "yes" : "no",
    [`mass beyond ${opts.far} px`]: s.farMass,
    "far field: share left": s.farLeftShare,
    "far field: share up": s.farUpShare,
  };
}

// ---------------------------------------------------------------------------------------
// The scan on one impulse

/** Offsets -c..+c from the impulse, as column labels ("-3" ... "0" ... "+3"). */
function offsetLabels(side: number): string[] {
  const c = side >> 1;
  // "±0", not "0": an integer-like key would be ordered first in the row objects.
  return Array.from(
    { length: side },
    (_, i) => (i - c > 0 ? `+${i - c}` : i === c ? "±0" : `${i - c}`),
  );
}

/**
 * Two rows per direction: the scan's output along the impulse's row (x offsets) and along
 * its column (y offsets, down positive).
 */
export function scanImpulseRows(responses: ImpulseResponse[]): Row[] {
  return responses.flatMap((r) => {
    const labels = offsetLabels(r.side);
    const line = (along: string, values: number[]): Row => ({
      direction: r.direction,
      along,
      ...Object.fromEntries(labels.map((l, i) => [l, values[i]])),
    });
    return [line("row (x)", r.row), line("column (y)", r.col)];
  });
}

/**
 * What the impulse table shows, checked on its numbers: the response right after the
 * impulse, how it falls per step (g), and where it is exactly zero.
 */
export function scanImpulseSentence(responses: ImpulseResponse[], backendDiff?: number): string {
  if (responses.length === 0) return "";
  const g = responses[0].gate, c = responses[0].side >> 1;
  let upstreamZero = true, offLineZero = true, geometric = true;
  for (const r of responses) {
    const horizontal = r.direction === "left-right" || r.direction === "right-left";
    const forward = r.direction === "left-right" || r.direction === "top-bottom";
    const onLine = horizontal ? r.row : r.col;
    for (let i = 0; i < r.side; i++) {
      const n = forward ? i - c : c - i; // steps downstream of the impulse
      if (n < 0 && onLine[i] !== 0) upstreamZero = false;
      if (n >= 0 && Math.abs(onLine[i] - (1 - g) * g ** n) > 1e-6) geometric = false;
    }
    for (let i = 0; i < r.side * r.side; i++) {
      const x = i % r.side, y = Math.floor(i / r.side);
      if ((horizontal ? y !== c : x !== c) && r.data[i] !== 0) offLineZero = false;
    }
  }
  const parts = [
    geometric
      ? `Every scan leaves (1 − g) g^n = ${f2(1 - g)}, ${f3((1 - g) * g)}, ${
        f3((1 - g) * g * g)
      }, ... at n = 0, 1, 2, ... steps downstream of the impulse (g = ${g}):`
      : `The responses do not follow (1 − g) g^n (g = ${g}):`,
    upstreamZero
      ? "exactly 0 upstream, so each direction carries information one way only,"
      : "not zero upstream,",
    offLineZero
      ? "and exactly 0 off the impulse's row (horizontal scans) or column (vertical scans): one scan is a 1-D filter, and only stacking directions and blocks spreads it over the plane."
      : "and not zero off the impulse's line.",
  ];
  if (backendDiff !== undefined) {
    parts.push(
      backendDiff === 0
        ? "The network's own kernel (`gateRecurrent` on this backend) gives exactly the same values."
        : `The network's own kernel (\`gateRecurrent\` on this backend) gives the same values, to within ${
          backendDiff.toExponential(1)
        }.`,
    );
  }
  return parts.join(" ");
}

// ---------------------------------------------------------------------------------------
// Decay of the open-gate ERFs

export interface DecayRow {
  label: string;
  left: ProfileDecay;
  right: ProfileDecay;
}

/** The decay along the centre row of each ERF, fitted from `from` px out. */
export function decayOf(
  items: { label: string; erf: ReceptiveField }[],
  opts: { from: number },
): DecayRow[] {
  return items.map(({ label, erf }) => {
    const d = profileDecay(erf, { along: "row", from: opts.from, step: 2 });
    return { label, left: d.before, right: d.after };
  });
}

/** Table rows of `decayOf`: factor per 2 px on each side, and where the profile is exactly 0. */
export function decayRows(rows: DecayRow[]): Row[] {
  const factor = (d: ProfileDecay) => (Number.isFinite(d.factor) ? d.factor : "ends");
  const zero = (d: ProfileDecay) => (d.zeroFrom === null ? "never" : d.zeroFrom);
  return rows.map((r) => ({
    model: r.label,
    "decay per 2 px, left": factor(r.left),
    "decay per 2 px, right": factor(r.right),
    "exactly 0 from (px), left": zero(r.left),
    "exactly 0 from (px), right": zero(r.right),
  }));
}

/**
 * The decay table in words. `gate` is the open gate; rows are found by role: `oneBlock`,
 * `fourBlocks`, `oneDir` (a left-to-right scan), `cnn` (labels of `rows`).
 */
export function decaySentence(
  rows: DecayRow[],
  roles: { oneBlock: string; fourBlocks: string; oneDir: string; cnn: string },
  gate: number,
): string {
  const get = (label: string) => {
    const r = rows.find((x) => x.label === label);
    if (!r) throw new Error(`decaySentence: no row ${label}`);
    return r;
  };
  const one = get(roles.oneBlock), four = get(roles.fourBlocks);
  const dir = get(roles.oneDir), cnn = get(roles.cnn);
  const range = (r: DecayRow) => {
    const a = [r.left.factor, r.right.factor].filter(Number.isFinite).map(f2);
    return a.length === 2 && a[0] !== a[1] ? `${a[0]} and ${a[1]}` : a[0] ?? "n/a";
  };
  const oneFactors = [one.left.factor, one.right.factor];
  const matches = oneFactors.every((f) => Math.abs(f - gate) <= 0.03);
  const slower = [four.left.factor, four.right.factor].every((f, i) => f > oneFactors[i] + 0.01);
  const s: string[] = [];
  s.push(
    `Along the centre row, ${roles.oneBlock} falls by ${
      range(one)
    } per two input pixels (one gate step at half resolution)${
      matches ? `, the open gate's ${gate}: geometric, as one scan's impulse response` : ""
    };`,
  );
  s.push(
    slower
      ? `${roles.fourBlocks} falls more slowly (${
        range(four)
      } per two pixels), because each block scans the previous block's already spread output.`
      : `${roles.fourBlocks} falls by ${range(four)} per two pixels.`,
  );
  if (cnn.left.zeroFrom !== null || cnn.right.zeroFrom !== null) {
    s.push(
      `The CNN control is exactly 0 from ${
        [cnn.left.zeroFrom, cnn.right.zeroFrom].filter((v) => v !== null).join(" and ")
      } px on (left and right), the end of its convolutions' reach;`,
    );
  }
  if (dir.right.zeroFrom !== null && dir.left.zeroFrom === null) {
    s.push(
      `${roles.oneDir} is exactly 0 from ${dir.right.zeroFrom} px on the right and never on the left: a causal scan, which sees to the right only as far as its convolutions reach.`,
    );
  } else {
    const z = (v: number | null) => (v === null ? "nowhere" : `from ${v} px on`);
    s.push(
      `${roles.oneDir} is exactly 0 ${z(dir.left.zeroFrom)} on the left and ${
        z(dir.right.zeroFrom)
      } on the right.`,
    );
  }
  return s.join(" ");
}

// ---------------------------------------------------------------------------------------
// Gate maps of a photo

/** One gate map's statistics with its correlations to edges and to brightness. */
export interface GateRowInput {
  block: number;
  direction: string;
  stats: GateStats;
  corrEdges: number;
  corrBrightness: number;
}

export function gateRows(maps: GateRowInput[]): Row[] {
  return maps.map((m) => ({
    block: m.block,
    direction: m.direction,
    "mean |g|": m.stats.meanAbs,
    "median |g|": m.stats.medianAbs,
    "p90 |g|": m.stats.p90Abs,
    "share |g| > 0.9": m.stats.fracAbove09,
    "share g < 0": m.stats.fracNegative,
    "median memory (px)": m.stats.medianMemory,
    "p90 memory (px)": m.stats.p90Memory,
    "corr(|g|, edges)": m.corrEdges,
    "corr(|g|, brightness)": m.corrBrightness,
  }));
}

/**
 * Histogram of per-pixel mean |g| values in [0, 1] by block: bin centres (as category
 * labels) and, per block, the share of its pixels in each bin.
 */
export function gateHistogram(
  maps: { block: number; data: ArrayLike<number> }[],
  bins = 20,
): { centres: string[]; series: { name: string; values: number[] }[] } {
  const blocks = [...new Set(maps.map((m) => m.block))];
  const series = blocks.map((b) => {
    const h = new Array(bins).fill(0);
    let n = 0;
    for (const m of maps.filter((x) => x.block === b)) {
      for (let i = 0; i < m.data.length; i++) {
        const a = Math.abs(m.data[i]);
        h[Math.max(0, Math.min(bins - 1, Math.floor(a * bins)))]++;
        n++;
      }
    }
    return { name: `block ${b}`, values: h.map((c) => (n ? c / n : 0)) };
  });
  const centres = Array.from({ length: bins }, (_, i) => ((i + 0.5) / bins).toFixed(3));
  return { centres, series };
}

/** How strongly a correlation coefficient relates two maps, in words. */
export function correlationWords(r: number): string {
  const a = Math.abs(r);
  const strength = a < 0.1
    ? "no clear relation"
    : a < 0.3
    ? "a weak"
    : a < 0.5
    ? "a modest"
    : a < 0.7
    ? "a clear"
    : "a strong";
  if (a < 0.1) return strength;
  return `${strength} ${r > 0 ? "positive" : "negative"} relation`;
}

/**
 * Where the memory is long on the photo, from the gate maps' statistics and the
 * correlations of the memory map with edge strength and with brightness.
 */
export function gateSentence(
  maps: GateRowInput[],
  corr: { edges: number; brightness: number },
): string {
  if (maps.length === 0) return "";
  const med = maps.map((m) => m.stats.medianMemory);
  const longest = maps.reduce((a, m) => (m.stats.p90Memory > a.stats.p90Memory ? m : a));
  const neg = maps.reduce((a, m) => a + m.stats.fracNegative, 0) / maps.length;
  const above = maps.reduce((a, m) => a + m.stats.fracAbove09, 0) / maps.length;
  const s = [
    `Memory is short at most pixels: the median per block and direction is ${
      f2(Math.min(...med))
    } to ${
      f2(Math.max(...med))
    } half-resolution pixels; the longest tail is block ${longest.block}, ${longest.direction} (a tenth of its pixels keep more than ${
      longest.stats.p90Memory.toFixed(1)
    } px).`,
    `${
      pct(neg)
    } of the gate values are negative (notebook 01: a negative gate inverts a "double exposure" blur) and ${
      pct(above, 1)
    } exceed 0.9 in magnitude.`,
  ];
  const e = corr.edges, b = corr.brightness;
  const r2 = (r: number) => pct(r * r);
  if (Number.isFinite(e) && Number.isFinite(b)) {
    const follows = Math.abs(b) > Math.abs(e) + 0.2
      ? "brightness"
      : Math.abs(e) > Math.abs(b) + 0.2
      ? "edges"
      : null;
    s.push(
      `The per-pixel memory length has ${correlationWords(e)} to local edge strength (r = ${
        f2(e)
      }: edges account for ${r2(e)} of its variation) and ${
        correlationWords(b)
      } to brightness (r = ${f2(b)}, ${r2(b)})${
        follows === "brightness"
          ? ": on this photo the gates follow how bright a pixel is far more than where the edges are."
          : follows === "edges"
          ? ": on this photo the gates follow the edges more than the brightness."
          : "."
      }`,
    );
  } else if (Number.isFinite(e)) {
    s.push(`The per-pixel memory length correlates with local edge strength at r = ${f2(e)}.`);
  }
  return s.join(" ");
}

// ---------------------------------------------------------------------------------------
// The answer

/** What `erfAnswer` needs: the summaries of the measured ERFs, by role. */
export interface ErfAnswerInput {
  /** Side of the square crop (px) and the far-field distance (px). */
  size: number;
  far: number;
  /** Section 1: the open gate and the ERFs with it. */
  openGate: number;
  open: {
    oneBlock: ErfSummary;
    fourBlocks: ErfSummary;
    oneDir: ErfSummary;
    cnn: ErfSummary;
  };
  /** Section 2: svrnn-small and the CNN control at initialisation; reach of every SVRNN variant. */
  init: {
    svrnn: ErfSummary;
    svrnnGate: number;
    cnn: ErfSummary;
    variantReach: number[];
  };
  /** Section 3, when trained weights exist (`shipped` false: an untrained stand-in). */
  trained?: {
    shipped: boolean;
    svrnn: ErfSummary;
    svrnnGate: number;
    oneDir?: ErfSummary;
    nah?: ErfSummary;
    cnn?: ErfSummary;
  };
  /** Section 4: the gate maps' sentence inputs. */
  gates?: { maps: GateRowInput[]; corr: { edges: number; brightness: number } };
  quick?: boolean;
}

/** Says how far a far field is from balanced: "balanced (52 %)" or "66 % on the left". */
function sideWords(share: number, sides: [string, string] = ["left", "right"]): string {
  if (!Number.isFinite(share)) return "no far field";
  if (Math.abs(share - 0.5) <= 0.05) return `balanced (${pct(share)} on the ${sides[0]})`;
  return share > 0.5 ? `${pct(share)} on the ${sides[0]}` : `${pct(1 - share)} on the ${sides[1]}`;
}

/**
 * The closing "what this means" bullets, each a finding with the numbers it rests on; the
 * wording is chosen from the numbers (reach, balance, change with training, correlations).
 */
export function erfAnswer(a: ErfAnswerInput): string {
  const o = a.open, border = a.size >> 1;
  const bullets: string[] = [];
  const crop = `the border of the ${a.size}x${a.size} crop (${border} px from the output pixel)`;
  const reach = o.oneBlock.reachesBorder && o.fourBlocks.reachesBorder
    ? `one block of four scans already reaches ${crop}, and so do four blocks`
    : `one block of four scans reaches ${o.oneBlock.extent} px and four blocks ${o.fourBlocks.extent} px (${crop})`;
  bullets.push(
    `**Range.** With the gates held open (g = ${a.openGate}), ${reach}; the CNN control of the same size ${
      o.cnn.reachesBorder ? "reaches it too" : `stops at ${o.cnn.extent} px`
    }. ${
      o.fourBlocks.reachesBorder && !o.cnn.reachesBorder
        ? "The recursion gives an image-wide field where the convolution's is fixed: notebook 01's IIR-versus-FIR argument in 2-D."
        : ""
    }`.trim(),
  );
  const fourBalanced = Math.abs(o.fourBlocks.farLeftShare - 0.5) <= 0.05;
  const likeCnn = Math.abs(o.fourBlocks.farLeftShare - o.cnn.farLeftShare) <= 0.05;
  bullets.push(
    `**Directions.** ${
      o.oneDir.farLeftShare > 0.55
        ? `A single direction (left to right, in all four blocks) is one-sided: ${
          pct(o.oneDir.farLeftShare)
        } of its far field (beyond ${a.far} px) lies on the left.`
        : `A single direction (left to right, in all four blocks) is not one-sided here: its far field (beyond ${a.far} px) is ${
          sideWords(o.oneDir.farLeftShare)
        }.`
    } Four directions ${
      fourBalanced
        ? `balance it: ${sideWords(o.fourBlocks.farLeftShare)}.`
        : `reach both sides but do not make the field symmetric: ${
          sideWords(o.fourBlocks.farLeftShare)
        }${
          likeCnn
            ? `, about as uneven as the CNN control, which has no scan at all (${
              sideWords(o.cnn.farLeftShare)
            }): the remaining imbalance is shared with the convolutions, not added by the scans.`
            : ` (CNN control: ${sideWords(o.cnn.farLeftShare)}).`
        }`
    }${
      a.trained?.oneDir
        ? ` Trained, the one-direction variant ${
          a.trained.oneDir.farLeftShare > 0.55 ? "is still one-sided" : "has a far field"
        } (${sideWords(a.trained.oneDir.farLeftShare)}), svrnn-small ${
          sideWords(a.trained.svrnn.farLeftShare)
        }.`
        : ""
    }`,
  );
  const vr = a.init.variantReach;
  const memory = memoryLength(a.init.svrnnGate);
  bullets.push(
    `**At initialisation** the learned gates are nearly closed (mean |g| of svrnn-small ${
      f3(a.init.svrnnGate)
    }, a memory of ${memory.toFixed(1)} half-resolution pixels): the SVRNN variants reach ${
      Math.min(...vr)
    } to ${Math.max(...vr)} px and keep ${
      pct(a.init.svrnn.farMass, 1)
    } of the mass beyond ${a.far} px (svrnn-small), the CNN control ${a.init.cnn.extent} px and ${
      pct(a.init.cnn.farMass, 1)
    }. Range is not built in: the gates have to learn to open.`.replace(
      /reach (\d+) to \1 px/,
      "all reach $1 px",
    ),
  );
  const t = a.trained;
  if (t) {
    const who = t.shipped ? "Trained" : "In the untrained stand-in";
    const gatesOpened = t.svrnnGate > a.init.svrnnGate * 1.5;
    const spread = t.svrnn.farMass > a.init.svrnn.farMass * 2;
    const others = [
      t.nah ? `nah-small ${pct(t.nah.farMass, 1)}` : "",
      t.cnn ? `the CNN control ${pct(t.cnn.farMass, 1)} (reach ${t.cnn.extent} px)` : "",
    ].filter(Boolean);
    bullets.push(
      `**After training.** ${who}, svrnn-small's gates are ${
        gatesOpened ? "open wider" : "about as open"
      } (mean |g| ${f3(t.svrnnGate)} against ${f3(a.init.svrnnGate)}) and ${
        pct(t.svrnn.farMass, 1)
      } of its gradient mass lies beyond ${a.far} px (${
        pct(a.init.svrnn.farMass, 1)
      } at initialisation), with a 99 % radius of ${t.svrnn.r99} px (${a.init.svrnn.r99} px)${
        others.length ? `; trained, ${others.join(" and ")} beyond ${a.far} px` : ""
      }.${
        gatesOpened && spread && t.shipped
          ? " Training is what gives SVRNN its long range: the gates learn to carry information far."
          : ""
      }`,
    );
  }
  if (a.gates && a.gates.maps.length) {
    bullets.push(
      `**Which pixels get long memory** (on the motion-blurred photo). ${
        gateSentence(a.gates.maps, a.gates.corr)
      }`,
    );
  }
  const text = bullets.map((b) => `* ${b}`).join("\n");
  return a.quick
    ? `${text}\n\n*(Quick mode: small crops and untrained stand-ins where checkpoints are missing; the numbers are not meaningful.)*`
    : text;
}
