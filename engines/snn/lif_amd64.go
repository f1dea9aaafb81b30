//go:build amd64 && !purego

package snn

import "golang.org/x/sys/cpu"

// lifSIMD reports whether the AVX2 LIF kernels run (amd64 with AVX2, not
// built with -tags purego). They use no FMA, so results are bit-identical
// to the pure-Go loops.
var lifSIMD = cpu.X86.HasAVX2

//go:noescape
func lif2AVX2(v, j0, j1, cst *float64, last *int64, n int, par *lifParams, flags *uint8)

//go:noescape
func lif1AVX2(v, j0, cst *float64, last *int64, n int, par *lifParams, flags *uint8)

// lifBlocks runs the AVX2 kernel over the first len(v)&^3 neurons of a
// population slice and returns how many it did; flags[i/4] receives the
// threshold bits of neurons i..i+3. j1 is nil for one channel.
func lifBlocks(v, j0, j1, cst []float64, last []int64, par *lifParams, flags []uint8) int {
	n := len(v) &^ 3
	if !lifSIMD || n == 0 {
		return 0
	}
	_ = j0[n-1]
	_ = cst[n-1]
	_ = last[n-1]
	_ = flags[n/4-1]
	if j1 != nil {
		_ = j1[n-1]
		lif2AVX2(&v[0], &j0[0], &j1[0], &cst[0], &last[0], n, par, &flags[0])
	} else {
		lif1AVX2(&v[0], &j0[0], &cst[0], &last[0], n, par, &flags[0])
	}
	return n
}

// setLIFSIMD turns the AVX2 kernels on (where the CPU has AVX2) or off and
// returns the previous setting; tests compare the two paths.
func setLIFSIMD(on bool) bool {
	old := lifSIMD
	lifSIMD = on && cpu.X86.HasAVX2
	return old
}
