#!/usr/bin/env bash
# `make image`: build localhost/mec:latest from this repository with podman
# (or buildah), runtime runc, no registry. The Go toolchain and module
# cache of this machine are mounted read-only into the build stage, and its
# build cache read-write (MEC_IMAGE_GOCACHE to use another): the build
# stage compiles at the repository's own path, so the packages the host
# compiled are not compiled again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
image=${MEC_IMAGE:-localhost/mec:latest}
base=${MEC_BASE_IMAGE:-localhost/mec-debian:bookworm}
eng=$(engine)
export PATH="$PATH:/usr/local/go/bin"
goroot=$(go env GOROOT)
modcache=$(go env GOMODCACHE)
cache=${MEC_IMAGE_GOCACHE:-$(go env GOCACHE)}
mkdir -p "$cache"

bash "$here/base.sh"
# Every module the build needs must be in the host's cache (the build
# stage has no network).
(cd "$repo" && GOFLAGS=-mod=readonly go mod download)

t0=$(date +%s)
# --no-cache: buildah keys the cached layers of `WORKDIR ${SRC}` and
# `COPY . .` without the value of SRC, so a second checkout on the same
# machine reused the first one's layers and built in a directory without
# its go.mod. Nothing is lost: the Go build cache is mounted, so the build
# stage costs a copy of the sources and a link.
# shellcheck disable=SC2046 # ulimit_args is a list of words
"$eng" build --no-cache --runtime "$MEC_OCI_RUNTIME" $(ulimit_args) --network none \
	--build-arg BASE="$base" --build-arg SRC="$repo" \
	-v "$goroot:/usr/local/go:ro" -v "$modcache:/go/pkg/mod:ro" -v "$cache:/root/.cache/go-build" \
	--ignorefile "$here/containerignore" \
	-f "$here/Containerfile" -t "$image" "$repo"
echo "image: $image built in $(($(date +%s) - t0)) s"
"$eng" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$image" 2>/dev/null || true
