#!/usr/bin/env bash
# The Debian package on this machine: installs the .deb it is given with dpkg, checks what a
# user then has (the version, the man page, Tab completion of a profile name in bash and fish
# through the installed files), and removes the package again, on failure too. It changes the
# real system, so scripts/test runs it after `cargo test`, never inside it.
#
#   scripts/lib/package_test.sh "$(scripts/package)"
set -euo pipefail
# dpkg runs ldconfig and start-stop-daemon from the administrator's directories, which a bare
# environment (a CI runner's) may leave off PATH.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."

# shellcheck source=scripts/lib/tools.sh
. scripts/lib/tools.sh

deb=${1:?usage: scripts/lib/package_test.sh PATH.deb}
deb=$(realpath "$deb")

fail() {
  printf 'package test: %s\n' "$*" >&2
  exit 1
}
passed() { printf 'package test: %s\n' "$*"; }

as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi

need_apt man=man-db tmux=tmux fish=fish zsh=zsh \
  /usr/share/bash-completion/bash_completion=bash-completion
for tool in dpkg dpkg-query man tmux fish zsh; do
  command -v "$tool" >/dev/null || fail "$tool is missing"
done
[ -f /usr/share/bash-completion/bash_completion ] || fail "bash-completion is missing"

# Someone's own rolecall (a package, or a file dpkg would silently overwrite) would be gone
# after the test's removal: refuse instead.
if [ "$(dpkg-query -W -f='${Status}' rolecall 2>/dev/null || true)" = "install ok installed" ]; then
  fail "the rolecall package is installed on this machine already; remove it first (dpkg -r rolecall)"
fi
[ ! -e /usr/bin/rolecall ] || fail "/usr/bin/rolecall exists already; move it away first"

world=$(mktemp -d)
tmux_socket="rolecall-package-test-$$"
installed_by_this_test=false
cleanup() {
  tmux -L "$tmux_socket" kill-server 2>/dev/null || true
  if [ "$installed_by_this_test" = true ]; then
    "${as_root[@]}" dpkg --purge rolecall >/dev/null 2>&1 || true
  fi
  rm -rf "$world"
}
trap cleanup EXIT

# A user with two profiles, of which only one starts with "pro"; nothing else of this machine's
# environment (PATH holds only the system's directories, so `rolecall` is the installed one).
home=$world/home
mkdir -p "$home/.aws"
cat >"$home/.aws/config" <<'EOF'
[profile base]
region = eu-west-1

[profile production-admin]
role_arn = arn:aws:iam::222222222222:role/admin
source_profile = base
EOF
# As Debian's /etc/skel/.bashrc loads bash-completion, and a prompt the test can wait for.
cat >"$home/.bashrc" <<'EOF'
. /usr/share/bash-completion/bash_completion
PS1='ready$ '
EOF
as_user=(env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 TERM=screen)

# bash_completes_profile: types `rolecall assume pro<Tab>` into an interactive bash at a tmux
# terminal, and succeeds when the line became `rolecall assume production-admin`.
bash_completes_profile() {
  local session="bash-$RANDOM" screen=""
  tmux -L "$tmux_socket" -f /dev/null new-session -d -s "$session" -x 120 -y 20 -c "$home" \
    "${as_user[@]}" bash -i
  for _ in $(seq 50); do
    screen=$(tmux -L "$tmux_socket" capture-pane -p -t "$session")
    [[ $screen == *'ready$'* ]] && break
    sleep 0.2
  done
  [[ $screen == *'ready$'* ]] || fail "bash never showed its prompt: $screen"
  tmux -L "$tmux_socket" send-keys -t "$session" 'rolecall assume pro' Tab
  for _ in $(seq 25); do
    screen=$(tmux -L "$tmux_socket" capture-pane -p -t "$session")
    if [[ $screen == *'rolecall assume production-admin'* ]]; then
      tmux -L "$tmux_socket" kill-session -t "$session"
      return 0
    fi
    sleep 0.2
  done
  tmux -L "$tmux_socket" kill-session -t "$session"
  return 1
}

fish_completes_profile() {
  (cd "$home" && "${as_user[@]}" fish -c 'complete -C "rolecall assume pro"') |
    grep -q '^production-admin'
}

