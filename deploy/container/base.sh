#!/usr/bin/env bash
# Make the Debian base image of the build stage from Debian's packages,
# with no registry: debootstrap (minbase, bookworm, the machine's own
# mirror) into a temporary directory, then import it as
# localhost/mec-debian:bookworm. Does nothing when the image exists
# (MEC_REBUILD_BASE=1 rebuilds it). Root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
base=${MEC_BASE_IMAGE:-localhost/mec-debian:bookworm}
suite=${MEC_DEBIAN_SUITE:-bookworm}
eng=$(engine)
if image_exists "$base" && [ "${MEC_REBUILD_BASE:-0}" != 1 ]; then
	echo "base: $base exists"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "base: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
mirror=${MEC_DEBIAN_MIRROR:-$(debian_mirror "$suite")}
work=$(mktemp -d /var/tmp/mec-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "base: debootstrap --variant=minbase $suite from $mirror"
t0=$(date +%s)
if ! debootstrap --variant=minbase --include=ca-certificates "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
	tail -n 30 "$work/debootstrap.log" >&2
	echo "base: debootstrap failed" >&2
	exit 1
fi
rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
case $eng in
podman) tar -C "$work/rootfs" --numeric-owner -c . | podman import --change 'CMD ["/bin/bash"]' - "$base" >/dev/null ;;
buildah)
	c=$(buildah from scratch)
	tar -C "$work/rootfs" --numeric-owner -c . | buildah add "$c" - / >/dev/null
	buildah config --cmd /bin/bash "$c"
	buildah commit --rm "$c" "$base" >/dev/null
	;;
esac
echo "base: $base built in $(($(date +%s) - t0)) s"
