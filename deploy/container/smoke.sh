#!/usr/bin/env bash
# Smoke test of the mec image (CI, after `make image`), as root:
#
#  1. The image's filesystem: the user, the permissions, no shell, no
#     setuid file, nothing writable but /tmp and the data directory, the
#     glibc userland the binary needs, the image's User/Entrypoint/Volume.
#  2. In a container (podman, runtime runc; read-only root, non-root, all
#     capabilities dropped, no network, the data directory on a volume):
#     `mec devices` (the CPU loaded, CUDA skipped with its reason), a
#     short `mec run --ticks 20` with its ledger on the volume, `mec ledger
#     verify`, the init container's key copy (install -m 0600) and `mec
#     node init`, and a write to the read-only root failing.
#
# When no container can start on this machine, it prints the runtime's
# exact error and runs step 2's commands in the image's filesystem through
# chroot as the image's user instead. MEC_SMOKE_REQUIRE_CONTAINER=1 makes
# that a failure; MEC_SMOKE_FORCE_FALLBACK=1 takes the chroot path (to
# test it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
image=${MEC_IMAGE:-localhost/mec:latest}
ticks=${MEC_SMOKE_TICKS:-20}
eng=$(engine)
work=$(mktemp -d /var/tmp/mec-smoke.XXXXXX)
vol=""
cleanup() {
	[ -n "$vol" ] && podman volume rm -f "$vol" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "smoke: FAIL: $*" >&2
	exit 1
}
pass=0
ok() {
	pass=$((pass + 1))
	echo "smoke: ok: $*"
}

# --- 1. The filesystem -------------------------------------------------
root="$work/root"
mkdir -p "$root"
case $eng in
podman)
	c=$(podman create "$image")
	podman export "$c" | tar -x -C "$root" --numeric-owner
	podman rm -f "$c" >/dev/null
	cfg=$(podman image inspect "$image" --format '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Volumes}}')
	;;
buildah)
	c=$(buildah from "$image")
	mnt=$(buildah mount "$c")
	cp -a "$mnt/." "$root/"
	buildah umount "$c" >/dev/null
	buildah rm "$c" >/dev/null
	cfg=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}|{{json .OCIv1.Config.Entrypoint}}|{{json .OCIv1.Config.Volumes}}' "$image")
	;;
esac
[ "${cfg%%|*}" = "10001:10001" ] || fail "image user ${cfg%%|*}, want 10001:10001"
case $cfg in *'|["mec"]|'*) ;; *) fail "entrypoint: $cfg" ;; esac
case $cfg in *'/var/lib/mec'*) ;; *) fail "no volume /var/lib/mec: $cfg" ;; esac
ok "image config: user 10001:10001, entrypoint [mec], volume /var/lib/mec"
grep -qx 'mec:x:10001:10001:mec node:/var/lib/mec:/usr/sbin/nologin' "$root/etc/passwd" || fail "no user mec in /etc/passwd"
[ "$(stat -c '%u:%g %a' "$root/var/lib/mec")" = "10001:10001 700" ] || fail "/var/lib/mec: $(stat -c '%u:%g %a' "$root/var/lib/mec")"
[ "$(stat -c '%a' "$root/tmp")" = 1777 ] || fail "/tmp mode $(stat -c %a "$root/tmp")"
[ "$(stat -c '%u %a' "$root/usr/bin/mec")" = "0 755" ] || fail "/usr/bin/mec: $(stat -c '%u %a' "$root/usr/bin/mec")"
ok "users and permissions: mec 10001 owns only /var/lib/mec (0700); /tmp 1777; /usr/bin/mec root 0755"
[ ! -e "$root/bin/sh" ] && [ ! -e "$root/usr/bin/bash" ] || fail "the image has a shell"
[ -z "$(find "$root" -xdev -perm /6000 -type f)" ] || fail "setuid/setgid files: $(find "$root" -xdev -perm /6000 -type f)"
ww=$(find "$root" -xdev ! -type l -perm /002 ! -path "$root/tmp")
[ -z "$ww" ] || fail "world-writable: $ww"
ok "no shell, no setuid file, nothing world-writable but /tmp"
for f in lib64/ld-linux-x86-64.so.2 etc/ld.so.cache etc/ssl/certs/ca-certificates.crt usr/bin/install etc/nsswitch.conf; do
	[ -e "$root/$f" ] || fail "missing /$f"
done
interp=/lib64/ld-linux-x86-64.so.2
if command -v file >/dev/null; then
	interp=$(file -L "$root/usr/bin/mec" | sed -n 's/.*interpreter \([^,]*\),.*/\1/p')
fi
[ -n "$interp" ] && [ -e "$root$interp" ] || fail "the binary's interpreter ${interp:-?} is not in the image"
ok "glibc userland: $interp, ld.so.cache, CA bundle, install(1); $(du -sh "$root" | cut -f1) in $(find "$root" -type f | wc -l) files"

# --- 2. Running it -----------------------------------------------------
check_devices() { # OUTPUT
	grep -Eq '^cpu +0 +loaded' <<<"$1" || fail "mec devices: the CPU backend is not loaded:\n$1"
	grep -Eq '^cuda +30 +skipped .*libcuda\.so' <<<"$1" || fail "mec devices: no CUDA skip reason:\n$1"
	grep -q '^default: cpu' <<<"$1" || fail "mec devices: default is not cpu"
}
check_run() { # OUTPUT
	grep -Eq 'constitutional compliance' <<<"$1" || fail "mec run printed no verification table:\n$1"
}

