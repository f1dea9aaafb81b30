package k8s

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	sigsyaml "sigs.k8s.io/yaml"
)

func requireNone(t *testing.T, errs []error) {
	t.Helper()
	for _, e := range errs {
		t.Error(e)
	}
}

func TestManifests(t *testing.T) {
	m := loadAll(t, ".")
	requireNone(t, checkAll(m))

	kinds := map[string]int{}
	for _, o := range m.objects {
		kinds[fmt.Sprintf("%T", o.obj)]++
	}
	t.Logf("objects: %v", kinds)
	core := m.workload("mec-core")
	if core == nil || core.sts == nil || core.replicas != 3 {
		t.Fatalf("the cores: %v, want a StatefulSet of 3", core)
	}
	if core.sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Error("the cores must start in parallel: the first cannot become ready alone")
	}
	if len(core.sts.Spec.VolumeClaimTemplates) != 1 || core.sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Error("the cores need a data volumeClaimTemplate (ledger, JetStream)")
	}
	roles := map[string][]string{}
	for _, w := range m.workloads {
		roles[w.role()] = append(roles[w.role()], w.kind)
		if w.dep != nil && w.dep.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("%s: an identity's Deployment must Recreate (never two pods with one key)", w)
		}
		if w.dep != nil && w.replicas != 1 {
			t.Errorf("%s: %d replicas of one identity", w, w.replicas)
		}
	}
	for role, want := range map[string]string{"core": "StatefulSet", "edge": "Deployment", "relay": "Deployment", "observer": "Deployment"} {
		if len(roles[role]) == 0 || roles[role][0] != want {
			t.Errorf("role %s: %v, want %s", role, roles[role], want)
		}
	}
}

// TestKustomization: every resource and generated file it names is where
// make-site.sh puts it, and the generators cover what the workloads use.
func TestKustomization(t *testing.T) {
	k, err := loadKustomization("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(r); err != nil {
			t.Errorf("resource %s: %v", r, err)
		}
	}
	if !k.GeneratorOptions.DisableNameSuffixHash {
		t.Error("the workloads name the generated objects: disable the name suffix hash")
	}
	gens := append(slices.Clone(k.ConfigMapGenerator), k.SecretGenerator...)
	for _, g := range gens {
		for key, p := range g.keys() {
			if !strings.HasPrefix(p, "site/") {
				t.Errorf("%s: %s from %s, outside site/ (made by make-site.sh)", g.Name, key, p)
			}
		}
	}
	roster := false
	for _, g := range k.ConfigMapGenerator {
		roster = roster || (g.Name == "mec-roster" && g.keys()["federation.yaml"] == "site/federation.yaml")
	}
	if !roster {
		t.Error("no mec-roster ConfigMap from site/federation.yaml")
	}
	// The site files are secret: git never sees them.
	ig, err := os.ReadFile(filepath.Join("site", ".gitignore"))
	if err != nil || !strings.Contains(string(ig), "*\n") {
		t.Errorf("site/.gitignore must ignore everything: %q %v", ig, err)
	}
}

