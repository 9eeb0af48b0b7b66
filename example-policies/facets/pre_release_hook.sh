#!/usr/bin/env bash
# Facets pre-release hook backed by Gatehouse.
#
# Facets calls the hook with one argument, the path of the release JSON, and
# reads the exit code: 0 lets the release proceed, 2 makes it wait for
# approval, anything else fails it. Gatehouse's exit codes are the same
# (1: a policy failed the release, 3: no decision could be made), so the hook
# only has to run the policy set.
#
# Environment (all optional):
#   GATEHOUSE         the gatehouse binary (default: `gatehouse` on PATH)
#   GATEHOUSE_CONFIG  the policy set (default: gatehouse.toml beside this script)
#   GATEHOUSE_OUTPUT  text (default) or json
set -u

if [ "$#" -ne 1 ]; then
    echo "Usage: pre_release_hook.sh <path_to_json_file>" >&2
    exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
gatehouse=${GATEHOUSE:-gatehouse}
config=${GATEHOUSE_CONFIG:-$here/gatehouse.toml}

if ! command -v "$gatehouse" >/dev/null 2>&1; then
    echo "pre_release_hook: gatehouse binary not found ($gatehouse); install it or set GATEHOUSE" >&2
    exit 3
fi

exec "$gatehouse" eval --config "$config" --input "$1" --output "${GATEHOUSE_OUTPUT:-text}"
