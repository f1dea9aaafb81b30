#!/usr/bin/env bash
# gen-ptx.sh — compiles every kernel family (kernels/*.cl) as CUDA to PTX.
#
#   kernels/gen-ptx.sh            regenerate kernels/ptx/ (what `make kernels` runs)
#   kernels/gen-ptx.sh --check    regenerate into a temporary directory, fail
#                                 naming every stale, missing or extra file of
#                                 kernels/ptx/ (what `make kernels-check` runs)
#   kernels/gen-ptx.sh --out DIR  regenerate into DIR
#
# JOBS (default: the number of CPUs) compilations run in parallel.
#
# Each family is compiled twice per architecture: with -DMEC_FP64 (complex128
# states, kernels named *_f64) and with -DMEC_ACC64 (complex64 states,
# kernels *_f32, reductions accumulated in double, which every CUDA device
# has), for compute_80 and compute_90 — except lif, launched in double only
# (kernels.Precisions), compiled with -DMEC_FP64 alone:
#
#   kernels/ptx/<family>_<f32|f64>_sm<80|90>.ptx
#
# and kernels/ptx/SOURCES, the SHA-256 of compat.h and every .cl they come
# from (checked by the kernels package's tests, which need no nvcc).
#
# The body is compiled with compat.h force-included (nvcc -x cu -include), so
# KERNEL is extern "C" __global__ and names are unmangled. Output depends only
# on the sources and the nvcc release (named in each file's header; a
# different release changes the bytes, so regenerate with the release the
# committed files name). Every file is then assembled by ptxas for its
# architecture (output discarded) to check it offline.
#
# Needs nvcc and ptxas (CUDA 11.8 or newer: sm_90 needs 11.8).
set -euo pipefail
export LC_ALL=C

ARCHS="80 90"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
committed="$here/ptx"
mode=gen
out="$committed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "${1:-}" in
"")
	# Built aside and moved into place only when everything compiled.
	out="$tmp/out"
	;;
--check)
	mode=check
	out="$tmp/out"
	;;
--out)
	[ -n "${2:-}" ] || { echo "gen-ptx.sh: --out needs a directory" >&2; exit 2; }
	out=$2
	;;
*)
	echo "usage: gen-ptx.sh [--check | --out DIR]" >&2
	exit 2
	;;
esac

NVCC=${NVCC:-nvcc}
PTXAS=${PTXAS:-ptxas}
for tool in "$NVCC" "$PTXAS"; do
	command -v "$tool" >/dev/null || { echo "gen-ptx.sh: $tool not found (install the CUDA toolkit, 11.8 or newer)" >&2; exit 1; }
done
echo "gen-ptx.sh: $("$NVCC" --version | grep -m1 -o 'release [0-9.]*, V[0-9.]*')"

mkdir -p "$out"
out=$(cd "$out" && pwd)

# Compile a snapshot of the sources, so SOURCES always names what the PTX
# was built from even if a file is edited meanwhile.
cd "$here"
ls ./*.cl >/dev/null 2>&1 || { echo "gen-ptx.sh: no kernels/*.cl" >&2; exit 1; }
mkdir "$tmp/src"
cp compat.h ./*.cl "$tmp/src/"
cd "$tmp/src"
sha256sum compat.h ./*.cl | sed 's|  \./|  |' >"$tmp/SOURCES"

# compile FAMILY f32|f64 ARCH: nvcc to PTX, then ptxas to check it.
compile() {
	local fam=$1 p=$2 sm=$3 def=-DMEC_ACC64
	[ "$p" = f64 ] && def=-DMEC_FP64
	local dst="$out/${fam}_${p}_sm${sm}.ptx"
	# Relative paths only, and no -lineinfo/-G: nothing of this machine
	# ends up in the PTX.
	if ! "$NVCC" -x cu -include compat.h "$def" -arch="compute_$sm" -ptx -o "$dst" "$fam.cl"; then
		echo "gen-ptx.sh: nvcc failed on $fam.cl ($p, compute_$sm)" >&2
		return 1
	fi
	if ! "$PTXAS" -arch="sm_$sm" -o /dev/null "$dst"; then
		echo "gen-ptx.sh: ptxas -arch=sm_$sm rejects $(basename "$dst")" >&2
		return 1
	fi
}
export -f compile
export NVCC PTXAS out

jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
for src in *.cl; do
	precs="f32 f64"
	# lif runs in double only (kernels.Precisions): no f32 PTX.
	[ "$src" = lif.cl ] && precs=f64
	for p in $precs; do
		for sm in $ARCHS; do
			echo "${src%.cl} $p $sm"
		done
	done
done | xargs -P "$jobs" -L 1 bash -c 'compile "$@"' _ || exit 1
# The sources the PTX was generated from, so `go test ./kernels/` can tell
# (without nvcc) that a .cl or compat.h changed after the last `make kernels`.
cp "$tmp/SOURCES" "$out/SOURCES"

if [ "$mode" = check ]; then
	stale=()
	for f in "$out"/*.ptx "$out/SOURCES"; do
		b=$(basename "$f")
		if [ ! -f "$committed/$b" ]; then
			stale+=("kernels/ptx/$b (missing)")
		elif ! cmp -s "$f" "$committed/$b"; then
			stale+=("kernels/ptx/$b (differs)")
		fi
	done
	for f in "$committed"/*.ptx; do
		[ -e "$f" ] || continue
		b=$(basename "$f")
		[ -f "$out/$b" ] || stale+=("kernels/ptx/$b (no longer generated)")
	done
	if [ ${#stale[@]} -gt 0 ]; then
		echo "gen-ptx.sh: the committed PTX is stale; run 'make kernels' and commit kernels/ptx/:" >&2
		printf '  %s\n' "${stale[@]}" >&2
		echo "(a different nvcc release also changes the bytes: compare the 'Cuda compilation tools' line of the files)" >&2
		exit 1
	fi
	echo "gen-ptx.sh: kernels/ptx/ is up to date ($(ls "$committed"/*.ptx | wc -l) files, ptxas clean)"
else
	count=$(ls "$out"/*.ptx | wc -l)
	if [ "${1:-}" = "" ]; then
		# Replacing the whole set drops files of families that no longer exist.
		mkdir -p "$committed"
		rm -f "$committed"/*.ptx "$committed/SOURCES"
		cp "$out"/*.ptx "$out/SOURCES" "$committed/"
		out=kernels/ptx
	fi
	echo "gen-ptx.sh: wrote $count files to $out (ptxas clean)"
fi
