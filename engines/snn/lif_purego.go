//go:build purego || !amd64

package snn

// lifSIMD is false: the pure-Go loops do every neuron.
const lifSIMD = false

// lifBlocks does nothing without the assembly kernels.
func lifBlocks(v, j0, j1, cst []float64, last []int64, par *lifParams, flags []uint8) int {
	return 0
}

// setLIFSIMD has nothing to switch.
func setLIFSIMD(bool) bool { return false }
