#!/usr/bin/env bash
# The Debian packages the lab may need, installed in one place, once, before anything uses them:
# `npm test` runs this before the first test file starts (scripts/build/all.sh packages ...), so
# no two test files ever race for dpkg. Each set names what needs it:
#   docker   docker.io (only when no Docker engine is installed) and debootstrap: the local
#            images and the project-owned engine (scripts/docker/)
#   browser  chromium: the workshop console's browser tests
#   bash scripts/build/packages.sh [set ...]      (default: every set the test suite uses)
# Not root, or no apt-get: installs nothing and names what is missing (a test that needs it then
# fails with the same package name).
COMPONENT=packages
. "$(dirname "$0")/lib.sh"

packages_of() {
  case $1 in
    docker)
      command -v dockerd >/dev/null && command -v docker >/dev/null || echo docker.io
      command -v debootstrap >/dev/null || echo debootstrap ;;
    browser) command -v chromium >/dev/null || echo chromium ;;
    *) die "unknown package set '$1' (docker browser)" ;;
  esac
}

sets=(${@:-docker browser})
wanted=()
for s in "${sets[@]}"; do
  while read -r p; do [ -n "$p" ] && wanted+=("$p"); done < <(packages_of "$s")
done
if [ ${#wanted[@]} -eq 0 ]; then
  say "Debian packages present (${sets[*]})"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt_install "${wanted[@]}"
else
  say "missing: ${wanted[*]} (Debian: sudo apt-get install ${wanted[*]}); the tests that need them will say so"
fi
