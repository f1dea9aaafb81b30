package consensus

import (
	"errors"
	"fmt"
)

// Graph is an undirected simple graph (no self loops, no multiple edges)
// on the vertices 0, …, n−1, n ≥ 1. The zero value and nil are not valid
// graphs; build one with [Complete], [Ring], [FromAdjacency] or
// [FromEdges].
type Graph struct {
	adj [][]int // adj[i]: the neighbours of i, ascending
}

// checkOrder validates a vertex count.
func checkOrder(n int) error {
	if n < 1 {
		return fmt.Errorf("consensus: graph of %d vertices (want at least 1)", n)
	}
	return nil
}

// Complete returns the complete graph K_n: every pair of distinct
// vertices is an edge. K_1 is a single vertex without edges.
func Complete(n int) (*Graph, error) {
	if err := checkOrder(n); err != nil {
		return nil, err
	}
	g := &Graph{adj: make([][]int, n)}
	for i := range n {
		nb := make([]int, 0, n-1)
		for j := range n {
			if j != i {
				nb = append(nb, j)
			}
		}
		g.adj[i] = nb
	}
	return g, nil
}

// Ring returns the cycle C_n on 0, 1, …, n−1, 0 for n ≥ 3. The
// degenerate cases are the simple graphs the cycle collapses to: n = 1 is
// a single vertex without edges and n = 2 is the single edge {0, 1} (not a
// double edge).
func Ring(n int) (*Graph, error) {
	if err := checkOrder(n); err != nil {
		return nil, err
	}
	g := &Graph{adj: make([][]int, n)}
	switch {
	case n == 1:
		g.adj[0] = []int{}
	case n == 2:
		g.adj[0] = []int{1}
		g.adj[1] = []int{0}
	default:
		for i := range n {
			a, b := (i+n-1)%n, (i+1)%n
			if a > b {
				a, b = b, a
			}
			g.adj[i] = []int{a, b}
		}
	}
	return g, nil
}

// FromAdjacency builds a graph from its adjacency matrix: a[i][j] reports
// an edge {i, j}. The matrix must be square with at least one row,
// symmetric, and have a false diagonal (no self loops); otherwise the
// error names the first offending entry.
func FromAdjacency(a [][]bool) (*Graph, error) {
	n := len(a)
	if n == 0 {
		return nil, errors.New("consensus: empty adjacency matrix (want at least 1 vertex)")
	}
	for i, row := range a {
		if len(row) != n {
			return nil, fmt.Errorf("consensus: adjacency matrix is not square: row %d has %d entries, want %d", i, len(row), n)
		}
	}
	g := &Graph{adj: make([][]int, n)}
	for i := range n {
		if a[i][i] {
			return nil, fmt.Errorf("consensus: adjacency matrix has a self loop at vertex %d", i)
		}
		nb := []int{}
		for j := range n {
			if a[i][j] != a[j][i] {
				return nil, fmt.Errorf("consensus: adjacency matrix is not symmetric: a[%d][%d] = %t but a[%d][%d] = %t", i, j, a[i][j], j, i, a[j][i])
			}
			if a[i][j] {
				nb = append(nb, j)
			}
		}
		g.adj[i] = nb
	}
	return g, nil
}

// FromEdges builds the graph on n vertices with the given undirected
// edges. An edge {i, j} may be listed in either orientation and more than
// once (it is one edge); both ends must be in [0, n) and distinct.
func FromEdges(n int, edges [][2]int) (*Graph, error) {
	if err := checkOrder(n); err != nil {
		return nil, err
	}
	a := make([][]bool, n)
	for i := range a {
		a[i] = make([]bool, n)
	}
	for k, e := range edges {
		i, j := e[0], e[1]
		if i < 0 || i >= n || j < 0 || j >= n {
			return nil, fmt.Errorf("consensus: edge %d {%d, %d}: vertex out of range [0, %d)", k, i, j, n)
		}
		if i == j {
			return nil, fmt.Errorf("consensus: edge %d {%d, %d} is a self loop", k, i, j)
		}
		a[i][j], a[j][i] = true, true
	}
	return FromAdjacency(a)
}

// N returns the number of vertices (0 for a nil graph).
func (g *Graph) N() int {
	if g == nil {
		return 0
	}
	return len(g.adj)
}

// Degrees returns the degree of every vertex (a fresh slice).
func (g *Graph) Degrees() []int {
	d := make([]int, g.N())
	for i := range d {
		d[i] = len(g.adj[i])
	}
	return d
}

// Edges returns every edge once, as {i, j} with i < j, in lexicographic
// order (a fresh slice).
func (g *Graph) Edges() [][2]int {
	var e [][2]int
	for i := range g.N() {
		for _, j := range g.adj[i] {
			if i < j {
				e = append(e, [2]int{i, j})
			}
		}
	}
	return e
}

// Components returns the number of connected components (0 for a nil
// graph).
func (g *Graph) Components() int {
	if g == nil {
		return 0
	}
	return components(g.adj)
}

// Connected reports whether the graph has exactly one component.
func (g *Graph) Connected() bool { return g.Components() == 1 }

// components counts the connected components of an adjacency list.
func components(adj [][]int) int {
	seen := make([]bool, len(adj))
	stack := make([]int, 0, len(adj))
	c := 0
	for s := range adj {
		if seen[s] {
			continue
		}
		c++
		seen[s] = true
		stack = append(stack[:0], s)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, u := range adj[v] {
				if !seen[u] {
					seen[u] = true
					stack = append(stack, u)
				}
			}
		}
	}
	return c
}
