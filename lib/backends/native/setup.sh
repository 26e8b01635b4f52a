#!/bin/sh
# `deno task setup:native`: installs OpenBLAS (Debian's libopenblas0-pthread) for the
# optional "native" tfjs backend (lib/backends/native). Safe to run again: does nothing when the
# library is already there.
set -eu

LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)

have_openblas() {
  "$LDCONFIG" -p 2>/dev/null | grep -q 'libopenblas\.so\.0'
}

if have_openblas; then
  echo "setup:native: OpenBLAS is already installed ($("$LDCONFIG" -p | grep -m1 'libopenblas\.so\.0' | sed 's/.*=> //'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<'MSG'
setup:native: apt-get is not available here, so OpenBLAS cannot be installed automatically.
Install an OpenBLAS build with threads using your system's package manager, for example
  Fedora: sudo dnf install openblas-threads      Arch: sudo pacman -S openblas
  macOS:  brew install openblas
then, if the library is not on the default search path, point the kit at it:
  export SVRNN_OPENBLAS=/path/to/libopenblas.so.0
The kit runs without it (backends wasm and cpu); only --backend native needs it.
MSG
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup:native: not root and no sudo: run as root: apt-get install -y libopenblas0-pthread" >&2
    exit 1
  fi
fi

echo "setup:native: installing libopenblas0-pthread with apt-get"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread

if have_openblas; then
  echo "setup:native: done; use it with --backend native (or SVRNN_BACKEND=native)"
else
  echo "setup:native: apt-get finished but libopenblas.so.0 is still not found by ldconfig" >&2
  exit 1
fi
