# shellcheck shell=bash
# What scripts/test, scripts/try and scripts/bench share: installing the tools they need on a
# fresh machine, and starting from an environment with no AWS or rolecall variables.

# need_apt COMMAND=PACKAGE...: installs (with apt-get) the package of each command not on PATH.
# An absolute path instead of a command names a file the package provides (for packages that
# bring no command, like bash-completion).
need_apt() {
  local missing=() pair wanted
  for pair in "$@"; do
    wanted=${pair%%=*}
    if [[ $wanted == /* ]]; then
      [ -e "$wanted" ] || missing+=("${pair#*=}")
    else
      command -v "$wanted" >/dev/null 2>&1 || missing+=("${pair#*=}")
    fi
  done
  # A virtual environment needs Debian's venv module besides python3 itself.
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  [ ${#missing[@]} -gt 0 ] || return 0
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
  echo "installing ${missing[*]} (apt)" >&2
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# need_pip VENV COMMAND=PACKAGE...: a command already on PATH is used as it is; the packages of
# the others are installed into the virtual environment VENV, whose bin/ then leads PATH.
need_pip() {
  local venv=$1 missing=() pair
  shift
  for pair in "$@"; do
    if ! command -v "${pair%%=*}" >/dev/null 2>&1 && [ ! -x "$venv/bin/${pair%%=*}" ]; then
      missing+=("${pair#*=}")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} into $venv (pip)" >&2
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${missing[@]}"
  fi
  if [ -d "$venv/bin" ]; then PATH="$PATH:$venv/bin"; fi
  export PATH
}

# need_pip_module VENV MODULE=PACKAGE...: a Python library a test drives, installed into the
# virtual environment VENV unless its python already imports it.
need_pip_module() {
  local venv=$1 missing=() pair
  shift
  for pair in "$@"; do
    "$venv/bin/python" -c "import ${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing ${missing[*]} into $venv (pip)" >&2
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${missing[@]}"
}

# need_npm PREFIX COMMAND=PACKAGE@VERSION...: a command already on PATH is used as it is; the
# packages of the others are installed with npm under PREFIX, and the directory of each one's
# executable then joins PATH. That is the native binary a package ships (such as
# node_modules/@nushell/linux-x64/bin/nu), not npm's node launcher in node_modules/.bin, so the
# command runs as its own process, signals and all.
need_npm() {
  local prefix=$1 pair name found
  shift
  for pair in "$@"; do
    name=${pair%%=*}
    if command -v "$name" >/dev/null 2>&1; then continue; fi
    found=$(npm_installed "$prefix" "$name" "${pair#*=}") || return 1
    PATH="$PATH:${found%/*}"
  done
  export PATH
}

# npm_install PREFIX SPEC...: npm install of the packages SPEC under PREFIX, quietly.
npm_install() {
  local prefix=$1
  shift
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to install $* and is not installed (apt: npm)" >&2
    return 1
  fi
  echo "installing $* into $prefix (npm)" >&2
  # Node trusts only its own copy of the public authorities unless told otherwise; behind a
  # proxy that re-signs HTTPS (as curl, pip and cargo here trust through the system's store),
  # npm would retry for minutes and fail. Without NODE_EXTRA_CA_CERTS, it trusts the system's
  # store too.
  local node_options=${NODE_OPTIONS-}
  if [ -z "${NODE_EXTRA_CA_CERTS-}" ]; then node_options="$node_options --use-openssl-ca"; fi
  NODE_OPTIONS=$node_options npm install --prefix "$prefix" --no-audit --no-fund \
    --loglevel=error "$@" >&2
}

# need_node_modules PREFIX NAME@VERSION...: JavaScript libraries a test drives, installed with
# npm under PREFIX unless each is already there at exactly that version.
need_node_modules() {
  local prefix=$1 missing=() spec have
  shift
  for spec in "$@"; do
    have=$(node -p "require('$prefix/node_modules/${spec%@*}/package.json').version" 2>/dev/null) || true
    [ "$have" = "${spec##*@}" ] || missing+=("$spec")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  npm_install "$prefix" "${missing[@]}"
}

# npm_installed PREFIX NAME PACKAGE@VERSION: prints the executable NAME of the package under
# PREFIX, installing the package there with npm first when it is not.
npm_installed() {
  local prefix=$1 name=$2 package=$3 found
  found=$(npm_executable "$prefix" "$name")
  if [ -z "$found" ]; then
    npm_install "$prefix" "$package" || return 1
    found=$(npm_executable "$prefix" "$name")
    if [ -z "$found" ]; then
      echo "npm installed $package into $prefix, but no executable $name came with it" >&2
      return 1
    fi
  fi
  printf '%s\n' "$found"
}

# npm_executable PREFIX NAME: the executable file NAME in a bin/ directory of a package under
# PREFIX/node_modules (npm's .bin/ links are no such files), if there is one.
npm_executable() {
  find "$1/node_modules" -path "*/bin/$2" -type f -perm -u+x -print -quit 2>/dev/null || true
}

# need_nushell PREFIX: nushell, from its official release binary in the npm package `nushell`
# when `nu` is not on PATH; the version the tests are written against.
need_nushell() {
  need_npm "$1" nu=nushell@0.115.1
}

# need_oldest_nushell PREFIX: the oldest nushell the README names (the integration says so too),
# installed under PREFIX whatever `nu` is on PATH, and named in ROLECALL_TEST_OLDEST_NU for the
# nushell tests, which run each test in it as well.
need_oldest_nushell() {
  ROLECALL_TEST_OLDEST_NU=$(npm_installed "$1" nu nushell@0.101.0) || return 1
  export ROLECALL_TEST_OLDEST_NU
}

# Starts from no AWS_* or ROLECALL_* variables, so nothing of the caller's session leaks in.
scrub_aws_environment() {
  local variable
  for variable in $(compgen -e | grep -E '^(AWS_|ROLECALL_)' || true); do unset "$variable"; done
}

# cargo_target_dir: where cargo puts its builds (CARGO_TARGET_DIR and build.target-dir honoured),
# as an absolute path.
cargo_target_dir() {
  cargo metadata --no-deps --format-version 1 |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}
