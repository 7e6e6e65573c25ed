#!/usr/bin/env bash
# Installs the pinned prebuilt llama.cpp CPU libraries that lore's engine loads.
# The libraries come from the npm package @node-llama-cpp/linux-x64 (fetched with
# `npm pack`; Node.js is not needed at run time) and are verified against the
# checksum recorded below before anything is unpacked. It also installs a C
# compiler (gcc, for cgo) and Neovim and Emacs (with eglot), for the editor
# packages' tests, when missing.
set -euo pipefail

PKG="@node-llama-cpp/linux-x64"
VERSION="3.22.1"
TARBALL="node-llama-cpp-linux-x64-${VERSION}.tgz"
SHA256="0d953e1503d5ab4608d8ed5b739132308c81ac05ffeb760d2a7f30e08a9f90e0"

# --libs-only: the llama.cpp libraries alone (make demo), without the editors
# the tests drive.
EDITORS=1
if [[ "${1:-}" == "--libs-only" ]]; then
  EDITORS=0
  shift
fi
DEST="${1:-third_party/llama}"
STAMP="$DEST/.installed-$VERSION"

# A C compiler: the build uses cgo (tree-sitter's parsers, and -race in the
# tests); without one, go build fails with "build constraints exclude all Go
# files". Debian's gcc is installed when no cc is found and we may use
# apt-get.
if ! command -v "${CC:-cc}" >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "deps: installing gcc (the build uses cgo) with apt-get"
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev
  else
    echo "deps: no C compiler found: install gcc (the build uses cgo; Debian: apt-get install -y gcc)" >&2
    exit 1
  fi
fi

# Neovim (Debian's neovim package) runs the Neovim plugin's end-to-end test
# (editors/nvim). Installed when missing and we may use apt-get; elsewhere
# that test skips.
if [[ $EDITORS == 1 ]] && ! command -v nvim >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "deps: installing neovim with apt-get"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq neovim
  else
    echo "deps: nvim not found; the Neovim plugin's tests will skip (Debian: apt-get install -y neovim)" >&2
  fi
fi

# Emacs with eglot runs the Emacs package's end-to-end test (editors/emacs).
# Emacs 29 and newer have eglot built in; Emacs 28 (Debian 12) needs the
# elpa-eglot package (eglot 1.9).
emacs_has_eglot() {
  emacs --batch --eval '(kill-emacs (if (locate-library "eglot") 0 1))' >/dev/null 2>&1
}
if [[ $EDITORS == 1 ]] && { ! command -v emacs >/dev/null 2>&1 || ! emacs_has_eglot; }; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    pkgs=(emacs-nox)
    if apt-cache show elpa-eglot >/dev/null 2>&1; then
      pkgs+=(elpa-eglot)
    fi
    echo "deps: installing ${pkgs[*]} with apt-get"
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  else
    echo "deps: emacs with eglot not found; the Emacs package's tests will skip (Debian: apt-get install -y emacs-nox elpa-eglot)" >&2
  fi
fi

if [[ -f "$STAMP" && -e "$DEST/libllama.so" ]]; then
  echo "deps: llama.cpp libraries $VERSION already in $DEST"
  exit 0
fi

# Debian packages: npm (to fetch the package; not needed at run time) and
# libffi8 (yzma's callbacks). Installed when missing and we may use apt-get.
missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)
ldconfig -p 2>/dev/null | grep -q 'libffi\.so\.8' || missing+=(libffi8)
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"
  else
    echo "deps: please install ${missing[*]} (Debian: apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "deps: fetching $PKG@$VERSION"
(cd "$tmp" && npm pack --silent "$PKG@$VERSION" >/dev/null)
got="$(sha256sum "$tmp/$TARBALL" | cut -d' ' -f1)"
if [[ "$got" != "$SHA256" ]]; then
  echo "deps: checksum mismatch for $TARBALL: got $got, want $SHA256" >&2
  exit 1
fi
tar -xzf "$tmp/$TARBALL" -C "$tmp"

rm -rf "$DEST"
mkdir -p "$DEST"
cp "$tmp"/package/bins/linux-x64/*.so "$DEST"/
cp "$tmp"/package/LICENSE "$DEST"/LICENSE.node-llama-cpp
# The llama.cpp release the libraries were built from (lore version shows it).
cp "$tmp"/package/bins/linux-x64/_nlcBuildMetadata.json "$DEST"/llama-build.json 2>/dev/null || true
# yzma opens exactly these names; ggml picks the CPU variant library itself.
ln -sf libllama.v0.5.0.so "$DEST/libllama.so"
ln -sf libggml.v0.5.0.so "$DEST/libggml.so"
touch "$STAMP"
echo "deps: llama.cpp libraries $VERSION installed in $DEST"
