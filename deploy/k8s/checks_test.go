package k8s

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/ops"
	"github.com/prismai/mec/runtime/orchestrator"
)

// Namespace is where every object lives.
const namespace = "mec"

// selects reports whether a label selector selects a set of labels (an
// invalid selector selects nothing).
func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(l))
}

// selectsMap reports whether a Service-style selector (a label map)
// selects a set of labels; an empty one selects nothing here.
func selectsMap(sel, l map[string]string) bool {
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(l))
}

// checkMetadata: every object in the namespace, labelled as mec's.
func checkMetadata(m *manifests) []error {
	var errs []error
	for _, o := range m.objects {
		acc, ok := o.obj.(metav1.Object)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no metadata", o.where))
			continue
		}
		if _, isNS := o.obj.(*corev1.Namespace); !isNS && acc.GetNamespace() != namespace {
			errs = append(errs, fmt.Errorf("%s %s: namespace %q, want %q", o.where, acc.GetName(), acc.GetNamespace(), namespace))
		}
		if acc.GetLabels()["app.kubernetes.io/part-of"] != "mec" {
			errs = append(errs, fmt.Errorf("%s %s: no label app.kubernetes.io/part-of=mec", o.where, acc.GetName()))
		}
	}
	if m.kust != nil && m.kust.Namespace != namespace {
		errs = append(errs, fmt.Errorf("kustomization namespace %q", m.kust.Namespace))
	}
	return errs
}

// containerPort returns the container port a probe or Service port
// names (by name or number) in a pod template, and the container.
func containerPort(tpl *corev1.PodTemplateSpec, p intstr.IntOrString) (*corev1.ContainerPort, *corev1.Container) {
	for i := range tpl.Spec.Containers {
		c := &tpl.Spec.Containers[i]
		for j := range c.Ports {
			cp := &c.Ports[j]
			if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
				return cp, c
			}
		}
	}
	return nil, nil
}

// checkSelectors: each workload's selector selects its own pods and no
// other workload's; each Service selects a workload and its target ports
// exist there with the Service's port number; a StatefulSet's Service is
// headless and selects it; the PodDisruptionBudget selects exactly the
// cores and lets one go.
func checkSelectors(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		if !selects(w.selector, w.template.Labels) {
			errs = append(errs, fmt.Errorf("%s: selector %v does not match its pod template's labels %v", w, w.selector, w.template.Labels))
		}
		for _, o := range m.workloads {
			if o != w && selects(w.selector, o.template.Labels) {
				errs = append(errs, fmt.Errorf("%s: selector %v also selects the pods of %s", w, w.selector, o))
			}
		}
	}
	svcs := map[string]*corev1.Service{}
	for _, s := range m.services {
		svcs[s.Name] = s
		var matched []*workload
		for _, w := range m.workloads {
			if selectsMap(s.Spec.Selector, w.template.Labels) {
				matched = append(matched, w)
			}
		}
		if len(matched) == 0 {
			errs = append(errs, fmt.Errorf("Service %s: selector %v selects no workload", s.Name, s.Spec.Selector))
		}
		for _, w := range matched {
			for _, p := range s.Spec.Ports {
				tp := p.TargetPort
				if tp.Type == intstr.Int && tp.IntVal == 0 {
					tp = intstr.FromInt32(p.Port)
				}
				cp, _ := containerPort(w.template, tp)
				switch {
				case cp == nil:
					errs = append(errs, fmt.Errorf("Service %s port %s: target port %s is not a container port of %s", s.Name, p.Name, tp.String(), w))
				case cp.ContainerPort != p.Port:
					errs = append(errs, fmt.Errorf("Service %s port %s: %d, but %s's %s port is %d", s.Name, p.Name, p.Port, w, cp.Name, cp.ContainerPort))
				}
			}
		}
	}
	for _, w := range m.workloads {
		if w.sts == nil {
			continue
		}
		s := svcs[w.sts.Spec.ServiceName]
		switch {
		case s == nil:
			errs = append(errs, fmt.Errorf("%s: serviceName %q names no Service", w, w.sts.Spec.ServiceName))
		case s.Spec.ClusterIP != corev1.ClusterIPNone:
			errs = append(errs, fmt.Errorf("%s: Service %s is not headless", w, s.Name))
		case !selectsMap(s.Spec.Selector, w.template.Labels):
			errs = append(errs, fmt.Errorf("%s: its Service %s does not select its pods", w, s.Name))
		case !s.Spec.PublishNotReadyAddresses:
			errs = append(errs, fmt.Errorf("%s: Service %s must publish not-ready pods (the routes form before readiness)", w, s.Name))
		}
	}
	cores := 0
	for _, pdb := range m.pdbs {
		var sel []string
		for _, w := range m.workloads {
			if selects(pdb.Spec.Selector, w.template.Labels) {
				sel = append(sel, w.name)
			}
		}
		if !slices.Equal(sel, []string{"mec-core"}) {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s selects %v, want the cores only", pdb.Name, sel))
		} else {
			cores++
		}
		if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "1" || pdb.Spec.MinAvailable != nil {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: want maxUnavailable 1 (JetStream R3 keeps quorum)", pdb.Name))
		}
	}
	if cores != 1 {
		errs = append(errs, fmt.Errorf("%d PodDisruptionBudgets for the cores, want 1", cores))
	}
	return errs
}

