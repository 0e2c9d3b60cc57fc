#!/usr/bin/env bash
# The Debian packages the lab may need, installed in one place, once, before anything uses them:
# `npm test` runs this before the first test file starts (scripts/build/all.sh packages ...), so
# no two test files ever race for dpkg. Each set names what needs it:
#   docker   docker.io (only when no Docker engine is installed) and debootstrap: the local
#            images and the project-owned engine (scripts/docker/)
#   browser  chromium: the workshop console's browser tests
#   node     runc, containernetworking-plugins (bridge, host-local, loopback) and nftables (the
#            nft that kube-proxy drives): Lab 3's single-node cluster (scripts/k8s/cluster.ts)
#
#   bash scripts/build/packages.sh [set ...]   installs what is missing (default: the suite's sets)
#   bash scripts/build/packages.sh --list      every package a set may install, one a line
#                                              (scripts/fresh-machine.sh removes these first)
# Not root, or no apt-get: installs nothing and names what is missing (a test that needs it then
# fails with the same package name).
COMPONENT=packages
. "$(dirname "$0")/lib.sh"

declare -A SETS=([docker]="docker.io debootstrap" [browser]="chromium" [node]="runc containernetworking-plugins nftables")
SUITE_SETS=(docker browser node)

# present PACKAGE: the command it provides is on PATH (docker.io: engine and CLI, from any source).
present() {
  case $1 in
    docker.io) command -v dockerd >/dev/null && command -v docker >/dev/null ;;
    containernetworking-plugins) [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ;;
    nftables) command -v nft >/dev/null ;;
    *) command -v "$1" >/dev/null ;;
  esac
}

if [ "${1:-}" = --list ]; then printf '%s\n' ${SETS[*]}; exit 0; fi
sets=(${@:-${SUITE_SETS[@]}})
missing=()
for s in "${sets[@]}"; do
  [ -n "${SETS[$s]:-}" ] || die "unknown package set '$s' (${!SETS[*]})"
  for p in ${SETS[$s]}; do present "$p" || missing+=("$p"); done
done
if [ ${#missing[@]} -eq 0 ]; then
  say "Debian packages present (${sets[*]})"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt_install "${missing[@]}"
else
  say "missing: ${missing[*]} (Debian: sudo apt-get install ${missing[*]}); the tests that need them will say so"
fi
