#!/usr/bin/env bash
# Builds the example and test fixture policies into WebAssembly components
# (wasm32-wasip2):
#   - every Rust example policy (example-policies/<dir>/Cargo.toml) to
#     target/policies/<name>.wasm (world gatehouse:policy@0.2.0) and to
#     target/policies-0.1/<name>.wasm (@0.1.0), and every Rust test fixture policy
#     (tests/fixtures/<dir>/Cargo.toml) to target/test-policies/<name>.wasm;
#   - every Python example policy (example-policies/<dir>/app.py) to
#     target/policies/<dir>.wasm with componentize-py (installed into
#     target/tools/ by scripts/install-tools.sh), then every JavaScript example
#     policy (example-policies/<dir>/policy.js) the same way with
#     componentize-js, then every C example policy (example-policies/<dir>/policy.c)
#     with clang 14 and tools/wasm-c-build; all of them against wit/0.2.0
#     (gatehouse:policy@0.2.0).
#
# Usage: build-policies.sh [--rust-only | --rust-examples]
#   (no option)      everything above (scripts/test.sh, CI)
#   --rust-only      the Rust example and fixture policies only: needs nothing
#                    but rustup and cargo (no Python, Node, clang or apt-get)
#   --rust-examples  the Rust example policies only (scripts/quickstart.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

fixtures=yes twins=yes
case ${1-} in
    "") ;;
    --rust-only) twins=no ;;
    --rust-examples) twins=no fixtures=no ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
        exit 0
        ;;
    *)
        echo "build-policies.sh: unknown option '$1'; expected --rust-only, --rust-examples or nothing (see --help)" >&2
        exit 3
        ;;
