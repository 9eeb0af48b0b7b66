#!/usr/bin/env bash
# Quick start: builds the gatehouse binary and the six Rust example policies,
# then gates three example releases the way CI would and explains each exit
# code. Needs only Rust installed with rustup (https://rustup.rs); it adds the
# wasm32-wasip2 target when missing. No root, apt-get, Python, Node or clang
# (those are for the language twins and the full test suite, scripts/test.sh).
#
# Usage: quickstart.sh [--skip-build] [--gatehouse PATH]
#   --skip-build      build nothing: gate with the binary and the policies
#                     (target/policies/) that are already built
#   --gatehouse PATH  gate with this gatehouse binary instead of building one
#                     (the policies are still built unless --skip-build)
#
# The binary is built with the `quickstart` cargo profile (Cargo.toml): the
# fastest cold build of a binary that still compiles policies quickly; and
# without the `serve` feature (the HTTP server and its database drivers),
# which the quick start does not use (`cargo build -p gatehouse` has it).
set -euo pipefail
usage() {
    echo "usage: bash scripts/quickstart.sh [--skip-build] [--gatehouse PATH] (see the top of scripts/quickstart.sh)"
}

skip_build=no gatehouse=
while [ $# -gt 0 ]; do
    case $1 in
        --skip-build) skip_build=yes ;;
        --gatehouse)
            if [ $# -lt 2 ] || [ -z "$2" ]; then
                echo "quickstart: --gatehouse needs the path of a gatehouse binary" >&2
                exit 3
            fi
            gatehouse=$2
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "quickstart: unknown argument '$1'" >&2
            usage >&2
            exit 3
            ;;
    esac
    shift
done

# Only bash builtins until the tools are checked, so that a missing tool is
# reported as such rather than as some other command failing.
case $gatehouse in
    "" | /*) ;;
    *) gatehouse=$PWD/$gatehouse ;;
esac
script_dir=${BASH_SOURCE[0]%/*}
[ "$script_dir" != "${BASH_SOURCE[0]}" ] || script_dir=.
cd "$script_dir/.."

if [ "$skip_build" = no ]; then
    missing=()
    for tool in cargo rustup; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        names=${missing[*]}
        echo "quickstart: ${names/ / and } not found on PATH. The quick start needs Rust installed with rustup:" >&2
        if [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
            echo "  cargo is installed in ${CARGO_HOME:-$HOME/.cargo}/bin, which is not on PATH; run" >&2
            echo "  . \"${CARGO_HOME:-$HOME/.cargo}/env\"   and then this script again." >&2
        else
            echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh   (see https://rustup.rs)," >&2
            echo "  then open a new shell (or run . \"\$HOME/.cargo/env\") and run this script again." >&2
        fi
        exit 3
    fi

    if [ -n "$gatehouse" ]; then
        echo "== building the Rust example policies (wasm32-wasip2, cargo profile 'policy')"
        bash scripts/build-policies.sh --rust-examples
    else
        # The policies build beside the binary, in a target directory of
        # their own (cargo locks a target directory per build): the binary's
        # build is one long chain (cranelift, wasmtime, gatehouse-core) that
        # leaves a core idle, which the policies fill.
        mkdir -p target
        policies_log=target/quickstart-policies.log
        echo "== building the Rust example policies (wasm32-wasip2, cargo profile 'policy'; log: $policies_log)"
        CARGO_TARGET_DIR=target/quickstart-policies bash scripts/build-policies.sh --rust-examples >"$policies_log" 2>&1 &
        policies_pid=$!
        echo "== building gatehouse (cargo profile 'quickstart', without the 'serve' feature; the"
        echo "   first build compiles wasmtime: about 7 minutes on 2 cores, later builds take seconds)"
        if ! cargo build --profile quickstart --no-default-features -p gatehouse; then
            wait "$policies_pid" || true
            exit 1
        fi
        if ! wait "$policies_pid"; then
            cat "$policies_log" >&2
            echo "quickstart: building the example policies failed (above)" >&2
            exit 1
        fi
        tail -n 1 "$policies_log"
        cargo_target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
        gatehouse=${cargo_target:-target}/quickstart/gatehouse
    fi
elif [ -z "$gatehouse" ]; then
    gatehouse=${CARGO_TARGET_DIR:-target}/quickstart/gatehouse
fi

if [ ! -x "$gatehouse" ]; then
    echo "quickstart: no gatehouse binary at $gatehouse; run bash scripts/quickstart.sh without --skip-build (or name one with --gatehouse PATH)" >&2
    exit 3
fi
policies=(stream-approval destructive-changes change-budget)
policy_args=()
for name in "${policies[@]}"; do
    if [ ! -e "target/policies/$name.wasm" ]; then
        echo "quickstart: target/policies/$name.wasm is missing; run bash scripts/quickstart.sh without --skip-build (or bash scripts/build-policies.sh --rust-examples)" >&2
        exit 3
    fi
    policy_args+=(--policy "target/policies/$name.wasm")
done

# demo EXPECTED RELEASE [ARGS...]: gates RELEASE with the three policies and
# explains the exit code; a code other than EXPECTED stops the quick start.
demo() {
    local expected=$1 release=$2
    shift 2
    echo
    echo "\$ gatehouse eval ${policy_args[*]}${*:+ $*} --input $release"
    local code=0
    "$gatehouse" eval "${policy_args[@]}" "$@" --input "$release" || code=$?
    local meaning
    case $code in
        0) meaning="auto-approve: the release proceeds" ;;
        2) meaning="require approval: the release waits for a human" ;;
        1) meaning="fail: a policy decided the release must not proceed" ;;
        3) meaning="error: no decision could be made" ;;
        *) meaning="unexpected: gatehouse exits only with 0, 1, 2 or 3" ;;
    esac
    echo "=> exit code $code ($meaning)"
    if [ "$code" != "$expected" ]; then
        echo "quickstart: expected exit code $expected for $release, got $code; the build is broken" >&2
        exit 1
    fi
}

echo
echo "== gating three example releases with: ${policies[*]}"
demo 0 example-policies/releases/staging-update.json
demo 2 example-policies/releases/staging-recreate-database.json --set destructive-changes:approver-groups=dba
demo 1 example-policies/releases/prod-delete-database.json
echo
echo "Done. The binary is $gatehouse; the six example policies are in target/policies/."
echo "Next: \"$gatehouse\" test example-policies runs the example policies' test suites;"
echo "bash scripts/test.sh runs the whole test suite (it needs more than rustup: see README.md)."
