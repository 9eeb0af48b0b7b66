#!/usr/bin/env bash
# Builds every Rust example policy to target/policies/<name>.wasm and every
# test fixture policy to target/test-policies/<name>.wasm (wasm32-wasip2 components).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

build_dir() {
    local src_root=$1 out_dir=$2
    local packages=() names=()
    for manifest in "$src_root"/*/Cargo.toml; do
        [ -e "$manifest" ] || continue
        local name
        name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)
        packages+=(-p "$name")
        names+=("$name")
    done
    [ ${#names[@]} -gt 0 ] || return 0
    cargo build --quiet --release --target wasm32-wasip2 "${packages[@]}"
    mkdir -p "$out_dir"
    for name in "${names[@]}"; do
        cp "target/wasm32-wasip2/release/${name//-/_}.wasm" "$out_dir/$name.wasm"
    done
    echo "built ${#names[@]} policies into $out_dir: ${names[*]}"
}

build_dir example-policies target/policies
build_dir tests/fixtures target/test-policies