// TestGPUVariant applies the GPU overlay's patch to the core StatefulSet
// as kustomize does (strategic merge) and checks the result.
func TestGPUVariant(t *testing.T) {
	gk, err := loadKustomization(filepath.Join("gpu", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gk.Resources, []string{".."}) || len(gk.Patches) != 1 || gk.Patches[0].Target.Kind != "StatefulSet" || gk.Patches[0].Target.Name != "mec-core" {
		t.Fatalf("gpu/kustomization.yaml: resources %v, patches %+v", gk.Resources, gk.Patches)
	}
	patchYAML, err := os.ReadFile(filepath.Join("gpu", gk.Patches[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	// The patch itself is a strictly valid (partial) StatefulSet.
	if _, err := decodeStrict(patchYAML); err != nil {
		t.Fatalf("gpu patch: %v", err)
	}
	m := loadAll(t, ".")
	core := m.workload("mec-core")
	orig, err := json.Marshal(core.sts)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := sigsyaml.YAMLToJSONStrict(patchYAML)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(orig, patch, appsv1.StatefulSet{})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := decodeStrict(merged)
	if err != nil {
		t.Fatalf("patched StatefulSet: %v", err)
	}
	sts := obj.(*appsv1.StatefulSet)
	spec := sts.Spec.Template.Spec
	if spec.RuntimeClassName == nil || *spec.RuntimeClassName != "nvidia" {
		t.Errorf("runtimeClassName %v, want nvidia", spec.RuntimeClassName)
	}
	c := spec.Containers[0]
	if len(spec.Containers) != 1 || c.Name != "mec" {
		t.Fatalf("the patch added containers: %d", len(spec.Containers))
	}
	if q, ok := c.Resources.Limits["nvidia.com/gpu"]; !ok || !q.Equal(resource.MustParse("1")) {
		t.Errorf("nvidia.com/gpu limit %v, want 1", c.Resources.Limits)
	}
	if c.LivenessProbe == nil || c.Resources.Limits.Cpu().IsZero() {
		t.Error("the patch dropped the container's probes or limits")
	}
	// The patched cores pass every check in place of the plain ones.
	core.sts, core.template = sts, &sts.Spec.Template
	requireNone(t, checkAll(m))
}

// The failure modes the checks exist for, each shown on a copy of the
// real manifests.

func TestBrokenSelectorIsCaught(t *testing.T) {
	m := loadAll(t, ".")
	core := m.workload("mec-core")
	core.sts.Spec.Selector.MatchLabels["app.kubernetes.io/component"] = "cores"
	errs := checkSelectors(m)
	if !containsErr(errs, "StatefulSet mec-core: selector") || !containsErr(errs, "does not match its pod template") {
		t.Fatalf("a StatefulSet selector that misses its pods passed: %v", errs)
	}

	m = loadAll(t, ".")
	for _, s := range m.services {
		if s.Name == "mec-relay-0" {
			s.Spec.Selector["app.kubernetes.io/instance"] = "mec-relay-1"
		}
	}
	if errs := checkSelectors(m); !containsErr(errs, "Service mec-relay-0: selector") {
		t.Fatalf("a Service selecting nothing passed: %v", errs)
	}

	m = loadAll(t, ".")
	m.pdbs[0].Spec.Selector.MatchLabels = map[string]string{"app.kubernetes.io/name": "mec"}
	if errs := checkSelectors(m); !containsErr(errs, "PodDisruptionBudget mec-core selects [mec-core mec-relay-0") {
		t.Fatalf("a PodDisruptionBudget over every node passed: %v", errs)
	}

	m = loadAll(t, ".")
	m.policies[len(m.policies)-1].Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] = "observers"
	if errs := checkNetworkPolicies(m); !containsErr(errs, "NetworkPolicy mec-observer: podSelector") || !containsErr(errs, "deny observer -> core TCP/7422") {
		t.Fatalf("a NetworkPolicy selecting nothing passed: %v", errs)
	}
}

func TestWrongProbePortIsCaught(t *testing.T) {
	m := loadAll(t, ".")
	c := nodeContainer(m.workload("mec-core"))
	c.ReadinessProbe.HTTPGet.Port = intstr.FromInt32(8080)
	if errs := checkProbes(m); !containsErr(errs, "readiness probe: port 8080 is not a container port") {
		t.Fatalf("a probe on a port the pod does not open passed: %v", errs)
	}
	c.ReadinessProbe.HTTPGet.Port = intstr.FromString("leaf")
	if errs := checkProbes(m); !containsErr(errs, "port leaf is 7422, but the node serves /readyz on 8443") {
		t.Fatalf("a probe on the leaf port passed: %v", errs)
	}
	c.ReadinessProbe.HTTPGet.Port = intstr.FromString("https")
	c.LivenessProbe.HTTPGet.Path = "/health"
	c.StartupProbe.HTTPGet.Scheme = corev1.URISchemeHTTP
	errs := checkProbes(m)
	if !containsErr(errs, `liveness probe: path "/health", want "/healthz"`) || !containsErr(errs, `startup probe: scheme "HTTP", want HTTPS`) {
		t.Fatalf("a wrong probe path or scheme passed: %v", errs)
	}
	// A Service whose port is not the container's.
	m = loadAll(t, ".")
	for _, s := range m.services {
		if s.Name == "mec-core" {
			s.Spec.Ports[1].Port = 6223
		}
	}
	if errs := checkSelectors(m); !containsErr(errs, "Service mec-core port routes: 6223, but StatefulSet mec-core's routes port is 6222") {
		t.Fatalf("a Service port off its container port passed: %v", errs)
	}
}

func TestUnknownFieldIsCaught(t *testing.T) {
	data, err := os.ReadFile("core.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := splitDocs(data)
	if err != nil {
		t.Fatal(err)
	}
	var sts []byte
	for _, d := range docs {
		if strings.Contains(string(d), "kind: StatefulSet") {
			sts = d
		}
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"top level", "  replicas: 3\n", "  replicas: 3\n  replicaz: 3\n", `unknown field "spec.replicaz"`},
		{"in a container", "          imagePullPolicy: IfNotPresent\n          args:", "          imagePullPolicy: IfNotPresent\n          argz: []\n          args:", `unknown field "spec.template.spec.containers[0].argz"`},
		{"in a probe", "            periodSeconds: 10\n", "            periodSeconds: 10\n            periodSecond: 10\n", `unknown field "spec.template.spec.containers[0].livenessProbe.periodSecond"`},
		{"duplicated", "  replicas: 3\n", "  replicas: 3\n  replicas: 4\n", `"replicas" already set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(sts), tc.from, tc.to, 1)
			if bad == string(sts) {
				t.Fatalf("the test's edit %q does not apply", tc.from)
			}
			_, err := decodeStrict([]byte(bad))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decoded with %s: err %v, want %q", tc.name, err, tc.want)
			}
		})
	}
	if _, err := decodeStrict([]byte("apiVersion: v1\nkind: Servise\nmetadata: {name: x}\n")); err == nil {
		t.Fatal("an unknown kind decoded")
	}
}

func TestBadNodeConfigIsCaught(t *testing.T) {
	m := loadAll(t, ".")
	cm := m.configMaps["mec-node-config"]
	cm.Data["node.yaml"] = strings.Replace(cm.Data["node.yaml"], "ticks: 0", "ticks: -1\ntickz: 1", 1)
	errs := checkNodeConfig(m)
	if !containsErr(errs, `ConfigMap mec-node-config/node.yaml:`) || !containsErr(errs, `unknown key "tickz"`) {
		t.Fatalf("an unknown key in the node configuration passed: %v", errs)
	}
	m = loadAll(t, ".")
	c := nodeContainer(m.workload("mec-edge-0"))
	c.Env[0].Value = "egde"
	if errs := checkNodeConfig(m); !containsErr(errs, `env PRISM_NODE_ROLE: role: unknown role "egde"`) {
		t.Fatalf("a bad role in the environment passed: %v", errs)
	}
	m = loadAll(t, ".")
	m.configMaps["mec-scenario"].Data["scenario.yaml"] += "tickz: 300\n"
	if errs := checkScenario(m); !containsErr(errs, "ConfigMap mec-scenario: orchestrator:") || !containsErr(errs, "tickz") {
		t.Fatalf("an unknown scenario key passed: %v", errs)
	}
	m = loadAll(t, ".")
	m.configMaps["mec-scenario"].Data["scenario.yaml"] = strings.Replace(m.configMaps["mec-scenario"].Data["scenario.yaml"], "faults: []", "faults: [{tick: 3, kind: decohere}]", 1)
	if errs := checkScenario(m); !containsErr(errs, "injects 1 faults") {
		t.Fatalf("a fault in the deployed scenario passed: %v", errs)
	}
}

func TestNetworkLinks(t *testing.T) {
	m := loadAll(t, ".")
	for _, l := range links(m) {
		t.Log(l)
	}
	// Without the routes rule the cores cannot cluster.
	for _, p := range m.policies {
		if p.Name == "mec-core" {
			p.Spec.Ingress = p.Spec.Ingress[1:]
		}
	}
	if errs := checkNetworkPolicies(m); !containsErr(errs, "deny core -> core TCP/6222") {
		t.Fatalf("dropping the routes rule went unnoticed: %v", errs)
	}
	// Opening the client port to the edges is a link no role needs.
	m = loadAll(t, ".")
	for _, p := range m.policies {
		if p.Name == "mec-core" {
			p.Spec.Ingress[1].Ports = nil
		}
		if p.Name == "mec-edge" {
			p.Spec.Egress[0].Ports = nil
		}
	}
	if errs := checkNetworkPolicies(m); !containsErr(errs, "allow edge -> core TCP/4222") {
		t.Fatalf("an open client port went unnoticed: %v", errs)
	}
}

func containsErr(errs []error, s string) bool {
	return slices.ContainsFunc(errs, func(e error) bool { return strings.Contains(e.Error(), s) })
}