// checkProbes: every node container is probed on ops's paths, through
// the container port that is ops.HTTPSPort, over HTTPS.
func checkProbes(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		for i := range w.template.Spec.Containers {
			c := &w.template.Spec.Containers[i]
			for _, pr := range []struct {
				kind  string
				probe *corev1.Probe
				path  string
			}{{"liveness", c.LivenessProbe, ops.HealthzPath}, {"readiness", c.ReadinessProbe, ops.ReadyzPath}, {"startup", c.StartupProbe, ops.HealthzPath}} {
				where := fmt.Sprintf("%s container %s %s probe", w, c.Name, pr.kind)
				if pr.probe == nil || pr.probe.HTTPGet == nil {
					errs = append(errs, fmt.Errorf("%s: missing (want GET %s)", where, pr.path))
					continue
				}
				g := pr.probe.HTTPGet
				if g.Path != pr.path {
					errs = append(errs, fmt.Errorf("%s: path %q, want %q", where, g.Path, pr.path))
				}
				if g.Scheme != corev1.URISchemeHTTPS {
					errs = append(errs, fmt.Errorf("%s: scheme %q, want HTTPS", where, g.Scheme))
				}
				cp, owner := containerPort(w.template, g.Port)
				switch {
				case cp == nil:
					errs = append(errs, fmt.Errorf("%s: port %s is not a container port", where, g.Port.String()))
				case owner != c:
					errs = append(errs, fmt.Errorf("%s: port %s belongs to container %s", where, g.Port.String(), owner.Name))
				case cp.ContainerPort != ops.HTTPSPort:
					errs = append(errs, fmt.Errorf("%s: port %s is %d, but the node serves %s on %d", where, g.Port.String(), cp.ContainerPort, g.Path, ops.HTTPSPort))
				}
			}
		}
	}
	return errs
}

// checkPorts: the named container ports of each role are the node's.
func checkPorts(m *manifests) []error {
	want := map[string]map[string]int32{
		"core":     {"client": ops.ClientPort, "routes": ops.RoutePort, "leaf": ops.LeafPort, "https": ops.HTTPSPort},
		"relay":    {"leaf": ops.LeafPort, "https": ops.HTTPSPort},
		"edge":     {"https": ops.HTTPSPort},
		"observer": {"https": ops.HTTPSPort},
	}
	var errs []error
	for _, w := range m.workloads {
		got := map[string]int32{}
		for _, c := range w.template.Spec.Containers {
			for _, p := range c.Ports {
				got[p.Name] = p.ContainerPort
			}
		}
		if !maps.Equal(got, want[w.role()]) {
			errs = append(errs, fmt.Errorf("%s (%s): ports %v, want %v", w, w.role(), got, want[w.role()]))
		}
	}
	return errs
}

