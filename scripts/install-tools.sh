#!/usr/bin/env bash
# Installs the pinned tools that build the non-Rust example policies into the
# repository-local directory target/tools/ (never the user's site-packages):
#   - target/tools/venv: a Python virtual environment with componentize-py,
#     which builds Python policies into WebAssembly components.
#   - target/tools/js: componentize-js and its dependencies, exactly as pinned
#     by scripts/js-tools/package-lock.json (`npm ci`), which builds
#     JavaScript policies. Needs Node.js and npm, and access to the npm registry.
#   - C: Debian's clang-14, lld-14, wasi-libc and libclang-rt-14-dev-wasm32
#     (apt-get, when missing) and tools/wasm-c-build (cargo, into target/debug).
#   - OpenSSH: Debian's openssh-client (ssh-keygen, ssh-agent, ssh-add) for
#     the approval tests (apt-get, when ssh-keygen is missing).
#   - PostgreSQL: Debian's postgresql (initdb, pg_ctl, postgres, psql) for
#     the server tests on PostgreSQL (apt-get, when initdb is missing).
#   - Chromium: Debian's chromium, headless, for the approvers' page tests
#     (apt-get, when /usr/bin/chromium is missing).
# Idempotent and quick when the pinned versions are already there.
# Needs Python 3 with the venv module (`PYTHON=...` picks the interpreter) and
# access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

# JavaScript: reinstalled whenever the committed package.json or lock file
# differs from what was last installed (a stamp written after a complete install).
install_js_tools() {
    local pins=scripts/js-tools dir=target/tools/js
    local stamp=$dir/installed-package-lock.json
    if [ -x "$dir/node_modules/.bin/componentize-js" ] && cmp -s "$pins/package-lock.json" "$stamp" \
        && cmp -s "$pins/package.json" "$dir/package.json"; then
        echo "install-tools: JavaScript tools already installed in $dir"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        echo "install-tools: node and npm not found; Node.js 20 or later is needed to build JavaScript policies (Debian: apt-get install nodejs npm)" >&2
        exit 1
    fi
    echo "install-tools: installing the JavaScript tools pinned in $pins/package-lock.json into $dir (npm ci)"
    mkdir -p "$dir"
    rm -f "$stamp"
    cp "$pins/package.json" "$pins/package-lock.json" "$dir/"
    npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
    local wanted found
    wanted=$(node -p "require('./$pins/package.json').dependencies['@bytecodealliance/componentize-js']")
    found=$(node -p "require('./$dir/node_modules/@bytecodealliance/componentize-js/package.json').version")
    if [ "$found" != "$wanted" ]; then
        echo "install-tools: expected componentize-js $wanted after installing, found '$found'" >&2
        exit 1
    fi
    cp "$pins/package-lock.json" "$stamp"
    echo "install-tools: componentize-js $found installed in $dir"
}
install_js_tools

# C: Debian's clang 14, lld 14 and wasi-libc (wasm32-wasi, WASI preview 1),
# installed with apt-get when missing (as root, or with sudo), then
# tools/wasm-c-build (wit-bindgen's C generator and the WASI preview-1 adapter
# of wasmtime 48, at the versions pinned in Cargo.lock), built by cargo into
# target/debug. Skipped quickly when everything is already there.
# Installs Debian packages with apt-get (through sudo when not root), or
# exits naming what is needed and why: `apt_install "WHY" "ELSEWHERE" PKG...`,
# where WHY says what needs them ("are needed to build C policies") and
# ELSEWHERE what to do without apt-get.
apt_install() {
    local why=$1 elsewhere=$2
    shift 2
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "install-tools: the Debian packages $* $why; install them as root: apt-get install $*" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-tools: the Debian packages $* $why, and apt-get is not available; $elsewhere" >&2
        exit 1
    fi
    echo "install-tools: installing $* with apt-get"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "$@" >/dev/null
}

C_APT_PACKAGES=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)
install_c_tools() {
    local missing=() package
    for package in "${C_APT_PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "are needed to build C policies" \
            "install clang 14, lld 14 and wasi-libc for wasm32-wasi by other means" "${missing[@]}"
    fi
    if ! clang-14 --version | grep -q 'clang version 14\.'; then
        echo "install-tools: clang-14 does not report clang version 14" >&2
        exit 1
    fi
    # cargo rebuilds the tool only when its sources or Cargo.lock changed.
    cargo build --quiet -p wasm-c-build
    echo "install-tools: C tools ready (clang $(clang-14 --version | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -n 1), wasi-libc $(dpkg-query -W -f='${Version}' wasi-libc), target/debug/wasm-c-build)"
}
install_c_tools

# OpenSSH's client tools: the approval tests (tests/tests/approvals.rs) make
# keys with ssh-keygen, check signatures with ssh-keygen -Y verify and sign
# through ssh-agent. Debian's openssh-client, installed with apt-get (as root,
# or with sudo) when ssh-keygen is missing.
install_openssh_client() {
    if command -v ssh-keygen >/dev/null 2>&1 && command -v ssh-agent >/dev/null 2>&1 \
        && command -v ssh-add >/dev/null 2>&1; then
        echo "install-tools: OpenSSH client tools present ($(ssh -V 2>&1))"
        return 0
    fi
    apt_install "(ssh-keygen, ssh-agent, ssh-add) are needed by the approval tests" \
        "install OpenSSH's client tools by other means" openssh-client
    echo "install-tools: OpenSSH client tools installed ($(ssh -V 2>&1))"
}
install_openssh_client

# PostgreSQL: the server tests (tests/tests/serve_postgres.rs) start a
# throwaway cluster with Debian's initdb and pg_ctl in a temporary
# directory. Debian's postgresql package, installed with apt-get (as root,
# or with sudo) when no /usr/lib/postgresql/*/bin/initdb exists. Its own
# cluster (postgresql.service) is not needed and not used.
install_postgresql() {
    local initdb
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        if [ -x "$initdb" ]; then
            echo "install-tools: PostgreSQL present ($("$initdb" --version))"
            return 0
        fi
    done
    apt_install "(initdb, pg_ctl) are needed by the server tests" \
        "install a PostgreSQL server by other means (the tests look in /usr/lib/postgresql/*/bin)" postgresql
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        if [ -x "$initdb" ]; then
            echo "install-tools: PostgreSQL installed ($("$initdb" --version))"
            return 0
        fi
    done
    echo "install-tools: apt-get installed postgresql, yet no /usr/lib/postgresql/*/bin/initdb exists" >&2
    exit 1
}
install_postgresql

# Chromium: tests/tests/serve_page.rs opens the approvers' page (`serve
# --page`) in Debian's headless chromium (--dump-dom, --screenshot).
install_chromium() {
    if [ -x /usr/bin/chromium ]; then
        echo "install-tools: chromium present ($(/usr/bin/chromium --version 2>/dev/null || echo unknown version))"
        return 0
    fi
    apt_install "(a headless browser) are needed by the approvers' page tests" \
        "install Chromium by other means and set GATEHOUSE_CHROMIUM to its binary" chromium
    if [ ! -x /usr/bin/chromium ]; then
        echo "install-tools: apt-get installed chromium, yet /usr/bin/chromium does not exist" >&2
        exit 1
    fi
}
install_chromium

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
