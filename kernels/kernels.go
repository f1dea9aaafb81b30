// Package kernels holds mec's accelerator kernels: one C body per kernel
// family that compiles both as OpenCL C (at run time, by the OpenCL
// backend) and as CUDA (offline, nvcc → PTX, by `make kernels`), through the
// compat.h header. The PTX for compute_80 and compute_90 is generated and
// committed under ptx/; CI regenerates it and fails when it is stale.
//
// Layer: compute library (kernels). It imports no other mec package.
//
// A family is compiled in the precisions its backends launch it in
// (Precisions): with MEC_FP64 defined the amplitudes are double (complex128
// states) and kernel names end in _f64, without it they are float
// (complex64) and end in _f32.
package kernels

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

//go:embed compat.h *.cl
var sources embed.FS

// Families lists the kernel families (one .cl file each).
func Families() []string {
	ents, _ := sources.ReadDir(".")
	var out []string
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), ".cl"); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Precisions lists the precisions ("f32", "f64") a family is compiled and
// launched in: every family in both, except lif, whose network state is
// double on every backend (it matches the CPU engine step for step), so
// only its f64 kernels are ever launched.
func Precisions(family string) []string {
	if family == "lif" {
		return []string{"f64"}
	}
	return []string{"f32", "f64"}
}

// Source returns the compilable OpenCL C text of a family: compat.h
// followed by the family's body.
func Source(family string) (string, error) {
	compat, err := sources.ReadFile("compat.h")
	if err != nil {
		return "", fmt.Errorf("kernels: %w", err)
	}
	body, err := sources.ReadFile(family + ".cl")
	if err != nil {
		return "", fmt.Errorf("kernels: no family %q (have %s)", family, strings.Join(Families(), ", "))
	}
	return string(compat) + "\n#line 1 \"" + family + ".cl\"\n" + string(body), nil
}

// Hash returns a hex SHA-256 of s, for program caches keyed by source.
func Hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