// checkSecurity: non-root, read-only root filesystem, no capabilities,
// no privilege escalation, seccomp RuntimeDefault, no API token;
// resources on every container.
func checkSecurity(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		ps := w.template.Spec.SecurityContext
		if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
			errs = append(errs, fmt.Errorf("%s: pod must run as a non-root user", w))
		}
		if ps == nil || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			errs = append(errs, fmt.Errorf("%s: seccomp profile must be RuntimeDefault", w))
		}
		if a := w.template.Spec.AutomountServiceAccountToken; a == nil || *a {
			errs = append(errs, fmt.Errorf("%s: automountServiceAccountToken must be false", w))
		}
		cs := append(slices.Clone(w.template.Spec.InitContainers), w.template.Spec.Containers...)
		for _, c := range cs {
			sc := c.SecurityContext
			where := fmt.Sprintf("%s container %s", w, c.Name)
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				errs = append(errs, fmt.Errorf("%s: readOnlyRootFilesystem must be true", where))
			}
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				errs = append(errs, fmt.Errorf("%s: allowPrivilegeEscalation must be false", where))
			}
			if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
				errs = append(errs, fmt.Errorf("%s: must drop ALL capabilities and add none", where))
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, okr := c.Resources.Requests[r]
				lim, okl := c.Resources.Limits[r]
				if !okr || !okl || req.Cmp(lim) > 0 {
					errs = append(errs, fmt.Errorf("%s: %s request and limit (request ≤ limit) required", where, r))
				}
			}
		}
	}
	return errs
}

// configMapKeys returns the data keys of a ConfigMap, from the manifests
// or from the kustomization's generators (nil: no such ConfigMap).
func (m *manifests) configMapKeys(name string) []string {
	if cm, ok := m.configMaps[name]; ok {
		return slices.Sorted(maps.Keys(cm.Data))
	}
	if m.kust != nil {
		for _, g := range m.kust.ConfigMapGenerator {
			if g.Name == name {
				return slices.Sorted(maps.Keys(g.keys()))
			}
		}
	}
	return nil
}

// secretKeys returns the data keys of a generated Secret (nil: none).
func (m *manifests) secretKeys(name string) []string {
	if m.kust != nil {
		for _, g := range m.kust.SecretGenerator {
			if g.Name == name {
				return slices.Sorted(maps.Keys(g.keys()))
			}
		}
	}
	return nil
}

// checkVolumes: every mount names a volume (or claim template), every
// ConfigMap, Secret and claim a volume names exists, with the keys its
// items name; the data volume is persistent.
func checkVolumes(m *manifests) []error {
	var errs []error
	pvcs := map[string]bool{}
	for _, p := range m.pvcs {
		pvcs[p.Name] = true
	}
	for _, w := range m.workloads {
		vols := map[string]corev1.Volume{}
		for _, v := range w.template.Spec.Volumes {
			vols[v.Name] = v
		}
		claims := map[string]bool{}
		if w.sts != nil {
			for _, c := range w.sts.Spec.VolumeClaimTemplates {
				claims[c.Name] = true
			}
		}
		cs := append(slices.Clone(w.template.Spec.InitContainers), w.template.Spec.Containers...)
		for _, c := range cs {
			for _, vm := range c.VolumeMounts {
				if _, ok := vols[vm.Name]; !ok && !claims[vm.Name] {
					errs = append(errs, fmt.Errorf("%s container %s: mount %s names no volume", w, c.Name, vm.Name))
				}
			}
		}
		for _, v := range w.template.Spec.Volumes {
			var keys []string
			var items []corev1.KeyToPath
			switch {
			case v.ConfigMap != nil:
				if keys = m.configMapKeys(v.ConfigMap.Name); keys == nil {
					errs = append(errs, fmt.Errorf("%s volume %s: no ConfigMap %s", w, v.Name, v.ConfigMap.Name))
				}
				items = v.ConfigMap.Items
			case v.Secret != nil:
				if keys = m.secretKeys(v.Secret.SecretName); keys == nil {
					errs = append(errs, fmt.Errorf("%s volume %s: no Secret %s", w, v.Name, v.Secret.SecretName))
				}
				items = v.Secret.Items
			case v.PersistentVolumeClaim != nil:
				if !pvcs[v.PersistentVolumeClaim.ClaimName] {
					errs = append(errs, fmt.Errorf("%s volume %s: no PersistentVolumeClaim %s", w, v.Name, v.PersistentVolumeClaim.ClaimName))
				}
			}
			for _, it := range items {
				if keys != nil && !slices.Contains(keys, it.Key) {
					errs = append(errs, fmt.Errorf("%s volume %s: item key %s is not in the object (keys %v)", w, v.Name, it.Key, keys))
				}
			}
		}
		data, ok := vols["data"]
		if !claims["data"] && (!ok || data.PersistentVolumeClaim == nil) {
			errs = append(errs, fmt.Errorf("%s: the data volume (ledger, JetStream) must be a PersistentVolumeClaim", w))
		}
	}
	return errs
}