esac
if [ $# -gt 1 ]; then
    echo "build-policies.sh: expected at most one option, got $#: $*" >&2
    exit 3
fi

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

# Where cargo puts its output (CARGO_TARGET_DIR or build.target-dir may move
# it); the components are copied from there into this repository's target/.
cargo_target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$cargo_target" ] || cargo_target=target

build_dir() {
    local src_root=$1 out_dir=$2
    shift 2
    local packages=() names=()
    for manifest in "$src_root"/*/Cargo.toml; do
        [ -e "$manifest" ] || continue
        local name
        name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)
        packages+=(-p "$name")
        names+=("$name")
    done
    [ ${#names[@]} -gt 0 ] || return 0
    cargo build --quiet --profile policy --target wasm32-wasip2 "${packages[@]}" "$@"
    mkdir -p "$out_dir"
    for name in "${names[@]}"; do
        cp "$cargo_target/wasm32-wasip2/policy/${name//-/_}.wasm" "$out_dir/$name.wasm"
    done
    echo "built ${#names[@]} policies into $out_dir: ${names[*]}"
}

build_dir example-policies target/policies
# The same Rust examples for the gatehouse:policy@0.1.0 world (the SDK's
# feature `wit-0-1`): tests/tests/world_versions.rs checks that both builds
# give identical verdicts and reasons, and that the host still runs 0.1.0.
build_dir example-policies target/policies-0.1 --features gatehouse-sdk/wit-0-1
if [ "$fixtures" = yes ]; then
    build_dir tests/fixtures target/test-policies
fi
if [ "$twins" = no ]; then
    exit 0
fi

# Python policies: `example-policies/<dir>/app.py` implements the `policy` world
# of gatehouse:policy@0.2.0 (the Python SDK reads the release through the
# borrowed handle); componentize-py generates the bindings from wit/0.2.0 at
# build time and bundles a CPython interpreter (~18 MB, 10-20 s per policy), so
# a policy is rebuilt only when a Python file in its directory or in the Python
# SDK (sdk-python/), a WIT file, or componentize-py itself (a new pin) is newer
# than its component.
build_python() {
    local apps=(example-policies/*/app.py)
    [ -e "${apps[0]}" ] || return 0
    bash scripts/install-tools.sh
    local root=$PWD
    local componentize=$root/target/tools/venv/bin/componentize-py
    mkdir -p target/policies
    local app dir name out built=() fresh=()
    for app in "${apps[@]}"; do
        dir=$(dirname "$app")
        name=$(basename "$dir")
        out=target/policies/$name.wasm
        if [ -e "$out" ] && [ -z "$(find "$dir" sdk-python/gatehouse_sdk wit "$componentize" -newer "$out" \( -name '*.py' -o -name '*.wit' -o -name componentize-py \) -not -path '*/__pycache__/*' | head -n 1)" ]; then
            fresh+=("$name")
            continue
        fi
        echo "componentize-py: building $app into $out"
        # Build to a temporary file so an interrupted build never looks fresh.
        # VIRTUAL_ENV is cleared so an activated venv does not join the Python path.
        # `-p sdk-python`: the Python SDK (gatehouse_sdk), beside the policy's own directory.
        (cd "$dir" && env -u VIRTUAL_ENV "$componentize" --quiet -d "$root/wit/0.2.0" -w policy \
            componentize -p . -p "$root/sdk-python" app -o "$root/$out.tmp")
        mv "$out.tmp" "$out"
        built+=("$name")
    done
    if [ ${#built[@]} -gt 0 ]; then
        echo "built ${#built[@]} Python policies into target/policies: ${built[*]}"
    fi
    if [ ${#fresh[@]} -gt 0 ]; then
        echo "up to date: ${#fresh[@]} Python policies in target/policies: ${fresh[*]}"
    fi
}

build_python

# JavaScript policies: `example-policies/<dir>/policy.js` implements the
# `policy` world of gatehouse:policy@0.2.0 (the SDK reads the release through
# the borrowed handle); componentize-js (pinned by
# scripts/js-tools/package-lock.json, installed into target/tools/js) splices
# bindings generated from wit/0.2.0/ into a SpiderMonkey engine and
# pre-initialises it with the module and what it imports, such as the
# JavaScript SDK in sdk-js/ (~12 MB, ~10 s).
# Every WASI feature is disabled (`-d ...`): the component imports only
# `gatehouse:policy`. A policy is rebuilt only when a JavaScript file in its
# directory or in the SDK (sdk-js/), a WIT file, or the installed tools (a new
# lock file) changed.
JS_DISABLED_FEATURES=(stdio random clocks http fetch-event)
build_js() {
    local sources=(example-policies/*/policy.js)
    [ -e "${sources[0]}" ] || return 0
    bash scripts/install-tools.sh >/dev/null
    local root=$PWD
    local componentize=$root/target/tools/js/node_modules/.bin/componentize-js
    local stamp=$root/target/tools/js/installed-package-lock.json
    mkdir -p target/policies
    local source dir name out built=() fresh=()
    for source in "${sources[@]}"; do
        dir=$(dirname "$source")
        name=$(basename "$dir")
        out=target/policies/$name.wasm
        if [ -e "$out" ] && [ -z "$(find "$dir" sdk-js wit "$stamp" -newer "$out" \( -name '*.js' -o -name '*.mjs' -o -name '*.wit' -o -name installed-package-lock.json \) -not -path '*/node_modules/*' | head -n 1)" ]; then
            fresh+=("$name")
            continue
        fi
        echo "componentize-js: building $source into $out"
        # Build to a temporary file (named for this process, so that two builds
        # at once do not collide) so an interrupted build never looks fresh.
        # Run in the repository root with the absolute source path: componentize-js
        # then maps the root into the engine, so the policy's relative import of
        # the JavaScript SDK (../../sdk-js/index.js) resolves.
        "$componentize" "$root/$source" --wit "$root/wit/0.2.0" --world-name policy \
            --disable "${JS_DISABLED_FEATURES[@]}" --out "$root/$out.$$.tmp"
        mv "$out.$$.tmp" "$out"
        built+=("$name")
    done
    if [ ${#built[@]} -gt 0 ]; then
        echo "built ${#built[@]} JavaScript policies into target/policies: ${built[*]}"
    fi
    if [ ${#fresh[@]} -gt 0 ]; then
        echo "up to date: ${#fresh[@]} JavaScript policies in target/policies: ${fresh[*]}"
    fi
}

build_js

# C policies: `example-policies/<dir>/policy.c` implements the `policy` world of
# gatehouse:policy@0.2.0 against wit-bindgen's C bindings (generated from
# wit/0.2.0/ into target/c-build/bindings by tools/wasm-c-build). Debian's clang 14 compiles it
# for wasm32-wasi (WASI preview 1; clang 14 has no wasip2 target) with
# wasi-libc, and wasm-c-build turns the core module into a component with the
# WASI preview-1 adapter (only what the module uses is kept: the example policy
# imports no WASI at all). A policy is rebuilt only when a C file in its
# directory, a WIT file, or the build tool changed.
C_FLAGS=(--target=wasm32-wasi -Os -std=c11)
C_WARNINGS=(-Wall -Wextra -Wpedantic -Wconversion -Wno-sign-conversion -Wshadow -Werror)
build_c() {
    local sources=(example-policies/*/policy.c)
    [ -e "${sources[0]}" ] || return 0
    bash scripts/install-tools.sh >/dev/null
    local tool=target/debug/wasm-c-build work=target/c-build
    local bindings=$work/bindings
    mkdir -p target/policies
    local source dir name out obj built=() fresh=()
    for source in "${sources[@]}"; do
        dir=$(dirname "$source")
        name=$(basename "$dir")
        out=target/policies/$name.wasm
        if [ -e "$out" ] && [ -z "$(find "$dir" wit "$tool" -newer "$out" \( -name '*.c' -o -name '*.h' -o -name '*.wit' -o -name wasm-c-build \) | head -n 1)" ]; then
            fresh+=("$name")
            continue
        fi
        echo "clang-14: building $source into $out"
        "$tool" bindgen wit/0.2.0 policy "$bindings"
        obj=$work/$name
        mkdir -p "$obj"
        # The policy's own sources with every warning an error; the generated
        # bindings (not ours to fix) without -Wpedantic.
        clang-14 "${C_FLAGS[@]}" "${C_WARNINGS[@]}" -I "$bindings" -c "$source" -o "$obj/policy.o"
        clang-14 "${C_FLAGS[@]}" -Wall -Wextra -Werror -I "$bindings" -c "$bindings/policy.c" -o "$obj/bindings.o"
        # The component type object tells wit-component the world; keep it, strip debug info.
        # A reactor (a library: no `main`, exports called by the host).
        clang-14 "${C_FLAGS[@]}" -mexec-model=reactor -Wl,--strip-debug -o "$obj/core.wasm" \
            "$obj/policy.o" "$obj/bindings.o" "$bindings/policy_component_type.o"
        # Build to a temporary file so an interrupted build never looks fresh.
        "$tool" componentize "$obj/core.wasm" "$out.tmp"
        mv "$out.tmp" "$out"
        built+=("$name")
    done
    if [ ${#built[@]} -gt 0 ]; then
        echo "built ${#built[@]} C policies into target/policies: ${built[*]}"
    fi
    if [ ${#fresh[@]} -gt 0 ]; then
        echo "up to date: ${#fresh[@]} C policies in target/policies: ${fresh[*]}"
    fi
}

build_c
