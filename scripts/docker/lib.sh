# Shared by scripts/docker/*.sh: the build scripts' helpers (CACHE, say, die, need, run_logged,
# publish, .env loaded) and Debian package installs. Sourced, not run.
. "$(dirname "${BASH_SOURCE[0]}")/../build/lib.sh"

# apt_install PACKAGE...: Debian packages; the package lists are refreshed first when they are
# missing or older than a day (a fresh machine has none). Test files start in parallel and may
# each need a package: one install at a time (a lock of the lab's), and apt itself waits for
# dpkg's lock instead of failing when something else holds it.
apt_install() {
  mkdir -p "$CACHE/docker"
  export DEBIAN_FRONTEND=noninteractive
  local wait=(-o DPkg::Lock::Timeout=600)
  exec 8>"$CACHE/apt.lock"
  flock -n 8 || { say "another apt install of the lab is running: waiting for it"; flock 8; }
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1)" ] ||
      run_logged "apt-get update" "$CACHE/docker/apt-update.log" apt-get "${wait[@]}" update
    run_logged "installing ${missing[*]} from Debian (~1 min)" "$CACHE/docker/apt.log" \
      apt-get "${wait[@]}" install -y --no-install-recommends "${missing[@]}"
  fi
  flock -u 8
}