// mountOf returns the mount of a volume in a container.
func mountOf(c *corev1.Container, volume string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == volume {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

// mountAt returns the mount at a path in a container.
func mountAt(c *corev1.Container, p string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].MountPath == p {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volumeOf(w *workload, name string) *corev1.Volume {
	for i := range w.template.Spec.Volumes {
		if w.template.Spec.Volumes[i].Name == name {
			return &w.template.Spec.Volumes[i]
		}
	}
	return nil
}

// nodeContainer returns a workload's mec container.
func nodeContainer(w *workload) *corev1.Container {
	for i := range w.template.Spec.Containers {
		if w.template.Spec.Containers[i].Name == "mec" {
			return &w.template.Spec.Containers[i]
		}
	}
	return nil
}

// checkNodeConfig renders each node's configuration as the container sees
// it — the ConfigMap file its --config names, its environment — and runs
// ops.NodeConfig's checks; the paths it names must be the mounts.
func checkNodeConfig(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		c := nodeContainer(w)
		if c == nil {
			errs = append(errs, fmt.Errorf("%s: no container named mec", w))
			continue
		}
		if len(c.Args) != 3 || c.Args[0] != "node" || c.Args[1] != "--config" {
			errs = append(errs, fmt.Errorf("%s: args %q, want [node --config FILE]", w, c.Args))
			continue
		}
		vm := mountAt(c, c.Args[2])
		if vm == nil || vm.SubPath == "" {
			errs = append(errs, fmt.Errorf("%s: --config %s is not a file mounted from a ConfigMap", w, c.Args[2]))
			continue
		}
		v := volumeOf(w, vm.Name)
		if v == nil || v.ConfigMap == nil || m.configMaps[v.ConfigMap.Name] == nil {
			errs = append(errs, fmt.Errorf("%s: --config %s: volume %s is not a ConfigMap of the manifests", w, c.Args[2], vm.Name))
			continue
		}
		cmName := v.ConfigMap.Name
		text, ok := m.configMaps[cmName].Data[vm.SubPath]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: ConfigMap %s has no key %s", w, cmName, vm.SubPath))
			continue
		}
		env := map[string]string{}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				env[e.Name] = e.Value
			}
		}
		cfg, _, err := ops.LoadNodeConfig(ops.Layers{File: "ConfigMap " + cmName + "/" + vm.SubPath, Data: []byte(text), LookupEnv: ops.LookupEnvMap(env)})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w, err))
			continue
		}
		if cfg.Role != w.role() {
			errs = append(errs, fmt.Errorf("%s: the node's role is %q, its label says %q", w, cfg.Role, w.role()))
		}
		if dm := mountOf(c, "data"); dm == nil || dm.MountPath != cfg.Data {
			errs = append(errs, fmt.Errorf("%s: data %s is not the data volume's mount", w, cfg.Data))
		}
		for _, f := range []struct{ key, path, cm string }{{"roster", cfg.Roster, "mec-roster"}, {"scenario", cfg.Scenario, "mec-scenario"}} {
			fm := mountAt(c, path.Dir(f.path))
			fv := (*corev1.Volume)(nil)
			if fm != nil {
				fv = volumeOf(w, fm.Name)
			}
			if fv == nil || fv.ConfigMap == nil || fv.ConfigMap.Name != f.cm || !slices.Contains(m.configMapKeys(f.cm), path.Base(f.path)) {
				errs = append(errs, fmt.Errorf("%s: %s %s is not a key of ConfigMap %s mounted at %s", w, f.key, f.path, f.cm, path.Dir(f.path)))
			}
		}
		for _, p := range []struct{ key, path string }{{"report", cfg.Report}, {"status", cfg.Status}} {
			if p.path != "" && !strings.HasPrefix(p.path, cfg.Data+"/") {
				errs = append(errs, fmt.Errorf("%s: %s %s is not on the data volume (the root filesystem is read-only)", w, p.key, p.path))
			}
		}
		if !cfg.HTTP.TLS || !strings.HasSuffix(cfg.HTTP.Listen, fmt.Sprintf(":%d", ops.HTTPSPort)) {
			errs = append(errs, fmt.Errorf("%s: http %+v, but the probes use HTTPS on %d", w, cfg.HTTP, ops.HTTPSPort))
		}
	}
	return errs
}

