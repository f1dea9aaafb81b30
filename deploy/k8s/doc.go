// Package k8s holds the Kubernetes manifests of a mec federation (plain
// YAML with a kustomization.yaml: kubectl apply -k deploy/k8s) and, in its
// tests, their offline validation: every object decodes strictly into its
// Kubernetes API type, labels and selectors match, probes point at the
// endpoints and port of package ops, the NetworkPolicies allow exactly the
// links each role needs, and the rendered node configuration and scenario
// pass mec's own checks. It has no code of its own: nothing here is in
// the mec binary.
//
// Layer: deployment. Its code imports no mec package; its tests may import
// ops and the runtime to check the manifests.
package k8s
