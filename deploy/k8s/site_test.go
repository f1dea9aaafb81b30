package k8s

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/ops"
)

// TestSite checks what make-site.sh made (site/: the nodes' keys and the
// roster) against the manifests: every file the kustomization's
// generators read is there, the roster passes the federation's own
// checks, its members are exactly the pods of the workloads with their
// roles, and each advertised URL is a Service DNS name and port that
// reaches that pod. It skips when site/ has not been made (CI makes it:
// .ci/run).
func TestSite(t *testing.T) {
	if _, err := os.Stat(filepath.Join("site", "federation.yaml")); err != nil {
		t.Skip("no site/federation.yaml: run deploy/k8s/make-site.sh (MEC=bin/mec) first")
	}
	m := loadAll(t, ".")
	for _, g := range append(slices.Clone(m.kust.ConfigMapGenerator), m.kust.SecretGenerator...) {
		for key, p := range g.keys() {
			st, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s/%s: %v", g.Name, key, err)
				continue
			}
			secret := !strings.HasSuffix(p, ".crt") && !strings.HasSuffix(p, ".yaml")
			if secret && st.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: mode %v: a private key readable by others", p, st.Mode().Perm())
			}
		}
	}
	r, err := federation.LoadRoster(filepath.Join("site", "federation.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]*workload{}
	for _, w := range m.workloads {
		if w.sts != nil {
			for i := range w.replicas {
				pods[fmt.Sprintf("%s-%d", w.name, i)] = w
			}
		} else {
			pods[w.name] = w
		}
	}
	for _, mb := range r.Members {
		w := pods[mb.Name]
		if w == nil {
			t.Errorf("roster member %s is no pod of the manifests", mb.Name)
			continue
		}
		if string(mb.Role) != w.role() {
			t.Errorf("roster member %s: role %s, but %s runs it as %s", mb.Name, mb.Role, w, w.role())
		}
		for _, u := range []struct {
			kind, url string
			port      int32
		}{{"client", mb.Client, ops.ClientPort}, {"route", mb.Route, ops.RoutePort}, {"leaf", mb.Leaf, ops.LeafPort}} {
			if u.url == "" {
				continue
			}
			if err := reaches(m, mb.Name, w, u.url, u.port); err != nil {
				t.Errorf("roster member %s %s URL: %v", mb.Name, u.kind, err)
			}
		}
		if mb.Role == federation.Core && (mb.Client == "" || mb.Route == "" || mb.Leaf == "") {
			t.Errorf("core %s lacks a client, route or leaf URL", mb.Name)
		}
		if mb.Role == federation.Relay && mb.Leaf == "" {
			t.Errorf("relay %s has no leaf URL", mb.Name)
		}
		if mb.Relay != "" && (pods[mb.Relay] == nil || pods[mb.Relay].role() != "relay") {
			t.Errorf("edge %s: relay %s is no relay of the manifests", mb.Name, mb.Relay)
		}
	}
	for name := range pods {
		if r.Member(name) == nil {
			t.Errorf("pod %s is not in the roster", name)
		}
	}
}

// reaches checks that a URL's host is the cluster DNS name of a Service
// selecting the pod (POD.SERVICE.NS.svc for a headless Service,
// SERVICE.NS.svc otherwise) and that its port is that Service's port to
// the container port the node listens on.
func reaches(m *manifests, pod string, w *workload, raw string, want int32) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || int32(port) != want {
		return fmt.Errorf("%s: port %s, want %d", raw, u.Port(), want)
	}
	labels := strings.Split(strings.TrimSuffix(u.Hostname(), ".cluster.local"), ".")
	if len(labels) < 3 || labels[len(labels)-1] != "svc" || labels[len(labels)-2] != namespace {
		return fmt.Errorf("%s: not a Service name of namespace %s", raw, namespace)
	}
	svcName := labels[len(labels)-3]
	var svc *corev1.Service
	for _, s := range m.services {
		if s.Name == svcName {
			svc = s
		}
	}
	switch {
	case svc == nil:
		return fmt.Errorf("%s: no Service %s", raw, svcName)
	case !selectsMap(svc.Spec.Selector, w.template.Labels):
		return fmt.Errorf("%s: Service %s does not select %s", raw, svcName, w)
	case svc.Spec.ClusterIP == corev1.ClusterIPNone && (len(labels) != 4 || labels[0] != pod):
		return fmt.Errorf("%s: a headless Service's pod is reached as %s.%s.%s.svc", raw, pod, svcName, namespace)
	case svc.Spec.ClusterIP != corev1.ClusterIPNone && len(labels) != 3:
		return fmt.Errorf("%s: want %s.%s.svc", raw, svcName, namespace)
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == want {
			if cp, _ := containerPort(w.template, p.TargetPort); cp != nil && cp.ContainerPort == want {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: Service %s has no port %d to the node's listener", raw, svcName, want)
}
