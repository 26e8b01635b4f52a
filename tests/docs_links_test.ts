/**
 * The documentation the repository carries: every relative Markdown link and every citation of
 * a page in docs/ (with its anchor) in lib/, tests/, README.md and docs/ resolves to a file and
 * a heading, and nothing cites notes that exist only outside the repository; the README stays a
 * front page (under 300 lines, linking every docs page). The checker
 * (tests/support/docs_links.ts) is first run on a synthetic tree with known faults, so a
 * checker that finds nothing cannot pass silently.
 */
import assert from "node:assert/strict";
import {
  checkLinks,
  diskTree,
  type FileTree,
  findReferences,
  formatProblems,
  githubSlug,
  headingAnchors,
} from "./support/docs_links.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** A FileTree over an in-memory map of files. */
function memoryTree(files: Record<string, string>): FileTree {
  return {
    read: (path) => Promise.resolve(files[path] ?? null),
    exists: (path) =>
      Promise.resolve(
        path === "" || path in files || Object.keys(files).some((f) => f.startsWith(`${path}/`)),
      ),
  };
}

// Synthetic inputs are written with placeholders, so that this file's own text links to and
// cites nothing: "DOCS/" stands for the docs folder, "[label]<target>" for a Markdown link.
const D = (s: string) => s.replaceAll("DOCS/", "docs/").replace(/\]<([^>]*)>/g, "]($1)");
const OUTSIDE = "refer" + "ence/SVRN" + "N.md";

Deno.test("docs links: GitHub anchors of headings", () => {
  assert.equal(githubSlug("The IIR argument"), "the-iir-argument");
  assert.equal(githubSlug("Nah et al. 2017 (DeepDeblur)"), "nah-et-al-2017-deepdeblur");
  assert.equal(
    githubSlug(D("The `blur_gamma` variant, [linked]<x.md>")),
    "the-blur_gamma-variant-linked",
  );
  assert.equal(githubSlug("Training recipe"), "training-recipe");
  const anchors = headingAnchors(
    '# Title\n\n## Notes\n\n```\n## not a heading\n```\n\n### Notes\n<a id="custom"></a>\n',
  );
  assert.deepEqual([...anchors].sort(), ["custom", "notes", "notes-1", "title"]);
});

Deno.test("docs links: the checker finds every kind of fault in a synthetic tree", async () => {
  const tree = memoryTree({
    [D("DOCS/a.md")]: D(
      "# Page A\n\n## Good section\n\nSee [b]<b.md#other> and [self]<#good-section>.\n",
    ),
    [D("DOCS/b.md")]: "# Page B\n\n## Other\n",
    "README.md": D(
      "[ok]<DOCS/a.md#good-section> [bad anchor]<DOCS/a.md#nope> [missing]<DOCS/c.md>\n" +
        "[web]<https://example.org/x.md#y> [up]<../outside.md> [bad self]<#nowhere>\n",
    ),
    "lib/x.ts": D(
      "// cites DOCS/a.md#good-section and DOCS/b.md\n" +
        "// cites DOCS/a.md#missing-heading and DOCS/gone.md#x\n" +
        `// and ${OUTSIDE} section 2\n`,
    ),
    "lib/notebooks/sources/01_n.ts": D("// [page]<../DOCS/a.md#page-a> [wrong]<DOCS/a.md>\n"),
  });
  const problems = await checkLinks(
    [D("DOCS/a.md"), D("DOCS/b.md"), "README.md", "lib/x.ts", "lib/notebooks/sources/01_n.ts"],
    tree,
  );
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line}: ${p.message}`),
    [
      "README.md:1: DOCS/a.md#nope: DOCS/a.md has no heading with anchor #nope",
      "README.md:1: DOCS/c.md: no file DOCS/c.md",
      "README.md:2: ../outside.md: leaves the repository",
      "README.md:2: #nowhere: README.md has no heading with anchor #nowhere",
      "lib/x.ts:2: DOCS/a.md#missing-heading: DOCS/a.md has no heading with anchor #missing-heading",
      "lib/x.ts:2: DOCS/gone.md#x: no file DOCS/gone.md",
      "lib/x.ts:3: cites the reference notes kept outside the repository",
      "lib/x.ts:3: cites a note that is not in the repository",
      // relative to notebooks/, where the notebook is rendered:
      "lib/notebooks/sources/01_n.ts:1: DOCS/a.md: no file notebooks/DOCS/a.md",
    ].map(D),
  );
});

/** The files whose links and citations must hold: lib/, tests/, README.md, docs/. */
async function sourceFiles(): Promise<string[]> {
  const out: string[] = ["README.md"];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${ROOT}/${dir}`)) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(rel);
      else if (/\.(ts|md|py|sh)$/.test(e.name)) out.push(rel);
    }
  };
  for (const dir of ["lib", "tests", "docs"]) await walk(dir);
  return out.sort();
}

Deno.test("docs links: every link and docs citation in the repository resolves", async () => {
  const files = await sourceFiles();
  assert.ok(files.includes("docs/paper.md") && files.includes("lib/ops/gate_rnn.ts"));
  assert.ok(files.some((f) => f.startsWith("lib/notebooks/sources/")));
  const problems = await checkLinks(files, diskTree(ROOT));
  assert.equal(formatProblems(problems), "", `${problems.length} broken links or citations`);
  // ... and it did look at them: the sources cite the docs pages dozens of times.
  let cited = 0;
  for (const f of files) {
    const refs = findReferences(await Deno.readTextFile(`${ROOT}/${f}`), !f.endsWith(".md"));
    cited += refs.filter((r) =>
      r.anchor !== null && /(^|\/)docs\/|^[a-z]+\.md$/.test(r.path)
    ).length;
  }
  assert.ok(cited >= 30, `only ${cited} anchored docs citations found`);
});

Deno.test("docs links: the pages the sources cite exist and are cited", async () => {
  const tree = diskTree(ROOT);
  for (const page of ["docs/paper.md", "docs/platform.md", "docs/data.md"]) {
    assert.ok(await tree.exists(page), page);
  }
  const anchors = headingAnchors((await tree.read("docs/paper.md"))!);
  for (
    const a of [
      "the-iir-argument",
      "the-gate-recurrent-operator",
      "network",
      "training-recipe",
      "reported-results",
      "nah-et-al-2017-deepdeblur",
    ]
  ) assert.ok(anchors.has(a), `docs/paper.md#${a}`);
  const gate = (await tree.read("lib/ops/gate_rnn.ts"))!;
  assert.match(gate, /docs\/paper\.md#the-gate-recurrent-operator/);
});

Deno.test("docs links: the README is a front page: under 300 lines, linking every docs page", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const lines = readme.split("\n").length - (readme.endsWith("\n") ? 1 : 0);
  assert.ok(lines < 300, `README.md has ${lines} lines; the detail belongs in docs/`);
  const pages = [...Deno.readDirSync(`${ROOT}/docs`)].map((e) => e.name)
    .filter((n) => n.endsWith(".md")).sort();
  assert.ok(pages.length >= 5, pages.join(", "));
  const missing = pages.filter((p) => !readme.includes(`](docs/${p})`));
  assert.deepEqual(missing, [], "docs pages the README's Documentation list does not link");
});
