# Shared by scripts/docker/*.sh: the build scripts' helpers (CACHE, say, die, need, run_logged,
# publish, .env loaded, apt_install). Sourced, not run.
. "$(dirname "${BASH_SOURCE[0]}")/../build/lib.sh"

