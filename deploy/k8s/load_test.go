package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization these manifests
// use, decoded strictly (a misspelt field is an error).
type kustomization struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Namespace  string   `yaml:"namespace"`
	Resources  []string `yaml:"resources"`
	Images     []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
	GeneratorOptions struct {
		DisableNameSuffixHash bool              `yaml:"disableNameSuffixHash"`
		Labels                map[string]string `yaml:"labels"`
	} `yaml:"generatorOptions"`
	ConfigMapGenerator []generator `yaml:"configMapGenerator"`
	SecretGenerator    []generator `yaml:"secretGenerator"`
	Patches            []struct {
		Path   string `yaml:"path"`
		Target struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"target"`
	} `yaml:"patches"`
}

// generator is a configMapGenerator or secretGenerator entry.
type generator struct {
	Name  string   `yaml:"name"`
	Files []string `yaml:"files"`
}

// keys returns the generated object's data keys and their source files.
func (g generator) keys() map[string]string {
	out := map[string]string{}
	for _, f := range g.Files {
		k, p, ok := strings.Cut(f, "=")
		if !ok {
			k, p = filepath.Base(f), f
		}
		out[k] = p
	}
	return out
}

func loadKustomization(path string) (*kustomization, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var k kustomization
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return nil, fmt.Errorf("%s: apiVersion %q kind %q", path, k.APIVersion, k.Kind)
	}
	return &k, nil
}

// codecs decode the API types of the manifests, strictly: an unknown or
// duplicated field is an error.
var decoder = sync.OnceValues(func() (runtime.Decoder, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer(), nil
})

// object is one decoded manifest document.
type object struct {
	where string // file#document
	obj   runtime.Object
}

// decodeStrict decodes one YAML document into its API type.
func decodeStrict(doc []byte) (runtime.Object, error) {
	if _, err := sigsyaml.YAMLToJSONStrict(doc); err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	dec, err := decoder()
	if err != nil {
		return nil, err
	}
	obj, gvk, err := dec.Decode(doc, nil, nil)
	if err != nil {
		return nil, err
	}
	if gvk == nil || gvk.Kind == "" {
		return nil, errors.New("no kind")
	}
	return obj, nil
}

// splitDocs returns the non-empty YAML documents of a file.
func splitDocs(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		j, err := sigsyaml.YAMLToJSON(d)
		if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(string(j)); s == "null" || s == "" {
			continue
		}
		docs = append(docs, d)
	}
}

func loadFile(path string) ([]object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	docs, err := splitDocs(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []object
	for i, d := range docs {
		where := fmt.Sprintf("%s#%d", filepath.Base(path), i+1)
		obj, err := decodeStrict(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, object{where: where, obj: obj})
	}
	return out, nil
}

// manifests is everything kubectl apply -k would create, sorted by type.
type manifests struct {
	kust       *kustomization
	objects    []object
	namespaces []*corev1.Namespace
	configMaps map[string]*corev1.ConfigMap
	services   []*corev1.Service
	pvcs       []*corev1.PersistentVolumeClaim
	pdbs       []*policyv1.PodDisruptionBudget
	policies   []*networkingv1.NetworkPolicy
	workloads  []*workload
	accounts   []*corev1.ServiceAccount
}

// workload is a StatefulSet or Deployment, seen through what both have.
type workload struct {
	kind, name string
	replicas   int32
	selector   *metav1.LabelSelector
	template   *corev1.PodTemplateSpec
	sts        *appsv1.StatefulSet // nil for a Deployment
	dep        *appsv1.Deployment
}

func (w *workload) String() string { return w.kind + " " + w.name }

func (w *workload) role() string { return w.template.Labels["app.kubernetes.io/component"] }

// sort files the decoded objects by type; an unexpected type is an error.
func sortObjects(objs []object) (*manifests, error) {
	m := &manifests{objects: objs, configMaps: map[string]*corev1.ConfigMap{}}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Namespace:
			m.namespaces = append(m.namespaces, v)
		case *corev1.ServiceAccount:
			m.accounts = append(m.accounts, v)
		case *corev1.ConfigMap:
			m.configMaps[v.Name] = v
		case *corev1.Service:
			m.services = append(m.services, v)
		case *corev1.PersistentVolumeClaim:
			m.pvcs = append(m.pvcs, v)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, v)
		case *networkingv1.NetworkPolicy:
			m.policies = append(m.policies, v)
		case *appsv1.StatefulSet:
			r := int32(1)
			if v.Spec.Replicas != nil {
				r = *v.Spec.Replicas
			}
			m.workloads = append(m.workloads, &workload{kind: "StatefulSet", name: v.Name, replicas: r, selector: v.Spec.Selector, template: &v.Spec.Template, sts: v})
		case *appsv1.Deployment:
			r := int32(1)
			if v.Spec.Replicas != nil {
				r = *v.Spec.Replicas
			}
			m.workloads = append(m.workloads, &workload{kind: "Deployment", name: v.Name, replicas: r, selector: v.Spec.Selector, template: &v.Spec.Template, dep: v})
		default:
			return nil, fmt.Errorf("%s: unexpected type %T", o.where, o.obj)
		}
	}
	return m, nil
}

// loadAll loads the kustomization in dir and every resource it lists.
func loadAll(t testing.TB, dir string) *manifests {
	t.Helper()
	k, err := loadKustomization(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var objs []object
	for _, r := range k.Resources {
		o, err := loadFile(filepath.Join(dir, r))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	m, err := sortObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	m.kust = k
	return m
}

// workload returns the named workload.
func (m *manifests) workload(name string) *workload {
	for _, w := range m.workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}
