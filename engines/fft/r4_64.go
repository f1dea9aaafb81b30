package fft

// r4inner64 is the complex64 counterpart of r4inner128 (engine64.go is
// generated from engine128.go): complex64 has no assembly kernel.
func r4inner64(y0, y1, y2, y3, x0, x1, x2, x3 []complex64, w *[3]complex64, inv bool) int {
	return 0
}

// r4s1inner64 is the complex64 counterpart of r4s1inner128 (no assembly).
func r4s1inner64(y, x0, x1, x2, x3, tw []complex64, inv bool) int { return 0 }
