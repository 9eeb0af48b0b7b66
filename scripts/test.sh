#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, the example and
# fixture policies built from source, unit tests and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
        rustup component add "$component"
    fi
done

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo deny (bans, licenses, sources)"
# Advisories need the RustSec database from GitHub, which CI cannot reach.
deny=target/tools/bin/cargo-deny
if [ ! -x "$deny" ] || [ "$("$deny" --version | awk '{print $2}')" != "0.20.2" ]; then
    cargo install --quiet --locked cargo-deny@0.20.2 --root target/tools
fi
# cargo-deny reads `cargo metadata` for every platform; fetch every locked
# crate first (a no-op when present) so that --offline finds them all.
cargo fetch --locked --quiet
"$deny" --offline --log-level error check bans licenses sources

echo "== build policies (wasm32-wasip2)"
bash scripts/build-policies.sh

echo "== cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
wasm_packages=()
for manifest in example-policies/*/Cargo.toml tests/fixtures/*/Cargo.toml; do
    [ -e "$manifest" ] || continue
    wasm_packages+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)")
done
cargo clippy --quiet --target wasm32-wasip2 -p gatehouse-sdk "${wasm_packages[@]}" -- -D warnings

echo "== build gatehouse and the tests"
# The end-to-end tests run target/debug/gatehouse. Built together with the
# test targets, it shares their feature resolution (dev-dependencies turn on
# features of shared crates such as serde_json and anyhow); a separate
# `cargo build -p gatehouse` resolves without them and compiles wasmtime and
# everything under it a second time (~10 minutes of CI on 2 cores).
cargo build --quiet --workspace --bins --tests

echo "== cargo test"
cargo test --workspace
