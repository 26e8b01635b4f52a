/**
 * The real-photo sets, as data: which Debian package holds which photographs, under which
 * licence, by whom. `deno task data` (lib/data/photos_fetch.ts) downloads the packages,
 * verifies that every file listed here is present and decodes, copies each package's
 * copyright file beside the photos and writes downscaled PNGs plus a manifest.
 *
 * Sources: docs/data.md#real-images-and-video. Licences are as stated by the package's
 * own files (the Debian copyright file, or a licence file shipped beside the images).
 *
 * Browser-compatible (pure data).
 */

export interface PhotoFile {
  /** Stable id used for file names and for the benchmark split, e.g. "lomiri-bridge". */
  id: string;
  /** Path inside the package (as extracted by dpkg-deb -x), without a leading slash. */
  path: string;
  author: string;
  license: string;
}

export interface PhotoPackage {
  /** Debian package name. */
  package: string;
  /** Path of the package's copyright file inside the package. */
  copyright: string;
  /** Extra licence files to keep beside the copyright file. */
  extraLicenseFiles?: string[];
  /** A note on where the licence statement comes from. */
  licenseNote: string;
  files: PhotoFile[];
}

const LOMIRI = "usr/share/backgrounds";
const lomiri = (name: string, id: string, author: string, license: string): PhotoFile => ({
  id: `lomiri-${id}`,
  path: `${LOMIRI}/${name}`,
  author,
  license,
});

const TUX = "usr/share/tuxpaint/templates";
const TUX_NAMES = [
  "burnt_bark",
  "cliff",
  "corn_maze",
  "jellyfish",
  "lighthouse",
  "mossy_bark",
  "mossy_log",
  "mudstone",
  "ocean_splash",
  "ocean_waves",
  "redwoods_above",
  "rocks",
  "sheep",
  "spiders_web",
  "sun_behind_clouds",
  "sun_behind_leaves",
  "trees_above",
  "trees_at_dusk",
  "wool_mill_machine",
];

