// The photo-set fetcher on a fake Debian package (no network), and the fixtures fallback.
import assert from "node:assert/strict";
import { createImage } from "#lib/data/image.ts";
import { readImage, writeImage } from "#lib/data/image_io.ts";
import type { PhotoPackage } from "#lib/data/photos.ts";
import { PHOTO_SET, SHARP_FIXTURES } from "#lib/data/photos.ts";
import { fetchPhotoSet, listPhotos, verifyPhotoSet } from "#lib/data/photos_fetch.ts";

const FIX = new URL("../data/fixtures", import.meta.url).pathname;

async function hasDpkgDeb(): Promise<boolean> {
  try {
    return (await new Deno.Command("dpkg-deb", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output()).success;
  } catch {
    return false;
  }
}

const FAKE: PhotoPackage = {
  package: "svrnn-fake-photos",
  copyright: "usr/share/doc/svrnn-fake-photos/copyright",
  licenseNote: "test package",
  files: [
    { id: "fake-wide", path: "usr/share/fake/wide.jpg", author: "test", license: "CC0-1.0" },
    { id: "fake-small", path: "usr/share/fake/small.png", author: "test", license: "CC0-1.0" },
  ],
};

async function buildFakeDeb(dir: string) {
  const root = `${dir}/pkg`;
  await Deno.mkdir(`${root}/DEBIAN`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/DEBIAN/control`,
    "Package: svrnn-fake-photos\nVersion: 1.2-3\nArchitecture: all\nMaintainer: test <t@example.org>\nDescription: test\n",
  );
  await Deno.mkdir(`${root}/usr/share/doc/svrnn-fake-photos`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/usr/share/doc/svrnn-fake-photos/copyright`,
    "License: CC0-1.0\n",
  );
  await writeImage(`${root}/usr/share/fake/wide.jpg`, createImage(300, 100, 0.5));
  await writeImage(`${root}/usr/share/fake/small.png`, createImage(40, 30, 0.25));
  await Deno.mkdir(`${dir}/debs`);
  const out = await new Deno.Command("dpkg-deb", {
    args: ["--root-owner-group", "-b", root, `${dir}/debs/svrnn-fake-photos_1.2-3_all.deb`],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test({
  name:
    "photo fetcher: extracts, verifies, downscales, keeps the copyright, writes a manifest (fake .deb)",
  ignore: !(await hasDpkgDeb()),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "photos_test_" });
    try {
      await buildFakeDeb(dir);
      const dest = `${dir}/photos`;
      const m = await fetchPhotoSet({
        dest,
        packages: [FAKE],
        maxSide: 120,
        debDir: `${dir}/debs`,
      });
      assert.equal(m.packages[0].version, "1.2-3");
      assert.deepEqual(m.photos.map((p) => [p.id, p.width, p.height]), [["fake-wide", 120, 40], [
        "fake-small",
        40,
        30,
      ]]);
      assert.equal((await readImage(`${dest}/svrnn-fake-photos/fake-wide.png`)).width, 120);
      assert.equal(
        await Deno.readTextFile(`${dest}/svrnn-fake-photos/copyright`),
        "License: CC0-1.0\n",
      );
      assert.deepEqual(await verifyPhotoSet(dest), { photos: 2, problems: [] });
      const list = await listPhotos(dest, FIX);
      assert.equal(list.source, "photos");
      assert.deepEqual(list.photos.map((p) => p.id), ["fake-small", "fake-wide"]);
      // a damaged file is reported
      await Deno.writeFile(`${dest}/svrnn-fake-photos/fake-small.png`, new Uint8Array([0]));
      assert.deepEqual((await verifyPhotoSet(dest)).problems, [
        `checksum differs: ${dest}/svrnn-fake-photos/fake-small.png`,
      ]);
      // a listed file the package lacks is named
      const lacking = {
        ...FAKE,
        files: [...FAKE.files, { ...FAKE.files[0], id: "x", path: "usr/share/fake/gone.jpg" }],
      };
      await assert.rejects(
        () => fetchPhotoSet({ dest: `${dir}/p2`, packages: [lacking], debDir: `${dir}/debs` }),
        /svrnn-fake-photos .* lacks 1 expected file\(s\): usr\/share\/fake\/gone\.jpg/,
      );
      await assert.rejects(
        () =>
          fetchPhotoSet({
            dest: `${dir}/p3`,
            packages: [{ ...FAKE, package: "absent-pkg" }],
            debDir: `${dir}/debs`,
          }),
        /no absent-pkg_\*\.deb file in/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("without a fetched photo set the kit falls back to the fixtures", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const list = await listPhotos(`${dir}/photos`, FIX);
    assert.equal(list.source, "fixtures");
    assert.deepEqual(list.photos.map((p) => p.id), [...SHARP_FIXTURES].sort());
    await assert.rejects(
      () => verifyPhotoSet(`${dir}/photos`),
      /no photo set in .*run `deno task data --dest .*\/photos`/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("photo set description: 43 photos, unique ids, a licence and author for each", () => {
  const files = PHOTO_SET.flatMap((p) => p.files);
  assert.equal(files.length, 43);
  assert.equal(new Set(files.map((f) => f.id)).size, 43);
  assert.ok(files.every((f) => f.license && f.author && f.path && !f.path.startsWith("/")));
});

Deno.test("fixtures: every listed fixture exists, total under 5 MB, licences listed", async () => {
  let total = 0;
  for await (const e of Deno.readDir(FIX)) {
    if (e.isFile) total += (await Deno.stat(`${FIX}/${e.name}`)).size;
  }
  for await (const e of Deno.readDir(`${FIX}/golden`)) {
    total += (await Deno.stat(`${FIX}/golden/${e.name}`)).size;
  }
  assert.ok(total < 5 * 1024 * 1024, `${total} bytes`);
  const lic = await Deno.readTextFile(`${FIX}/LICENSES.md`);
  for (const id of [...SHARP_FIXTURES, "clock_motion"]) {
    assert.ok(lic.includes(`| ${id}.png |`), id);
  }
});