// checkScenario: the scenario ConfigMap passes the runtime's own check and
// injects no fault.
func checkScenario(m *manifests) []error {
	cm := m.configMaps["mec-scenario"]
	if cm == nil {
		return []error{errors.New("no ConfigMap mec-scenario")}
	}
	text, ok := cm.Data["scenario.yaml"]
	if !ok {
		return []error{errors.New("ConfigMap mec-scenario has no scenario.yaml")}
	}
	cfg, err := orchestrator.ParseConfig([]byte(text))
	if err != nil {
		return []error{fmt.Errorf("ConfigMap mec-scenario: %w", err)}
	}
	if len(cfg.Faults) != 0 {
		return []error{fmt.Errorf("ConfigMap mec-scenario injects %d faults", len(cfg.Faults))}
	}
	return nil
}

// keyFiles are the files of a node's identity (mec node init).
var keyFiles = []string{federation.SigningKeyFile, federation.KEMKeyFile, federation.NKeyFile, federation.TLSKeyFile, federation.TLSCertFile, federation.MemberFile}

// checkKeys: each pod's init container copies exactly its own node's key
// files from its Secret into the data volume, mode 0600; a StatefulSet's
// pods find theirs by pod name.
func checkKeys(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		var ic *corev1.Container
		for i := range w.template.Spec.InitContainers {
			if w.template.Spec.InitContainers[i].Name == "keys" {
				ic = &w.template.Spec.InitContainers[i]
			}
		}
		if ic == nil {
			errs = append(errs, fmt.Errorf("%s: no init container keys", w))
			continue
		}
		km, dm := mountOf(ic, "keys"), mountOf(ic, "data")
		nc := nodeContainer(w)
		if km == nil || dm == nil || nc == nil || mountOf(nc, "data") == nil || mountOf(nc, "data").MountPath != dm.MountPath {
			errs = append(errs, fmt.Errorf("%s: the keys init container must mount the keys and the node's data volume", w))
			continue
		}
		want := []string{"install", "-m", "0600"}
		for _, f := range keyFiles {
			want = append(want, path.Join(km.MountPath, f))
		}
		want = append(want, dm.MountPath+"/")
		if !slices.Equal(ic.Command, want) {
			errs = append(errs, fmt.Errorf("%s: keys init container runs %q, want %q", w, ic.Command, want))
		}
		v := volumeOf(w, "keys")
		if v == nil || v.Secret == nil {
			errs = append(errs, fmt.Errorf("%s: the keys volume is not a Secret", w))
			continue
		}
		var instances []string
		if w.sts != nil {
			if km.SubPathExpr != "$(POD_NAME)" {
				errs = append(errs, fmt.Errorf("%s: the keys mount must select the pod's directory (subPathExpr $(POD_NAME))", w))
			}
			ok := false
			for _, e := range ic.Env {
				ok = ok || (e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name")
			}
			if !ok {
				errs = append(errs, fmt.Errorf("%s: the keys init container needs POD_NAME from metadata.name", w))
			}
			for i := range w.replicas {
				instances = append(instances, fmt.Sprintf("%s-%d/", w.name, i))
			}
		} else {
			if km.SubPath != "" || km.SubPathExpr != "" {
				errs = append(errs, fmt.Errorf("%s: the keys mount selects a sub-path", w))
			}
			if v.Secret.SecretName != w.name+"-keys" {
				errs = append(errs, fmt.Errorf("%s: keys from Secret %s, want %s-keys", w, v.Secret.SecretName, w.name))
			}
			instances = []string{""}
		}
		var paths []string
		for _, it := range v.Secret.Items {
			paths = append(paths, it.Path)
		}
		for _, dir := range instances {
			for _, f := range keyFiles {
				if !slices.Contains(paths, dir+f) {
					errs = append(errs, fmt.Errorf("%s: Secret %s items lack %s%s", w, v.Secret.SecretName, dir, f))
				}
			}
		}
	}
	return errs
}

