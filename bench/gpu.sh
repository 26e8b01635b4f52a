#!/usr/bin/env bash
# The kit's GPU run, ready for a Linux x86-64 machine with an NVIDIA GPU and no network
# (docs/backends.md#the-gpu-run). Two steps:
#
#   bash bench/gpu.sh pack       here, with network: fills .gpu/ (git-ignored), then copy the
#                                working tree with .gpu/ in it to the GPU machine
#   bash bench/gpu.sh [--quick] [--budget-min M] [--out FILE]
#                                there: measures, trains, writes one JSON (results/bench/gpu.json,
#                                or $OUT/gpu.json when $OUT is set) within M minutes (default 8)
#
# .gpu/ as packed on 2026-12-04 (Deno 2.9.6): deno.xz 28.4 MiB (the 96 MB binary, xz -9),
# node_modules.tar.xz 1.1 MiB (the npm files the run reads), deb/ 0.4 MiB (the Vulkan loader and
# the GL dispatch libraries), 29.8 MiB in all; with the working tree (27.6 MiB) 57.4 MiB travel.
#
# Why each piece travels: the GPU machine has no Deno and no npm registry, and its image may
# lack the Vulkan loader (libvulkan.so.1) that Deno's WebGPU opens; Debian's packages unpacked
# into / are what is known to work there. --quick runs the same phases at tiny sizes on Mesa's
# software adapter (llvmpipe), on a machine without a GPU, with or without .gpu/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PACK=.gpu
START_MS=$(($(date +%s%N) / 1000000))

say() { echo "bench/gpu.sh: $*" >&2; }
die() {
  say "error: $*"
  exit 2
}

# xz or, where the image has no xz, Python's lzma (the GPU image has python3).
unxz_to() {
  if command -v xz >/dev/null; then
    xz -dc "$1" >"$2"
  else
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}

untar_xz() {
  if command -v xz >/dev/null; then
    tar -xJf "$1"
  else
    python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall(".")' "$1"
  fi
}

# The npm files the GPU run reads: the tfjs packages' Node bundles and wasm binaries, every
# other runtime package whole less maps and typings, and of the build-time packages (the wasm
# kernel compiler, plotly, typings) only package.json, which Deno reads to check the folder.
node_module_files() {
  find node_modules \( -type d -o -type l \) -print
  find node_modules -type f \( -name package.json -o -name '.*' \) -print
  find node_modules/.deno -type f -path 'node_modules/.deno/@tensorflow+*/dist/*' \
    ! -path '*/dist/*/*' \( -name '*.node.js' -o -name '*.wasm' -o -name '*.worker.js' \) -print
  find node_modules/.deno -mindepth 1 -maxdepth 1 -type d \
    ! -name '@tensorflow+*' ! -name '@types+*' ! -name '@webgpu+*' ! -name 'binaryen@*' \
    ! -name 'assemblyscript@*' ! -name 'plotly.js-dist-min@*' ! -name 'core-js@*' \
    ! -name 'undici-types@*' ! -name node_modules -print |
    while read -r d; do
      find "$d" -type f ! -name '*.map' ! -name '*.d.ts' ! -name '*.d.mts' ! -name '*.d.cts' \
        ! -name '*.md' ! -name package.json ! -name '.*' -print
    done
}

# What travels of the checkout: tracked files that exist, and untracked ones git does not ignore.
tree_files() {
  (git ls-files -z; git ls-files -z -o --exclude-standard) | sort -zu |
    while IFS= read -r -d '' f; do if [ -f "$f" ]; then printf '%s\0' "$f"; fi; done
}

