# Shared by scripts/docker/*.sh: the build scripts' helpers (CACHE, say, die, need, run_logged,
# publish, .env loaded) and Debian package installs. Sourced, not run.
. "$(dirname "${BASH_SOURCE[0]}")/../build/lib.sh"

# apt_install PACKAGE...: Debian packages; the package lists are refreshed first when they are
# missing or older than a day (a fresh machine has none).
apt_install() {
  mkdir -p "$CACHE/docker"
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1)" ] ||
    run_logged "apt-get update" "$CACHE/docker/apt-update.log" apt-get update
  run_logged "installing $* from Debian (~1 min)" "$CACHE/docker/apt.log" apt-get install -y --no-install-recommends "$@"
}
