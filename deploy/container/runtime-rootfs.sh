#!/bin/sh
# Assemble the runtime image's tree (run in the build stage of the
# Containerfile, as root): runtime-rootfs.sh MEC_BINARY DEST
#
#   /usr/bin/mec            the binary
#   /usr/lib/<triplet>/     glibc's shared libraries (Debian's libc6, no
#                           gconv modules) and those of /usr/bin/install
#   /usr/bin/install        coreutils' install: the Kubernetes init
#                           container copies the node's keys with it (0600)
#   /etc/ld.so.cache        for dlopen of libraries mounted at run time
#   /etc/ssl/certs/ca-certificates.crt
#   /etc/passwd, /etc/group root and mec (10001:10001), no login shell
#   /var/lib/mec            the data volume's mount point, mec's, 0700
#   /tmp                    1777 (a tmpfs or emptyDir under a read-only root)
set -eu
bin=$1
R=$2
umask 022
rm -rf "$R"
mkdir -p "$R/usr/bin" "$R/usr/lib" "$R/usr/lib64" "$R/usr/sbin" "$R/etc/ld.so.conf.d" "$R/etc/ssl/certs" "$R/etc/mec" \
	"$R/var/lib/mec" "$R/tmp" "$R/dev" "$R/proc" "$R/sys" "$R/run" "$R/usr/share/doc"
# Merged /usr, as in Debian 12.
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"

# copyfile SRC: copy SRC (a file or symlink) to the same canonical path in $R.
copyfile() {
	d=$(cd "$(dirname "$1")" && pwd -P)
	mkdir -p "$R$d"
	cp -P --preserve=mode,timestamps "$1" "$R$d/"
}

# glibc: the shared objects of libc6.
dpkg -L libc6 | while read -r f; do
	case $f in
	*/gconv/*) continue ;;
	/lib/* | /lib64/* | /usr/lib/* | /usr/lib64/* | /etc/ld.so.conf.d/*) ;;
	*) continue ;;
	esac
	if [ -f "$f" ] || [ -L "$f" ]; then
		[ -d "$f" ] || copyfile "$f"
	fi
done
mkdir -p "$R/usr/share/doc/libc6"
cp /usr/share/doc/libc6/copyright "$R/usr/share/doc/libc6/"
printf 'include /etc/ld.so.conf.d/*.conf\n' >"$R/etc/ld.so.conf"

# install(1) and the libraries it links.
cp /usr/bin/install "$R/usr/bin/install"
mkdir -p "$R/usr/share/doc/coreutils"
cp /usr/share/doc/coreutils/copyright "$R/usr/share/doc/coreutils/"
ldd /usr/bin/install | awk '/=> \// {print $3}' | while read -r lib; do
	d=$(cd "$(dirname "$lib")" && pwd -P)
	mkdir -p "$R$d"
	cp -L "$lib" "$R$d/"
	pkg=$(dpkg -S "$lib" 2>/dev/null | head -n1 | cut -d: -f1) || true
	if [ -n "$pkg" ] && [ -f "/usr/share/doc/$pkg/copyright" ]; then
		mkdir -p "$R/usr/share/doc/$pkg"
		cp "/usr/share/doc/$pkg/copyright" "$R/usr/share/doc/$pkg/"
	fi
done

# The binary.
cp "$bin" "$R/usr/bin/mec"
chmod 0755 "$R/usr/bin/mec" "$R/usr/bin/install"

ldconfig -r "$R"

cp -L /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
cp -L /etc/os-release "$R/etc/os-release"
cat >"$R/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/usr/sbin/nologin
mec:x:10001:10001:mec node:/var/lib/mec:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat >"$R/etc/group" <<'GROUP'
root:x:0:
mec:x:10001:
nogroup:x:65534:
GROUP
printf 'hosts: files dns\n' >"$R/etc/nsswitch.conf"

chown 10001:10001 "$R/var/lib/mec"
chmod 0700 "$R/var/lib/mec"
chmod 1777 "$R/tmp"
chmod 0755 "$R/etc/mec"

# Nothing in the image may be writable by mec except its data directory
# (the root filesystem is mounted read-only anyway).
find "$R" -xdev ! -type l -perm /022 ! -path "$R/tmp" -exec chmod go-w {} +
echo "runtime tree: $(du -sh "$R" | cut -f1) in $(find "$R" -type f | wc -l) files"