mib() { awk -v b="$(du -sb "$1" | cut -f1)" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

pack() {
  local deno_bin
  deno_bin="$(readlink -f "$(command -v deno)")" || die "no deno on PATH"
  mkdir -p "$PACK/deb"
  local version
  version="$("$deno_bin" --version | sed -n 1p)"
  # xz -9 of 96 MB takes about two minutes on one core: only redone for another Deno.
  if [ ! -f "$PACK/deno.xz" ] || [ "$(cat "$PACK/deno.version" 2>/dev/null)" != "$version" ]; then
    say "compressing $deno_bin ($version)"
    nice -n 10 xz -9 -T1 -c "$deno_bin" >"$PACK/deno.xz.tmp"
    mv "$PACK/deno.xz.tmp" "$PACK/deno.xz"
    echo "$version" >"$PACK/deno.version"
  fi

  say "installing the npm packages into node_modules/ (deno install)"
  # (Its warning about core-js's ignored build script is noise: the run never loads core-js.)
  deno install >/dev/null 2>&1 || die "deno install failed"
  # Every entry point of the run, so packages Deno fetches only on first import are there too.
  deno cache lib/cli/bench_gpu.ts lib/cli/train.ts lib/cli/eval.ts lib/cli/data.ts >/dev/null 2>&1 ||
    die "deno cache of the entry points failed"
  say "packing node_modules/"
  local list
  list="$(mktemp /tmp/svrnn-gpu-files.XXXXXX)"
  node_module_files | sort -u >"$list"
  tar --no-recursion --hard-dereference -cf - -T "$list" | nice -n 10 xz -9 -T1 \
    >"$PACK/node_modules.tar.xz"
  rm -f "$list" "$PACK/node_modules.list"

  # The loader, and the GL dispatch libraries listed with it for NVIDIA's Vulkan and EGL (its
  # ICD, libGLX_nvidia, is a GLVND vendor library); amd64 whatever this machine is.
  say "downloading the Vulkan loader packages"
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/svrnn-amd64-lists
    -oAPT::Sandbox::User=root)
  mkdir -p /tmp/svrnn-amd64-lists/partial
  apt-get "${o[@]}" update -qq
  rm -f "$PACK"/deb/*.deb
  (cd "$PACK/deb" && apt-get "${o[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 \
    libgl1 libglx0 libgles2)

  # A copied tree has no .git: the run reads the commit from here.
  local commit dirty
  commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
  dirty=false
  [ -n "$(git status --porcelain --untracked-files=no -- . ':(exclude)results' ':(exclude)notebooks' 2>/dev/null)" ] && dirty=true
  printf '{"commit": "%s", "dirty": %s, "packedAt": "%s", "deno": "%s"}\n' \
    "$commit" "$dirty" "$(date -u +%FT%TZ)" "$version" >"$PACK/source.json"

  selfcheck
  local tree
  tree=$(tree_files | xargs -0 stat -c %s | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }')
  say "packed: deno.xz $(mib "$PACK/deno.xz"), node_modules.tar.xz $(mib "$PACK/node_modules.tar.xz"), deb/ $(mib "$PACK/deb"); .gpu/ $(mib "$PACK") in all"
  say "the working tree beside it: $tree MiB (tracked and untracked, not ignored)"
  awk -v t="$tree" -v p="$(du -sb "$PACK" | cut -f1)" 'BEGIN { if (t + p / 1048576 > 64) exit 1 }' ||
    say "warning: tree and .gpu/ together exceed 64 MiB"
}

# The packed Deno and node_modules alone, in a scratch copy of the tree with an empty Deno cache
# and, where unshare works, no network: each entry point must load.
selfcheck() {
  local tmp
  tmp="$(mktemp -d /tmp/svrnn-gpu-check.XXXXXX)"
  tree_files | tar --null -cf - -T - | tar -xf - -C "$tmp"
  (cd "$tmp" && untar_xz "$ROOT/$PACK/node_modules.tar.xz")
  unxz_to "$PACK/deno.xz" "$tmp/.deno-bin"
  chmod +x "$tmp/.deno-bin"
  local net=()
  unshare -n true 2>/dev/null && net=(unshare -n)
  local f
  for f in lib/cli/bench_gpu.ts lib/cli/train.ts lib/cli/eval.ts lib/cli/data.ts; do
    (cd "$tmp" && DENO_DIR="$tmp/.deno-dir" DENO_NO_UPDATE_CHECK=1 "${net[@]}" \
      ./.deno-bin run -A --cached-only "$f" --help >/dev/null) ||
      { rm -rf "$tmp"; die "self-check: $f does not load from the packed node_modules"; }
  done
  rm -rf "$tmp"
  say "self-check: the entry points load offline from the packed node_modules"
}

if [ "${1:-}" = pack ]; then
  shift
  pack "$@"
  exit 0
fi

quick=false
budget=""
out=""
prev=""
for a in "$@"; do
  case "$prev" in
  --budget-min) budget="$a" ;;
  --out) out="$a" ;;
  esac
  case "$a" in
  --quick) quick=true ;;
  --budget-min=*) budget="${a#*=}" ;;
  --out=*) out="${a#*=}" ;;
  esac
  prev="$a"
done
args=("$@")
if [ -z "$out" ]; then
  if [ -n "${OUT:-}" ]; then
    out="$OUT/gpu.json"
    args+=(--out "$out")
  elif $quick; then
    out=runs/gpu-quick/gpu.json
  else
    out=results/bench/gpu.json
  fi
fi
[ -n "$budget" ] || budget=$($quick && echo 4 || echo 8)

DENO=deno
deno_flags=()
# The kit's V8 flags, as deno.json's tasks set them (lib/backends/v8_flags.ts says why).
export DENO_V8_FLAGS=--no-maglev
offline=()
if [ -f "$PACK/deno.xz" ]; then
  DENO="${TMPDIR:-/tmp}/svrnn-gpu/deno"
  if [ ! -x "$DENO" ] || [ "$PACK/deno.xz" -nt "$DENO" ]; then
    mkdir -p "$(dirname "$DENO")"
    unxz_to "$PACK/deno.xz" "$DENO.tmp"
    chmod +x "$DENO.tmp"
    mv "$DENO.tmp" "$DENO"
  fi
  deno_flags=(--cached-only)
  offline=(--offline)
elif ! command -v deno >/dev/null; then
  die "no deno: run 'bash bench/gpu.sh pack' where Deno is installed, and copy .gpu/ along"
fi

if [ ! -d node_modules/.deno ] && [ -f "$PACK/node_modules.tar.xz" ]; then
  untar_xz "$PACK/node_modules.tar.xz"
fi

if ! $quick; then
  # grep without -q reads all of ldconfig's output: with pipefail, -q's early exit would read
  # as a missing loader.
  if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
    if compgen -G "$PACK/deb/*.deb" >/dev/null; then
      say "no Vulkan loader here: unpacking $PACK/deb/*.deb into /"
      for f in "$PACK"/deb/*.deb; do dpkg -x "$f" /; done
      ldconfig
    else
      say "warning: no libvulkan.so.1 and no $PACK/deb/: WebGPU will find no adapter"
    fi
  fi
  # The driver's ICD sits outside the loader's search path on the GPU machines seen so far.
  nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nv" ] &&
    ! compgen -G "/usr/share/vulkan/icd.d/nvidia*" >/dev/null &&
    ! compgen -G "/etc/vulkan/icd.d/nvidia*" >/dev/null; then
    export VK_DRIVER_FILES="$nv"
  fi
  # wgpu would also offer a GL adapter; the run is about the Vulkan one.
  export DENO_WEBGPU_BACKEND="${DENO_WEBGPU_BACKEND:-vulkan}"
fi

export DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
# A backstop past the run's own deadline, for a GPU call that never returns.
limit=$(awk -v b="$budget" 'BEGIN { printf "%d", b * 60 + 60 }')
log="${out%.json}.log"
mkdir -p "$(dirname "$log")"
say "$("$DENO" --version | sed -n 1p); log $log"
set +e
timeout --kill-after=10 "$limit" "$DENO" run -A "${deno_flags[@]}" lib/cli/bench_gpu.ts \
  --started-at "$START_MS" "${offline[@]}" "${args[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 124 ] && say "error: the run outlived its budget by a minute and was stopped"
exit "$rc"
