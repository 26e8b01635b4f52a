/**
 * The ablation study of `svrnn-small`, declared once. Each variant is one entry below: its
 * name, what it changes (config overrides on top of svrnn-small's preset), its description,
 * its short label and the factor (the question) it belongs to. Everything else reads this:
 * the registry registers the presets (registry.ts), `deno task ablate` trains the variants
 * in this order, and the notebooks' factor groups and labels (notebooks/ablation_views.ts)
 * are derived here. Adding a variant is one entry; tests/variants_test.ts fails when some
 * other file keeps a list of variant names of its own.
 *
 * Pure data: imports only types.
 */
import type { SVRNNConfig } from "./svrnn.ts";

/** The model every variant is compared with: the paper's layout at the small size. */
export const ABLATION_REFERENCE = "svrnn-small";

/** What the reference is, in the few words the variants' short labels use. */
const REFERENCE_SHORT = "reference (4 blocks, 4 directions, variant gates, fused)";

/**
 * The questions the ablation answers, in the order of the notebooks' menus. Each groups
 * the variants of one factor with the reference, labelled `reference` there; the
 * reference comes first or last so that the group reads in order of the factor.
 */
const FACTORS = [
  {
    key: "gates",
    question: "gates: spatially variant, invariant, fixed",
    reference: "variant (paper)",
    referenceFirst: true,
  },
  { key: "blocks", question: "number of RNN blocks", reference: "4 blocks (paper)" },
  { key: "directions", question: "scan directions", reference: "4 (paper)" },
  { key: "fuse", question: "fusing conv after each block", reference: "conv_rnnK (paper)" },
  { key: "cnn", question: "RNN versus CNN at equal size", reference: "SVRNN (svrnn-small)" },
] as const satisfies readonly {
  key: string;
  question: string;
  reference: string;
  referenceFirst?: boolean;
}[];

export type AblationFactor = (typeof FACTORS)[number]["key"];

interface Member {
  name: string;
  factor: AblationFactor;
  /** The variant's label within its factor's group. */
  label: string;
  /** What the variant changes, in a few words (tables). */
  short: string;
}

/** A preset of svrnn-small, registered by registry.ts under `name`. */
export interface SmallVariant extends Member {
  /** Config fields replacing svrnn-small's. */
  overrides: Partial<SVRNNConfig>;
  /** One line for the model list. */
  description: string;
}

/** A model registered on its own (another builder), taking part in the ablation as is. */
export interface RegisteredMember extends Member {
  overrides?: undefined;
}

export type AblationMember = SmallVariant | RegisteredMember;

/** Every variant of the ablation, in the order `deno task ablate` trains them. */
export const ABLATION_MEMBERS: readonly AblationMember[] = [
  {
    name: "svrnn-small-invariant",
    factor: "gates",
    overrides: { gate: "invariant" },
    description: "svrnn-small with spatially invariant gates (one learned value per channel)",
    short: "invariant gates",
    label: "invariant",
  },
  {
    name: "svrnn-small-fixed",
    factor: "gates",
    overrides: { gate: "fixed" },
    description: "svrnn-small with every gate fixed at 0.5 (no gate learning)",
    short: "fixed gates (0.5)",
    label: "fixed at 0.5",
  },
  {
    name: "svrnn-small-nofuse",
    factor: "fuse",
    overrides: { fuse: false },
    description: "svrnn-small without conv_rnnK: directions merged by elementwise max",
    short: "no fusing conv (max)",
    label: "max, no conv",
  },
  {
    name: "svrnn-small-1dir",
    factor: "directions",
    overrides: { directions: ["left-right"] },
    description: "svrnn-small scanning left-to-right only",
    short: "1 direction",
    label: "1 (L→R)",
  },
  {
    name: "svrnn-small-2dir",
    factor: "directions",
    overrides: { directions: ["left-right", "right-left"] },
    description: "svrnn-small scanning left-to-right and right-to-left (causal + anti-causal)",
    short: "2 directions",
    label: "2 (L→R, R→L)",
  },
  {
    name: "svrnn-small-1block",
    factor: "blocks",
    overrides: { numBlocks: 1 },
    description: "svrnn-small with 1 RNN block",
    short: "1 block",
    label: "1 block",
  },
  {
    name: "svrnn-small-2block",
    factor: "blocks",
    overrides: { numBlocks: 2 },
    description: "svrnn-small with 2 RNN blocks",
    short: "2 blocks",
    label: "2 blocks",
  },
  {
    name: "svrnn-small-3block",
    factor: "blocks",
    overrides: { numBlocks: 3 },
    description: "svrnn-small with 3 RNN blocks",
    short: "3 blocks",
    label: "3 blocks",
  },
  // The CNN control has its own builder and size rule (registry.ts); here it only takes part.
  { name: "cnn-small", factor: "cnn", short: "CNN control", label: "CNN (cnn-small)" },
];

/** The presets of svrnn-small among the variants (what the registry adds). */
export const SMALL_VARIANTS: readonly SmallVariant[] = ABLATION_MEMBERS.filter(
  (m): m is SmallVariant => m.overrides !== undefined,
);

/** The models `deno task ablate` trains by default: the reference, then every variant. */
export const ABLATION_VARIANTS: readonly string[] = [
  ABLATION_REFERENCE,
  ...ABLATION_MEMBERS.map((m) => m.name),
];

export interface FactorGroup {
  key: AblationFactor;
  /** The question, as the notebooks' menus show it. */
  factor: string;
  variants: readonly string[];
  /** The short label of each of `variants` within this question. */
  labels: readonly string[];
}

/** The questions, each a set of variants differing in one thing, with their labels. */
export const ABLATION_FACTORS: readonly FactorGroup[] = FACTORS.map((f) => {
  const own = ABLATION_MEMBERS.filter((m) => m.factor === f.key);
  const ref = { name: ABLATION_REFERENCE, label: f.reference };
  const group = "referenceFirst" in f && f.referenceFirst ? [ref, ...own] : [...own, ref];
  return {
    key: f.key,
    factor: f.question,
    variants: group.map((m) => m.name),
    labels: group.map((m) => m.label),
  };
});

/** The variants of one factor with the reference, in the group's order. */
export function factorVariants(key: AblationFactor): readonly string[] {
  return ABLATION_FACTORS.find((f) => f.key === key)!.variants;
}

/** What each model of the ablation changes, in a few words. */
export const VARIANT_SHORT: Readonly<Record<string, string>> = Object.fromEntries([
  [ABLATION_REFERENCE, REFERENCE_SHORT],
  ...ABLATION_MEMBERS.map((m) => [m.name, m.short]),
]);
