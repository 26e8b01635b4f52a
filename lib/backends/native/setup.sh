#!/bin/sh
# `deno task setup:native`: installs OpenBLAS (Debian's libopenblas0-pthread) for the
# optional "native" tfjs backend (lib/backends/native), and oneDNN (libdnnl2), which that
# backend uses for the convolutions it measured faster there (docs/backends.md). Safe to run
# again: does nothing when both libraries are already there.
set -eu

LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)

have_openblas() {
  "$LDCONFIG" -p 2>/dev/null | grep -q 'libopenblas\.so\.0'
}

have_dnnl() {
  "$LDCONFIG" -p 2>/dev/null | grep -q 'libdnnl\.so\.2'
}

where() {
  "$LDCONFIG" -p | grep -m1 "$1" | sed 's/.*=> //'
}

PACKAGES=""
if have_openblas; then
  echo "setup:native: OpenBLAS is already installed ($(where 'libopenblas\.so\.0'))"
else
  PACKAGES="libopenblas0-pthread"
fi
if have_dnnl; then
  echo "setup:native: oneDNN is already installed ($(where 'libdnnl\.so\.2'))"
else
  PACKAGES="${PACKAGES:+$PACKAGES }libdnnl2"
fi
[ -z "$PACKAGES" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  if have_openblas; then
    # Only oneDNN is missing: optional, every convolution then runs on OpenBLAS.
    echo "setup:native: apt-get is not available, so oneDNN (optional) is not installed;" \
      "with a oneDNN 2.x build elsewhere, export SVRNN_DNNL=/path/to/libdnnl.so.2" >&2
    exit 0
  fi
  cat >&2 <<'MSG'
setup:native: apt-get is not available here, so OpenBLAS cannot be installed automatically.
Install an OpenBLAS build with threads using your system's package manager, for example
  Fedora: sudo dnf install openblas-threads      Arch: sudo pacman -S openblas
  macOS:  brew install openblas
then, if the library is not on the default search path, point the kit at it:
  export SVRNN_OPENBLAS=/path/to/libopenblas.so.0
The kit runs without it (backends wasm and cpu); only --backend native needs it.
oneDNN 2.x (libdnnl.so.2) is optional on top of it: without it every convolution runs on
OpenBLAS; export SVRNN_DNNL=/path/to/libdnnl.so.2 when it is off the search path.
MSG
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup:native: not root and no sudo: run as root: apt-get install -y $PACKAGES" >&2
    # oneDNN alone is optional: without it the backend still runs.
    if have_openblas; then exit 0; else exit 1; fi
  fi
fi

echo "setup:native: installing $PACKAGES with apt-get"
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # one word per package
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES

if ! have_openblas; then
  echo "setup:native: apt-get finished but libopenblas.so.0 is still not found by ldconfig" >&2
  exit 1
fi
if ! have_dnnl; then
  echo "setup:native: libdnnl.so.2 is still not found by ldconfig; convolutions stay on OpenBLAS" >&2
fi
echo "setup:native: done; use it with --backend native (or SVRNN_BACKEND=native)"