// pod is a pod for the NetworkPolicy evaluation: a workload's, or one
// outside the namespace (the scraper, cluster DNS).
type pod struct {
	name      string
	namespace map[string]string // the namespace's labels
	labels    map[string]string
	ports     []corev1.ContainerPort
}

// link is one allowed connection.
type link struct {
	from, to string
	proto    corev1.Protocol
	port     int32
}

func (l link) String() string { return fmt.Sprintf("%s -> %s %s/%d", l.from, l.to, l.proto, l.port) }

// peerMatches reports whether a NetworkPolicy peer admits pod p (the
// policy's namespace labels: ns).
func peerMatches(peer networkingv1.NetworkPolicyPeer, ns map[string]string, p pod) bool {
	if peer.IPBlock != nil {
		return false
	}
	if peer.NamespaceSelector == nil {
		if !maps.Equal(p.namespace, ns) {
			return false
		}
	} else if !selects(peer.NamespaceSelector, p.namespace) {
		return false
	}
	return peer.PodSelector == nil || selects(peer.PodSelector, p.labels)
}

// portMatches reports whether a rule's ports admit proto/port on the
// destination pod dst (named ports resolve there).
func portMatches(ports []networkingv1.NetworkPolicyPort, proto corev1.Protocol, port int32, dst pod) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.Type == intstr.Int {
			end := p.Port.IntVal
			if p.EndPort != nil {
				end = *p.EndPort
			}
			if port >= p.Port.IntVal && port <= end {
				return true
			}
			continue
		}
		for _, cp := range dst.ports {
			if cp.Name == p.Port.StrVal && cp.ContainerPort == port {
				return true
			}
		}
	}
	return false
}

// allowedDir reports whether the policies of subject's namespace let the
// connection through in one direction (ingress: subject is the
// destination; egress: the source).
func allowedDir(pols []*networkingv1.NetworkPolicy, ns map[string]string, subject, peer, dst pod, proto corev1.Protocol, port int32, egress bool) bool {
	if !maps.Equal(subject.namespace, ns) {
		return true // no policy of ours isolates a pod elsewhere
	}
	want := networkingv1.PolicyTypeIngress
	if egress {
		want = networkingv1.PolicyTypeEgress
	}
	isolated := false
	for _, pol := range pols {
		if !slices.Contains(pol.Spec.PolicyTypes, want) || !selects(&pol.Spec.PodSelector, subject.labels) {
			continue
		}
		isolated = true
		if egress {
			for _, r := range pol.Spec.Egress {
				if (len(r.To) == 0 || slices.ContainsFunc(r.To, func(pe networkingv1.NetworkPolicyPeer) bool { return peerMatches(pe, ns, peer) })) &&
					portMatches(r.Ports, proto, port, dst) {
					return true
				}
			}
		} else {
			for _, r := range pol.Spec.Ingress {
				if (len(r.From) == 0 || slices.ContainsFunc(r.From, func(pe networkingv1.NetworkPolicyPeer) bool { return peerMatches(pe, ns, peer) })) &&
					portMatches(r.Ports, proto, port, dst) {
					return true
				}
			}
		}
	}
	return !isolated
}

