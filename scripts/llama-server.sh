#!/usr/bin/env bash
# Builds llama.cpp's server (llama-server) for the remote engine's tests and
# benchmark, once, into a cache keyed by the version. Its source is the git
# bundle that the npm package node-llama-cpp carries (llama/gitRelease.bundle,
# the same llama.cpp release as the libraries scripts/deps.sh installs); it
# is fetched with `npm pack` from the same registry as deps.sh and verified
# against the checksum recorded below. Only the llama-server target is built,
# without native CPU tuning (the binary may run on another CPU of the same
# machine class) and without curl (lore never asks the server to download).
# A clean build takes about 15 minutes of CPU on 2 cores; later runs see the
# stamp and return at once.
set -euo pipefail

PKG="node-llama-cpp"
VERSION="3.22.1"
TARBALL="${PKG}-${VERSION}.tgz"
SHA256="a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f"

DEST="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/lore/llama-server-$VERSION}"
STAMP="$DEST/.installed-$VERSION"
JOBS="${JOBS:-2}"

if [[ -f "$STAMP" && -x "$DEST/llama-server" ]]; then
  echo "deps-server: llama-server $VERSION already in $DEST"
  exit 0
fi

# Debian packages: npm (to fetch the package), git (to clone the bundle),
# cmake and g++ (to build). Installed when missing and we may use apt-get.
missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    echo "deps-server: installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "deps-server: please install ${missing[*]} (Debian: apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "deps-server: fetching $PKG@$VERSION"
(cd "$tmp" && npm pack --silent "$PKG@$VERSION" >/dev/null)
got="$(sha256sum "$tmp/$TARBALL" | cut -d' ' -f1)"
if [[ "$got" != "$SHA256" ]]; then
  echo "deps-server: checksum mismatch for $TARBALL: got $got, want $SHA256" >&2
  exit 1
fi
tar -xzf "$tmp/$TARBALL" -C "$tmp" package/llama/gitRelease.bundle
git clone --quiet "$tmp/package/llama/gitRelease.bundle" "$tmp/src"

echo "deps-server: building llama-server with $JOBS jobs (about 15 minutes of CPU on 2 cores)"
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_TOOLS=ON >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$tmp/build" --target llama-server -j "$JOBS" >"$tmp/build.log" 2>&1 || { tail -50 "$tmp/build.log" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST"
cp "$tmp/build/bin/llama-server" "$DEST/"
cp "$tmp/src/LICENSE" "$DEST/LICENSE.llama.cpp" 2>/dev/null || true
touch "$STAMP"
echo "deps-server: llama-server $VERSION installed in $DEST"
