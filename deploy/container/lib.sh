# Shared by base.sh, build.sh and smoke.sh (sourced).

# engine: podman when present, else buildah (builds only).
engine() {
	if command -v podman >/dev/null 2>&1; then echo podman; elif command -v buildah >/dev/null 2>&1; then echo buildah; else
		echo "no podman or buildah: apt-get install podman buildah runc" >&2
		return 1
	fi
}

# image_exists IMAGE
image_exists() {
	case $(engine) in
	podman) podman image exists "$1" ;;
	buildah) buildah inspect --type image "$1" >/dev/null 2>&1 ;;
	esac
}

# The runtime: runc (crun cannot set up cgroups on these machines).
export MEC_OCI_RUNTIME="${MEC_OCI_RUNTIME:-runc}"

# ulimit_args: the rlimits a container may be given here. Without
# CAP_SYS_RESOURCE the runtime cannot raise a limit (podman's defaults
# raise nofile and nproc, and runc then fails with "error setting rlimit
# type 7: operation not permitted"): probe for settings at or below ours.
ulimit_args() {
	n=$(ulimit -Hn)
	[ "$n" = unlimited ] && n=1048576
	[ "$n" -gt 4096 ] && n=4096
	echo "--ulimit nofile=$n:$n --ulimit nproc=4096:4096"
}

# debian_mirror SUITE: the machine's configured Debian mirror for SUITE.
debian_mirror() {
	suite=$1
	m=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		m=$(awk -v s="$suite" '
			/^[[:space:]]*$/ { if (ok && uri != "") { print uri; exit } ok = 0; uri = ""; next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
			END { if (ok && uri != "") print uri }' "$f" | head -n1)
		[ -n "$m" ] && break
	done
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == s) { print $i; exit } }')
	fi
	echo "${m:-http://deb.debian.org/debian}"
}
