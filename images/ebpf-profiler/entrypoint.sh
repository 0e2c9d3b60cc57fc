# The profiler needs tracefs; a container's /sys rarely has it mounted. The container has its
# own mount namespace, so mounting it here leaves the host's mounts alone.
if ! grep -qs ' /sys/kernel/tracing tracefs ' /proc/self/mounts; then
  mount -t tracefs nodev /sys/kernel/tracing || { echo "ebpf-profiler: cannot mount tracefs (run the container --privileged)" >&2; exit 1; }
fi
exec /usr/local/bin/ebpf-profiler "$@"
