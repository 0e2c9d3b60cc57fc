#!/usr/bin/env bash
# One static binary as a one-layer image, written as a docker-archive tar (manifest.json, the
# image config, layer.tar) that `ctr -n k8s.io images import` reads: how the node gets images
# with no registry to pull from and no image builder.
#
#   bash scripts/k8s/node-image.sh BINARY NAME:TAG OUT.tar [USER]
#
# The binary lands at /<its name> and is the entrypoint; USER (uid:gid) is the image's user
# (default: root, as an image that sets none). The tar is reproducible (fixed mtimes
# and owners), so an unchanged binary gives the same image id.
set -euo pipefail
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 BINARY NAME:TAG OUT.tar [USER]" >&2; exit 2; }
bin=$1 ref=$2 out=$3 user=${4:-}
[ -x "$bin" ] || { echo "$0: $bin is not an executable" >&2; exit 1; }
name=$(basename "$bin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/image"
cp "$bin" "$work/root/$name"
chmod 0755 "$work/root/$name"
tar_flags=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner)
tar "${tar_flags[@]}" -C "$work/root" -cf "$work/image/layer.tar" "$name"
diff_id=sha256:$(sha256sum "$work/image/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/%s"],"Env":["PATH=/"],"User":"%s","WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
  "$name" "$user" "$diff_id" >"$work/image/config.json"
config=$(sha256sum "$work/image/config.json" | cut -d' ' -f1).json
mv "$work/image/config.json" "$work/image/$config"
printf '[{"Config":"%s","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$config" "$ref" >"$work/image/manifest.json"
tar "${tar_flags[@]}" -C "$work/image" -cf "$out" manifest.json "$config" layer.tar