container=0
errfile="$work/probe.err"
if [ "${MEC_SMOKE_FORCE_FALLBACK:-0}" = 1 ]; then
	echo "MEC_SMOKE_FORCE_FALLBACK=1: not trying a container" >"$errfile"
elif [ "$eng" = podman ]; then
	# shellcheck disable=SC2046
	if podman run --rm --runtime "$MEC_OCI_RUNTIME" $(ulimit_args) --network none "$image" --version >/dev/null 2>"$errfile" ||
		podman run --rm --runtime "$MEC_OCI_RUNTIME" $(ulimit_args) --network none "$image" devices >/dev/null 2>>"$errfile"; then
		container=1
	fi
else
	echo "buildah only: no podman to run containers" >"$errfile"
fi

if [ $container = 1 ]; then
	vol="mec-smoke-$$"
	podman volume create "$vol" >/dev/null
	run() {
		# shellcheck disable=SC2046
		podman run --rm --runtime "$MEC_OCI_RUNTIME" $(ulimit_args) --read-only --cap-drop ALL \
			--security-opt no-new-privileges --network none -v "$vol:/var/lib/mec" "$@"
	}
	out=$(run "$image" devices 2>&1) || fail "mec devices: $out"
	check_devices "$out"
	ok "container: mec devices (cpu loaded; $(grep -E '^cuda' <<<"$out" | sed 's/  */ /g'))"
	t0=$(date +%s)
	out=$(run "$image" run --ticks "$ticks" --ledger /var/lib/mec/ledger 2>&1) || fail "mec run: $out"
	check_run "$out"
	ok "container: mec run --ticks $ticks in $(($(date +%s) - t0)) s, ledger on the volume"
	out=$(run "$image" ledger verify /var/lib/mec/ledger 2>&1) || fail "mec ledger verify: $out"
	ok "container: mec ledger verify: $(head -n1 <<<"$out")"
	if out=$(run "$image" run --ticks 1 --ledger /ledger 2>&1); then
		fail "a ledger on the read-only root filesystem was written"
	fi
	grep -qi 'read-only' <<<"$out" || fail "writing to the root filesystem failed without saying it is read-only: $out"
	ok "container: the root filesystem is read-only"
	# The key flow of the Kubernetes manifests: keys made by `mec node
	# init`, copied by the init container with install -m 0600.
	mkdir -p "$work/keys"
	out=$(run "$image" node init --data /var/lib/mec/made --name smoke-core --role core --client tls://localhost:4222 \
		--route tls://localhost:6222 --leaf tls://localhost:7422 2>&1) || fail "mec node init: $out"
	mp=$(podman volume inspect "$vol" --format '{{.Mountpoint}}')
	cp "$mp"/made/* "$work/keys/"
	chmod 0444 "$work/keys"/*
	run -v "$work/keys:/etc/mec/keys:ro" --entrypoint install "$image" -m 0600 /etc/mec/keys/sign.key /etc/mec/keys/kem.key \
		/etc/mec/keys/nkey.seed /etc/mec/keys/tls.key /etc/mec/keys/tls.crt /etc/mec/keys/member.yaml /var/lib/mec/ ||
		fail "the key copy (install -m 0600) failed"
	for f in sign.key kem.key nkey.seed tls.key tls.crt member.yaml; do
		[ "$(stat -c '%u %a' "$mp/$f")" = "10001 600" ] || fail "$f copied as $(stat -c '%u %a' "$mp/$f")"
	done
	ok "container: mec node init on the volume; the init container's install -m 0600 leaves the keys mec's, 0600"
else
	echo "smoke: no container can start on this machine; the runtime said:" >&2
	sed 's/^/smoke:   /' "$errfile" >&2
	[ "${MEC_SMOKE_REQUIRE_CONTAINER:-0}" = 1 ] && fail "a container is required (MEC_SMOKE_REQUIRE_CONTAINER=1)"
	echo "smoke: running the image's binary in its own filesystem through chroot as 10001:10001 instead" >&2
	mkdir -p "$root/dev" "$root/proc"
	mount --bind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	trap 'umount "$root/proc" "$root/dev" 2>/dev/null || true; cleanup' EXIT
	chroot=$(command -v chroot)
	inroot() { env -i PATH=/usr/bin HOME=/var/lib/mec "$chroot" --userspec=10001:10001 "$root" "$@"; }
	out=$(inroot /usr/bin/mec devices 2>&1) || fail "mec devices: $out"
	check_devices "$out"
	ok "chroot: mec devices"
	out=$(inroot /usr/bin/mec run --ticks "$ticks" --ledger /var/lib/mec/ledger 2>&1) || fail "mec run: $out"
	check_run "$out"
	ok "chroot: mec run --ticks $ticks"
	out=$(inroot /usr/bin/mec ledger verify /var/lib/mec/ledger 2>&1) || fail "mec ledger verify: $out"
	ok "chroot: mec ledger verify"
	if inroot /usr/bin/mec run --ticks 1 --ledger /etc/ledger >/dev/null 2>&1; then
		fail "the image's user could write to /etc"
	fi
	ok "chroot: the image's user cannot write outside its data directory"
fi
echo "smoke: $pass passed, 0 failed"
