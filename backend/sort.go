package backend

import "sort"

// sortedOrder returns the indices of u in ascending order of value (ties by index).
func sortedOrder(u []float64) []int {
	idx := make([]int, len(u))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return u[idx[a]] < u[idx[b]] })
	return idx
}
