package accel

import "unsafe"

// NetBuffers are a spiking network's device buffers by role, for a backend
// whose buffer handles have type M. Upload lays them out identically on
// every backend; the LIF kernels (kernels/lif.cl) read them in this
// meaning.
type NetBuffers[M ~uintptr | ~uint64] struct {
	// Dynamic state: voltages, last spike step, spike counts, loop
	// constants, synaptic drives, delay rings and their stamps.
	V, Last, Count, Cst, J, Ring, Stamp M
	// Per-step scratch: threshold flags, per-group counts, the spike count
	// and list, the uploaded Poisson spikes and forced-spike indices.
	Flag, GCount, NSpk, Spk, PSpk, FIdx M
	// Static tables of Net: populations, channels and incoming synapses.
	Pid, Pint, Preal, Mreal, Pref, Cint, Creal, Inptr, Src, Code, Win M
	// Plasticity tables and traces (Plasticity; allocated only for
	// networks with STDP).
	Plas, XIdx, Sint, Sreal, XSrc, XDec, X M
	// PCap is the capacity of PSpk in values.
	PCap int
	// Owned lists every buffer allocated, so the backend can free them.
	Owned []M
}

// Upload allocates every buffer for h (each at least 8 bytes) with alloc
// and writes h's static tables with write.
func (d *NetBuffers[M]) Upload(h *Net, alloc func(size uintptr) (M, error), write func(m M, p unsafe.Pointer, size uintptr) error) error {
	get := func(dst *M, size uintptr) error {
		m, err := alloc(max(size, 8))
		if err != nil {
			return err
		}
		*dst = m
		d.Owned = append(d.Owned, m)
		return nil
	}
	put := func(dst *M, p unsafe.Pointer, size uintptr) error {
		if err := get(dst, size); err != nil {
			return err
		}
		if size == 0 {
			return nil
		}
		return write(*dst, p, size)
	}
	n := uintptr(h.N)
	g := uintptr(h.Groups)
	d.PCap = max(h.NSources-h.N, 1)
	for _, x := range []struct {
		dst  *M
		size uintptr
	}{
		{&d.V, 8 * n}, {&d.Last, 8 * n}, {&d.Count, 8 * n}, {&d.Cst, 8 * n},
		{&d.J, 8 * uintptr(h.NJ)}, {&d.Ring, 8 * uintptr(h.NRing)}, {&d.Stamp, 8 * uintptr(h.NStamp)},
		{&d.Flag, 4 * n}, {&d.GCount, 4 * g}, {&d.NSpk, 4},
		{&d.Spk, 4 * n}, {&d.PSpk, 4 * uintptr(d.PCap)}, {&d.FIdx, 4 * n},
	} {
		if err := get(x.dst, x.size); err != nil {
			return err
		}
	}
	i32s := func(dst *M, x []int32) error {
		if len(x) == 0 {
			return get(dst, 0)
		}
		return put(dst, unsafe.Pointer(&x[0]), 4*uintptr(len(x)))
	}
	f64s := func(dst *M, x []float64) error {
		if len(x) == 0 {
			return get(dst, 0)
		}
		return put(dst, unsafe.Pointer(&x[0]), 8*uintptr(len(x)))
	}
	for _, f := range []func() error{
		func() error { return i32s(&d.Pid, h.Pid) },
		func() error { return i32s(&d.Pint, h.Pint) },
		func() error { return f64s(&d.Preal, h.Preal) },
		func() error { return f64s(&d.Mreal, h.Mreal) },
		func() error { return put(&d.Pref, unsafe.Pointer(&h.Pref[0]), 8*uintptr(len(h.Pref))) },
		func() error { return i32s(&d.Cint, h.Cint) },
		func() error { return f64s(&d.Creal, h.Creal) },
		func() error { return i32s(&d.Inptr, h.Inptr) },
		func() error { return i32s(&d.Src, h.Src) },
		func() error { return i32s(&d.Code, h.Code) },
		func() error { return f64s(&d.Win, h.Win) },
	} {
		if err := f(); err != nil {
			return err
		}
	}
	if pl := &h.Plastic; pl.NPl > 0 {
		for _, f := range []func() error{
			func() error { return i32s(&d.Plas, pl.Plas) },
			func() error { return i32s(&d.XIdx, pl.XIdx) },
			func() error { return i32s(&d.Sint, pl.Sint) },
			func() error { return f64s(&d.Sreal, pl.Sreal) },
			func() error { return i32s(&d.XSrc, pl.XSrc) },
			func() error { return f64s(&d.XDec, pl.XDec) },
			func() error { return f64s(&d.X, make([]float64, len(pl.XDec))) },
		} {
			if err := f(); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReplacePSpk records that the Poisson-spike buffer old was replaced by m
// of capacity pcap values (the caller frees old).
func (d *NetBuffers[M]) ReplacePSpk(m M, pcap int) {
	for k, x := range d.Owned {
		if x == d.PSpk {
			d.Owned[k] = m
		}
	}
	d.PSpk, d.PCap = m, pcap
}
