#!/usr/bin/env bash
# Quick start: installs the wasm32-wasip2 target, builds the gatehouse binary and
# the example policies, then gates three example releases the way CI would.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-policies.sh
cargo build --quiet -p gatehouse
gatehouse=target/debug/gatehouse

demo() {
    local release=$1
    shift
    echo
    echo "\$ gatehouse eval $* --input $release"
    set +e
    "$gatehouse" eval "$@" --input "$release"
    local code=$?
    set -e
    case $code in
        0) meaning="auto-approve: the release proceeds" ;;
        2) meaning="require approval: the release waits for a human" ;;
        1) meaning="fail: the release must not proceed" ;;
        *) echo "unexpected exit code $code" >&2; exit 1 ;;
    esac
    echo "=> exit code $code ($meaning)"
}

policies=(--policy target/policies/stream-approval.wasm --policy target/policies/destructive-changes.wasm --policy target/policies/change-budget.wasm)
demo example-policies/releases/staging-update.json "${policies[@]}"
demo example-policies/releases/staging-recreate-database.json "${policies[@]}" --set destructive-changes:approver-groups=dba
demo example-policies/releases/prod-delete-database.json "${policies[@]}"
echo
echo "Done. The binary is target/debug/gatehouse; the policies are in target/policies/."