const LXQT = "usr/share/lxqt/wallpapers";
const lxqt = (name: string, author: string): PhotoFile => ({
  id: `lxqt-${name.replace(/\.[a-z]+$/, "").toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
  path: `${LXQT}/${name}`,
  author,
  license: "CC-BY-SA-3.0",
});
const STEFONARCH = "stefonarch (LXQt Project Team)";

/** The larger redistributable set: 13 + 19 + 11 = 43 photographs. */
export const PHOTO_SET: PhotoPackage[] = [
  {
    package: "lomiri-wallpapers-16.04",
    copyright: "usr/share/doc/lomiri-wallpapers-16.04/copyright",
    licenseNote: "per-file licences from the package's Debian copyright file",
    files: [
      lomiri("Bridge_by_Sander_Klootwijk.jpg", "bridge", "Sander Klootwijk", "CC-BY-SA-4.0"),
      lomiri("Dragonfly_by_Bolly.jpg", "dragonfly", '"Bolly"', "CC-BY-SA-4.0"),
      lomiri("Picture_0B_by_freespace.jpg", "picture-0b", 'Trevor "Freespace"', "CC-BY-4.0"),
      lomiri("Picture_1A_by_freespace.jpg", "picture-1a", 'Trevor "Freespace"', "CC-BY-4.0"),
      lomiri("Wine_by_Jakkub_Mede.jpg", "wine", "Jakub Mede", "CC-BY-4.0"),
      lomiri("aitzgorri_by_Aitzol_Berasategi.jpg", "aitzgorri", "Aitzol Berasategi", "CC-BY-4.0"),
      lomiri("free_by_Peter_Nerlich.jpg", "free", "Peter Nerlich", "CC-BY-SA-4.0"),
      lomiri("friends_by_Aitzol_Berasategi.jpg", "friends", "Aitzol Berasategi", "CC-BY-4.0"),
      lomiri("greentock_by_Peter_Nerlich.jpg", "greentock", "Peter Nerlich", "CC-BY-SA-4.0"),
      lomiri("life_by_Aitzol_Berasategi.jpg", "life", "Aitzol Berasategi", "CC-BY-4.0"),
      lomiri(
        "picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "picosdeeuropa",
        "Aitzol Berasategi",
        "CC-BY-4.0",
      ),
      lomiri("seeding_by_Clements_Engelhardt.jpg", "seeding", "Clemens Engelhardt", "CC0-1.0"),
      lomiri("sunset_by_Aitzol_Berasategi.jpg", "sunset", "Aitzol Berasategi", "CC-BY-4.0"),
      // not photographs, left out: analogpattern_by_Peter_Nerlich.jpg, umang_by_Abhishek_Mudgal.jpg
    ],
  },
  {
    package: "tuxpaint-data",
    copyright: "usr/share/doc/tuxpaint-data/copyright",
    licenseNote: "Debian copyright file, Files: * (Bill Kendrick and Tux Paint contributors)",
    files: TUX_NAMES.map((n) => ({
      id: `tuxpaint-${n.replace(/_/g, "-")}`,
      path: `${TUX}/${n}.jpg`,
      author: "Bill Kendrick and Tux Paint contributors",
      license: "GPL-2+",
    })),
  },
  {
    package: "lxqt-themes",
    copyright: "usr/share/doc/lxqt-themes/copyright",
    extraLicenseFiles: [`${LXQT}/License`],
    licenseNote:
      "CC-BY-SA-3.0 per usr/share/lxqt/wallpapers/License shipped with the images (the Debian " +
      "copyright file covers them under Files: * as LGPL-2.1+, LXQt team)",
    files: [
      lxqt("Butterfly-Kenneth-Wimer.jpg", "Kenneth Wimer (LXQt Project Team)"),
      lxqt("after-the-rain.jpg", STEFONARCH),
      lxqt("fog.jpg", STEFONARCH),
      lxqt("this-is-not-windows.jpg", STEFONARCH),
      lxqt("Valendas.png", "LXQt Project Team"),
      lxqt("appleflower.png", STEFONARCH),
      lxqt("beam.png", STEFONARCH),
      lxqt("butterfly.png", STEFONARCH),
      lxqt("cloud.png", "LXQt Project Team"),
      lxqt("drop.png", STEFONARCH),
      lxqt("flowers.png", STEFONARCH),
    ],
  },
];

/**
 * Where the committed fixtures (data/fixtures/*.png) come from: CC0 / public-domain images.
 * `deno task data fixtures` regenerates them (downscaled to FIXTURE_MAX_SIDE).
 */
export const FIXTURE_MAX_SIDE = 384;
const SK = "usr/lib/python3/dist-packages/skimage/data";
export const FIXTURE_SOURCES: PhotoPackage[] = [
  {
    package: "python3-skimage",
    copyright: "usr/share/doc/python3-skimage/copyright",
    licenseNote:
      "licence statements in the docstrings of skimage/data/_fetchers.py (scikit-image's " +
      "data module), quoted in data/fixtures/LICENSES.md",
    files: [
      {
        id: "astronaut",
        path: `${SK}/astronaut.png`,
        author: "NASA (Eileen Collins portrait)",
        license: "public domain",
      },
      {
        id: "chelsea",
        path: `${SK}/chelsea.png`,
        author: "Stefan van der Walt",
        license: "CC0",
      },
      { id: "coffee", path: `${SK}/coffee.png`, author: "Rachel Michetti", license: "CC0" },
      {
        id: "rocket",
        path: `${SK}/rocket.jpg`,
        author: "SpaceX (DSCOVR launch on Falcon 9)",
        license: "public domain",
      },
      { id: "camera", path: `${SK}/camera.png`, author: "Lav Varshney", license: "CC0" },
      {
        id: "gravel",
        path: `${SK}/gravel.png`,
        author: "CC0Textures (Gravel04)",
        license: "CC0",
      },
      {
        id: "clock_motion",
        path: `${SK}/clock_motion.png`,
        author: "Stefan van der Walt (real camera-motion blur)",
        license: "public domain",
      },
    ],
  },
  {
    package: "lomiri-wallpapers-16.04",
    copyright: "usr/share/doc/lomiri-wallpapers-16.04/copyright",
    licenseNote: "per-file licence from the package's Debian copyright file",
    files: [
      {
        id: "seeding",
        path: `${LOMIRI}/seeding_by_Clements_Engelhardt.jpg`,
        author: "Clemens Engelhardt",
        license: "CC0-1.0",
      },
    ],
  },
];

/** Fixture ids that are photographs of sharp scenes (clock_motion is itself blurred). */
export const SHARP_FIXTURES = [
  "astronaut",
  "chelsea",
  "coffee",
  "rocket",
  "camera",
  "gravel",
  "seeding",
];

/** Default longest side of prepared photos: GoPro's frame width. */
export const PHOTO_MAX_SIDE = 1280;
