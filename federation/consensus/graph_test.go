package consensus

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomGraph returns an Erdős–Rényi graph G(n, p).
func randomGraph(t testing.TB, r *rand.Rand, n int, p float64) *Graph {
	t.Helper()
	var e [][2]int
	for i := range n {
		for j := i + 1; j < n; j++ {
			if r.Float64() < p {
				e = append(e, [2]int{i, j})
			}
		}
	}
	g, err := FromEdges(n, e)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// randomConnected draws G(n, p) until it is connected.
func randomConnected(t testing.TB, r *rand.Rand, n int, p float64) *Graph {
	t.Helper()
	for {
		if g := randomGraph(t, r, n, p); g.Connected() {
			return g
		}
	}
}

// TestCompleteAndRing checks the degrees, edges and connectivity of K_n
// and C_n, including the degenerate n = 1 and n = 2 (exact).
func TestCompleteAndRing(t *testing.T) {
	for n := 1; n <= 7; n++ {
		g, err := Complete(n)
		if err != nil {
			t.Fatal(err)
		}
		if g.N() != n || len(g.Edges()) != n*(n-1)/2 || !g.Connected() {
			t.Errorf("K_%d: N %d, %d edges, connected %t", n, g.N(), len(g.Edges()), g.Connected())
		}
		for i, d := range g.Degrees() {
			if d != n-1 {
				t.Errorf("K_%d: degree of %d is %d", n, i, d)
			}
		}
	}
	want := map[int][][2]int{
		1: nil,
		2: {{0, 1}},
		3: {{0, 1}, {0, 2}, {1, 2}},
		5: {{0, 1}, {0, 4}, {1, 2}, {2, 3}, {3, 4}},
	}
	wantDeg := map[int][]int{1: {0}, 2: {1, 1}, 3: {2, 2, 2}, 5: {2, 2, 2, 2, 2}}
	for n, e := range want {
		g, err := Ring(n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(g.Edges(), e) || !slices.Equal(g.Degrees(), wantDeg[n]) || !g.Connected() {
			t.Errorf("ring %d: edges %v degrees %v connected %t; want edges %v degrees %v", n, g.Edges(), g.Degrees(), g.Connected(), e, wantDeg[n])
		}
	}
}

// TestFromEdgesAndAdjacency checks that duplicates and both orientations
// give one edge, that both constructors agree, and the component count.
func TestFromEdgesAndAdjacency(t *testing.T) {
	g, err := FromEdges(6, [][2]int{{1, 0}, {0, 1}, {0, 1}, {2, 3}, {4, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{0, 1}, {2, 3}, {3, 4}}; !slices.Equal(g.Edges(), want) {
		t.Errorf("edges %v, want %v", g.Edges(), want)
	}
	if g.Components() != 3 || g.Connected() { // {0,1}, {2,3,4}, {5}
		t.Errorf("components %d connected %t, want 3 false", g.Components(), g.Connected())
	}
	a := make([][]bool, 6)
	for i := range a {
		a[i] = make([]bool, 6)
	}
	for _, e := range g.Edges() {
		a[e[0]][e[1]], a[e[1]][e[0]] = true, true
	}
	h, err := FromAdjacency(a)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Edges(), g.Edges()) {
		t.Errorf("FromAdjacency edges %v, FromEdges %v", h.Edges(), g.Edges())
	}
	var nilG *Graph
	if nilG.N() != 0 || nilG.Components() != 0 || nilG.Connected() || len(nilG.Edges()) != 0 || len(nilG.Degrees()) != 0 {
		t.Error("nil graph is not empty")
	}
}

// TestGraphErrors checks that every invalid input is an error (no panic)
// whose message names the problem.
func TestGraphErrors(t *testing.T) {
	cases := []struct {
		name, want string
		f          func() (*Graph, error)
	}{
		{"complete 0", "0 vertices", func() (*Graph, error) { return Complete(0) }},
		{"ring -1", "-1 vertices", func() (*Graph, error) { return Ring(-1) }},
		{"edges n 0", "0 vertices", func() (*Graph, error) { return FromEdges(0, nil) }},
		{"empty matrix", "empty adjacency", func() (*Graph, error) { return FromAdjacency(nil) }},
		{"not square", "not square", func() (*Graph, error) { return FromAdjacency([][]bool{{false, true}, {true}}) }},
		{"asymmetric", "not symmetric", func() (*Graph, error) {
			return FromAdjacency([][]bool{{false, true, false}, {true, false, true}, {false, false, false}})
		}},
		{"self loop", "self loop at vertex 1", func() (*Graph, error) { return FromAdjacency([][]bool{{false, false}, {false, true}}) }},
		{"edge range", "out of range", func() (*Graph, error) { return FromEdges(3, [][2]int{{0, 3}}) }},
		{"edge negative", "out of range", func() (*Graph, error) { return FromEdges(3, [][2]int{{-1, 0}}) }},
		{"edge loop", "self loop", func() (*Graph, error) { return FromEdges(3, [][2]int{{0, 1}, {2, 2}}) }},
	}
	for _, c := range cases {
		g, err := c.f()
		if err == nil || g != nil {
			t.Errorf("%s: got %v, %v; want an error", c.name, g, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "consensus: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want prefix \"consensus: \" and %q", c.name, err, c.want)
		}
	}
}
