#!/usr/bin/env bash
# Installs the pinned tools that build the non-Rust example policies into the
# repository-local directory target/tools/ (never the user's site-packages):
#   - target/tools/venv: a Python virtual environment with componentize-py,
#     which builds Python policies into WebAssembly components.
# Idempotent and quick when the pinned versions are already there.
# Needs Python 3 with the venv module (`PYTHON=...` picks the interpreter) and
# access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPONENTIZE_PY_VERSION=0.25.1

tools_dir=target/tools
venv=$tools_dir/venv
python=${PYTHON:-python3}

installed_version() {
    # `componentize-py --version` prints e.g. `componentize-py 0.25.1`.
    "$venv/bin/componentize-py" --version 2>/dev/null | awk '{print $NF}' || true
}

if [ -x "$venv/bin/componentize-py" ] && [ "$(installed_version)" = "$COMPONENTIZE_PY_VERSION" ]; then
    echo "install-tools: componentize-py $COMPONENTIZE_PY_VERSION already installed in $venv"
    exit 0
fi

if ! command -v "$python" >/dev/null 2>&1; then
    echo "install-tools: $python not found; Python 3 (with pip and venv) is needed to build Python policies" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "install-tools: creating the Python virtual environment $venv ($("$python" --version 2>&1))"
    mkdir -p "$tools_dir"
    if ! "$python" -m venv "$venv"; then
        # Debian's python3 without python3-venv has no ensurepip: create the
        # venv without pip and install into it with the interpreter's own pip.
        echo "install-tools: '$python -m venv' failed; retrying without pip in the venv"
        rm -rf "$venv"
        if ! "$python" -m venv --without-pip "$venv"; then
            rm -rf "$venv"
            echo "install-tools: cannot create $venv; install the venv module (Debian: apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
fi

pip_install=("$venv/bin/python" -m pip)
if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    pip_install=("$python" -m pip --python "$venv/bin/python")
fi
echo "install-tools: installing componentize-py==$COMPONENTIZE_PY_VERSION into $venv (from PyPI)"
"${pip_install[@]}" install --quiet --disable-pip-version-check --no-input --force-reinstall \
    "componentize-py==$COMPONENTIZE_PY_VERSION"

version=$(installed_version)
if [ "$version" != "$COMPONENTIZE_PY_VERSION" ]; then
    echo "install-tools: expected componentize-py $COMPONENTIZE_PY_VERSION after installing, found '${version:-nothing}'" >&2
    exit 1
fi
echo "install-tools: componentize-py $version installed in $venv"
