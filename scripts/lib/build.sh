# shellcheck shell=bash
# How rolecall is built for use. scripts/install, try, test and bench all build it this way, so
# the binary that is tested and measured is the one that gets installed.
#
# On Linux with glibc it is linked statically (a static PIE: still address-randomised). A process
# start then skips the dynamic loader, which maps, relocates and links libc, libm and libgcc_s
# before main: over a quarter of `rolecall prompt`'s time (docs/benchmarks.md times both builds).
# glibc's resolver and user lookups work statically because the binary is built on the machine
# that runs it, against the same glibc.
# crt-static is given for an explicit --target: without one cargo would also apply it to the
# proc-macros it builds for the host, which cannot be static. Elsewhere (macOS, musl, or no static
# libc installed, e.g. Fedora without glibc-static) it is cargo's usual dynamic build.

# rolecall_build_setup: sets rolecall_build_args (extra arguments for cargo build, test and
# install), rolecall_target_dir (the directory holding debug/ and release/) and
# rolecall_build_kind (static or dynamic). Call it from the repository root.
# shellcheck disable=SC2034 # the variables are for the scripts that source this file
rolecall_build_setup() {
  local host
  host=$(rustc -vV | sed -n 's/^host: //p')
  rolecall_build_args=()
  rolecall_target_dir=${CARGO_TARGET_DIR:-$PWD/target}
  rolecall_build_kind=dynamic
  # `cc -print-file-name` answers the bare name when it finds no such file.
  if [[ $host == *-linux-gnu* ]] && [[ $(cc -print-file-name=libc.a 2>/dev/null) == /* ]]; then
    rolecall_build_args=(--target "$host" --config "target.$host.rustflags=[\"-C\", \"target-feature=+crt-static\"]")
    rolecall_target_dir=$rolecall_target_dir/$host
    rolecall_build_kind=static
  fi
}
