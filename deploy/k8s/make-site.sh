#!/usr/bin/env bash
# Make deploy/k8s/site/: the keys of every node of the manifests and the
# federation's roster, on the operator's machine, with `mec node init`
# and `mec node roster` (then `kubectl apply -k deploy/k8s`).
#
#   deploy/k8s/make-site.sh [--federation NAME] [--namespace NS] [--domain cluster.local]
#
# Each node's directory site/NAME holds its private keys (0600) and its
# public entry member.yaml; the roster site/federation.yaml holds public
# keys only. Refuses to overwrite an existing site/NAME: keys are made
# once (delete the directory to re-key that node, then rebuild the
# roster and restart the federation).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
site="$here/site"
federation=mec
ns=mec
domain=cluster.local
while [ $# -gt 0 ]; do
	case $1 in
	--federation) federation=$2; shift 2 ;;
	--namespace) ns=$2; shift 2 ;;
	--domain) domain=$2; shift 2 ;;
	*) echo "usage: $0 [--federation NAME] [--namespace NS] [--domain D]" >&2; exit 2 ;;
	esac
done
mec=${MEC:-mec}
command -v "$mec" >/dev/null || { echo "make-site: no mec binary on PATH (make build; MEC=bin/mec $0)" >&2; exit 1; }
umask 077
mkdir -p "$site"

init() { # NAME ROLE [mec node init flags...]
	name=$1 role=$2
	shift 2
	if [ -e "$site/$name/sign.key" ]; then
		echo "make-site: $name already has keys; keeping them"
		return
	fi
	"$mec" node init --data "$site/$name" --name "$name" --role "$role" "$@" >/dev/null
	echo "make-site: $name ($role)"
}
for i in 0 1 2; do
	h="mec-core-$i.mec-core.$ns.svc"
	init "mec-core-$i" core --client "tls://$h:4222" --route "tls://$h:6222" --leaf "tls://$h:7422" \
		--san "$h.$domain,mec-core-$i.mec-core,mec-core-$i"
done
h="mec-relay-0.$ns.svc"
init mec-relay-0 relay --leaf "tls://$h:7422" --san "$h.$domain,mec-relay-0"
init mec-edge-0 edge --relay mec-relay-0
init mec-edge-1 edge --relay mec-relay-0
init mec-observer-0 observer
"$mec" node roster --federation "$federation" --out "$site/federation.yaml" "$site"/mec-*/member.yaml
chmod 0644 "$site/federation.yaml"
echo "make-site: roster $site/federation.yaml; next: kubectl apply -k $here"
