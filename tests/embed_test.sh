#!/usr/bin/env bash
# Installs onnxc into a scratch folder, builds examples/embed.c against it
# through pkg-config, and runs it on a committed fixture model.
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

meson install -C "$build" --no-rebuild --destdir "$work/root" >/dev/null
pc=$(find "$work/root" -name onnxc.pc | head -n 1)
[ -n "$pc" ] || { echo "onnxc.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$work/root
cflags=$(pkg-config --cflags onnxc)
libs=$(pkg-config --libs onnxc)
echo "pkg-config: $cflags $libs"
libso=$(find "$work/root" -name 'libonnxc.so' | head -n 1)
# A sanitizer build of the library needs the example built with the same runtime.
sanitize=()
# (Not `ldd | grep -q`: grep may quit before ldd has written everything, and
# with pipefail ldd's failed write makes the test false.)
if [[ $(ldd "$libso") == *libasan* ]]; then sanitize=(-fsanitize=address,undefined); fi
cc -std=c11 -Wall -Wextra -Werror "${sanitize[@]}" $cflags -o "$work/embed" "$src/examples/embed.c" $libs
lines=$(wc -l < "$src/examples/embed.c")
[ "$lines" -lt 60 ] || { echo "examples/embed.c has $lines lines (limit: under 60)"; exit 1; }

model=$(ls -d "$src"/fixtures/*/model.onnx 2>/dev/null | head -n 1)
[ -n "$model" ] || { echo "no fixture model to run"; exit 77; }
libdir=$(dirname "$libso")
LD_LIBRARY_PATH=$libdir "$work/embed" "$model" | tee "$work/out.txt"
grep -q "output" "$work/out.txt"