// links evaluates the NetworkPolicies over every pair of pods and every
// port any of them listens on (plus DNS): the allowed connections.
func links(m *manifests) []link {
	nsLabels := map[string]string{"kubernetes.io/metadata.name": namespace}
	for _, n := range m.namespaces {
		if n.Name == namespace {
			maps.Copy(nsLabels, n.Labels)
		}
	}
	var pods []pod
	for _, w := range m.workloads {
		var ports []corev1.ContainerPort
		for _, c := range w.template.Spec.Containers {
			ports = append(ports, c.Ports...)
		}
		pods = append(pods, pod{name: w.role(), namespace: nsLabels, labels: w.template.Labels, ports: ports})
	}
	pods = append(pods,
		pod{name: "monitoring", namespace: map[string]string{"kubernetes.io/metadata.name": "monitoring"}, labels: map[string]string{"app": "prometheus"}},
		pod{name: "dns", namespace: map[string]string{"kubernetes.io/metadata.name": "kube-system"}, labels: map[string]string{"k8s-app": "kube-dns"},
			ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53}}})
	seen := map[link]bool{}
	var out []link
	for _, from := range pods {
		for _, to := range pods {
			for _, cp := range to.ports {
				proto := cp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				if allowedDir(m.policies, nsLabels, to, from, to, proto, cp.ContainerPort, false) &&
					allowedDir(m.policies, nsLabels, from, to, to, proto, cp.ContainerPort, true) {
					l := link{from.name, to.name, proto, cp.ContainerPort}
					if !seen[l] {
						seen[l] = true
						out = append(out, l)
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b link) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// wantLinks are the connections the roles need, and no other.
func wantLinks() []link {
	tcp := corev1.ProtocolTCP
	ls := []link{
		{"core", "core", tcp, ops.RoutePort},
		{"edge", "core", tcp, ops.LeafPort}, {"relay", "core", tcp, ops.LeafPort}, {"observer", "core", tcp, ops.LeafPort},
		{"edge", "relay", tcp, ops.LeafPort},
	}
	for _, r := range ops.Roles() {
		ls = append(ls, link{"monitoring", r, tcp, ops.HTTPSPort}, link{r, "dns", corev1.ProtocolUDP, 53}, link{r, "dns", tcp, 53})
	}
	// Outside the namespace nothing of ours applies.
	ls = append(ls, link{"monitoring", "dns", corev1.ProtocolUDP, 53}, link{"monitoring", "dns", tcp, 53},
		link{"dns", "dns", corev1.ProtocolUDP, 53}, link{"dns", "dns", tcp, 53})
	slices.SortFunc(ls, func(a, b link) int { return strings.Compare(a.String(), b.String()) })
	return ls
}

// checkNetworkPolicies: every policy selects pods, and together they
// allow exactly wantLinks.
func checkNetworkPolicies(m *manifests) []error {
	var errs []error
	for _, pol := range m.policies {
		if len(pol.Spec.PodSelector.MatchLabels) == 0 && len(pol.Spec.PodSelector.MatchExpressions) == 0 {
			continue // the namespace-wide default deny
		}
		n := 0
		for _, w := range m.workloads {
			if selects(&pol.Spec.PodSelector, w.template.Labels) {
				n++
			}
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s: podSelector %v selects no workload", pol.Name, pol.Spec.PodSelector.MatchLabels))
		}
	}
	got, want := links(m), wantLinks()
	for _, l := range got {
		if !slices.Contains(want, l) {
			errs = append(errs, fmt.Errorf("NetworkPolicies allow %s, which no role needs", l))
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) {
			errs = append(errs, fmt.Errorf("NetworkPolicies deny %s, which the roles need", l))
		}
	}
	return errs
}

// checkAll runs every check.
func checkAll(m *manifests) []error {
	var errs []error
	for _, c := range []func(*manifests) []error{checkMetadata, checkSelectors, checkProbes, checkPorts, checkSecurity, checkVolumes,
		checkNodeConfig, checkScenario, checkKeys, checkNetworkPolicies} {
		errs = append(errs, c(m)...)
	}
	return errs
}