# Slim Debian images tell dpkg to leave documentation out (path-exclude lines in
# /etc/dpkg/dpkg.cfg.d/): a plain `dpkg -i` there installs no man page. excluded_by_dpkg PATH
# applies those rules as dpkg does (fragments, then dpkg.cfg; the last matching rule wins).
excluded_by_dpkg() {
  local path=$1 excluded=false rule pattern
  while read -r rule pattern; do
    # shellcheck disable=SC2053 # the pattern is a glob, as dpkg matches it
    case $rule in
      path-exclude) if [[ $path == $pattern ]]; then excluded=true; fi ;;
      path-include) if [[ $path == $pattern ]]; then excluded=false; fi ;;
    esac
  done < <(cat /etc/dpkg/dpkg.cfg.d/* /etc/dpkg/dpkg.cfg 2>/dev/null |
    sed -nE 's/^[[:space:]]*(path-(ex|in)clude)[[:space:]]*[=[:space:]][[:space:]]*/\1 /p')
  [ "$excluded" = true ]
}

man_page=/usr/share/man/man1/rolecall.1.gz
guide=/usr/share/doc/rolecall/docs/troubleshooting.md # one of the docs/ pages the README links to
documentation=("$man_page" /usr/share/doc/rolecall/README.md "$guide" /usr/share/doc/rolecall/copyright)

# Before: none of what the package brings is here yet, so what passes afterwards is its doing.
"${as_user[@]}" man -w rolecall >/dev/null 2>&1 && fail "man finds a rolecall page before the install"
fish_completes_profile && fail "fish completes a profile before the install"
bash_completes_profile && fail "bash completes a profile before the install"

dpkg_options=()
for path in "${documentation[@]}"; do
  if excluded_by_dpkg "$path"; then dpkg_options+=("--path-include=$path"); fi
done
if [ ${#dpkg_options[@]} -gt 0 ]; then
  printf 'package test: this system tells dpkg to leave out %s; installing them with %s\n' \
    "${dpkg_options[*]#--path-include=}" "${dpkg_options[*]}" >&2
fi

installed_by_this_test=true
"${as_root[@]}" dpkg "${dpkg_options[@]}" -i "$deb" >/dev/null
passed "dpkg -i $(basename "$deb")"

expected_version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["packages"][0]["version"])')
version=$("${as_user[@]}" /usr/bin/rolecall --version)
[ "$version" = "rolecall $expected_version" ] ||
  fail "rolecall --version says '$version', Cargo.toml says $expected_version"
passed "/usr/bin/rolecall --version: $version"

found=$("${as_user[@]}" man -w rolecall) || fail "man -w rolecall finds no page"
[ "$found" = "$man_page" ] || fail "man -w rolecall found $found, not $man_page"
"${as_user[@]}" MANWIDTH=80 man -P cat rolecall 2>/dev/null | grep -q '^ *rolecall assume' ||
  fail "man rolecall does not show the assume command"
passed "man -w rolecall: $found"

for path in "${documentation[@]:1}"; do
  [ -s "$path" ] || fail "$path is missing"
done
cmp --quiet README.md /usr/share/doc/rolecall/README.md || fail "the installed README is not README.md"
cmp --quiet docs/troubleshooting.md "$guide" || fail "the installed $guide is not docs/troubleshooting.md"
cmp --quiet LICENSE /usr/share/doc/rolecall/copyright || fail "the installed copyright file is not LICENSE"
passed "README.md, docs/ and copyright in /usr/share/doc/rolecall"

bash_completes_profile || fail "bash did not complete 'rolecall assume pro' to production-admin"
passed "bash: rolecall assume pro<Tab> completes production-admin (bash-completion's loader)"
fish_completes_profile || fail "fish did not complete 'rolecall assume pro' to production-admin"
passed "fish: complete -C 'rolecall assume pro' offers production-admin (vendor_completions.d)"
# zsh reads _rolecall from its default fpath; its completion itself is tested through tmux in
# tests/it/shells.rs.
# shellcheck disable=SC2016 # zsh expands it
"${as_user[@]}" zsh -fc '(( ${fpath[(I)/usr/share/zsh/vendor-completions]} )) &&
  [[ -f /usr/share/zsh/vendor-completions/_rolecall ]]' ||
  fail "_rolecall is not in a directory of zsh's default fpath"
passed "zsh: _rolecall in /usr/share/zsh/vendor-completions, on the default fpath"

mapfile -t package_files < <(dpkg -L rolecall | while read -r path; do
  if [ -f "$path" ]; then echo "$path"; fi
done)
"${as_root[@]}" dpkg -r rolecall >/dev/null
installed_by_this_test=false
[ ! -e /usr/bin/rolecall ] || fail "/usr/bin/rolecall is still there after dpkg -r"
for path in "${package_files[@]}"; do
  [ ! -e "$path" ] || fail "$path is still there after dpkg -r"
done
passed "dpkg -r rolecall: its ${#package_files[@]} files are gone"
