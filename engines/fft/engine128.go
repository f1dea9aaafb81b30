// The complex64 engine (engine64.go) is generated from this file by gen.go:
// edit this file only, then run `go generate` in this folder. When a kernel
// changes (here, or the assembly gen_r16.go writes), bump KernelVersion
// (planner.go) so that plans measured with the old kernels are measured again.

//go:generate go run gen.go

package fft

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// pool128 hands out scratch buffers of one fixed length.
type pool128 struct {
	size int
	p    sync.Pool
}

func (b *pool128) get() *[]complex128 {
	if v := b.p.Get(); v != nil {
		return v.(*[]complex128)
	}
	s := make([]complex128, b.size)
	return &s
}

func (b *pool128) put(s *[]complex128) { b.p.Put(s) }

// stage128 is one radix-r pass of a Stockham autosort transform of length
// n = s·r·m: for k < m, q < s it reads x[q+s(k+jm)], j < r, and writes the
// twiddled radix-r DFT to y[q+s(rk+t)], t < r.
type stage128 struct {
	r, m, s int
	tw, twi []complex128 // tw[k(r-1)+t-1] = w_{rm}^{kt}; twi = conj(tw)
	om, omi []complex128 // ω_r^t and its conjugate (generic radix only)
	// Radix 16 (two fused radix-4 stages): tw (twi) is the first one's
	// table, tw[3k+t-1] = w_{16m}^{kt} for k < 4m, and tw2 (tw2i) the
	// second's, tw2[3k+t-1] = w_{4m}^{kt} for k < m.
	tw2, tw2i []complex128
}

// stockham128 is a mixed-radix Stockham autosort transform of length n.
type stockham128 struct {
	n      int
	stages []stage128
}

func newStockham128(n int, radices []int) *stockham128 {
	p := &stockham128{n: n}
	s := 1
	for _, r := range radices {
		m := n / (s * r)
		st := stage128{r: r, m: m, s: s}
		if r == 16 {
			st.tw, st.twi = twiddles128(4*m, 16*m)
			st.tw2, st.tw2i = twiddles128(m, 4*m)
			p.stages = append(p.stages, st)
			s *= r
			continue
		}
		if m > 1 {
			st.tw = make([]complex128, m*(r-1))
			st.twi = make([]complex128, m*(r-1))
			for k := 0; k < m; k++ {
				for t := 1; t < r; t++ {
					w := cis(k*t, r*m)
					st.tw[k*(r-1)+t-1] = complex128(w)
					st.twi[k*(r-1)+t-1] = complex128(complex(real(w), -imag(w)))
				}
			}
		}
		if r != 2 && r != 4 && r != 8 {
			st.om = make([]complex128, r)
			st.omi = make([]complex128, r)
			for t := range r {
				w := cis(t, r)
				st.om[t] = complex128(w)
				st.omi[t] = complex128(complex(real(w), -imag(w)))
			}
		}
		p.stages = append(p.stages, st)
		s *= r
	}
	return p
}

// twiddles128 returns the radix-4 twiddle table w_n^{kt}, k < count,
// t = 1..3 (at 3k+t-1), and its conjugate.
func twiddles128(count, n int) (tw, twi []complex128) {
	tw = make([]complex128, 3*count)
	twi = make([]complex128, 3*count)
	for k := range count {
		for t := 1; t < 4; t++ {
			w := cis(k*t, n)
			tw[3*k+t-1] = complex128(w)
			twi[3*k+t-1] = complex128(complex(real(w), -imag(w)))
		}
	}
	return tw, twi
}

// run transforms src into dst (which may be the same slice) using work
// (length n, disjoint from both) on the calling goroutine. The inverse is
// not normalised here.
func (p *stockham128) run(dst, src, work []complex128, inv bool) {
	ns := len(p.stages)
	if ns == 0 {
		dst[0] = src[0]
		return
	}
	last := p.order(dst, src)
	in := src
	for i := range p.stages {
		out := work
		if toDst128(i, last) {
			out = dst
		}
		st := &p.stages[i]
		st.exec(out[:p.n], in[:p.n], inv, 0, st.units())
		in = out
	}
}

// order returns the index of the last stage that writes dst in the
// ping-pong between dst and work. Stages ping-pong so that the last one
// writes dst. In place with an odd number of stages, the first stage would
// overwrite its own input; then the last stage (m = 1, whose butterflies
// read all their inputs before they write the same indices, radix 16
// included: its kernels park the intermediate values on the stack) runs
// in place on dst instead.
func (p *stockham128) order(dst, src []complex128) (last int) {
	ns := len(p.stages)
	if ns%2 == 1 && &dst[0] == &src[0] {
		return ns - 2
	}
	return ns - 1
}

// toDst128 reports whether stage i writes dst (else work), given order's
// result.
func toDst128(i, last int) bool {
	return i > last || (last-i)%2 == 0
}

// runThreads is run with each stage split over up to threads goroutines
// (only for n ≥ parallelMin; a barrier separates the stages).
func (p *stockham128) runThreads(dst, src, work []complex128, inv bool, threads int) {
	if p.n < parallelMin || threads <= 1 || len(p.stages) == 0 {
		p.run(dst, src, work, inv)
		return
	}
	last := p.order(dst, src)
	in := src
	for i := range p.stages {
		out := work
		if toDst128(i, last) {
			out = dst
		}
		st := &p.stages[i]
		y, x := out[:p.n], in[:p.n]
		parallel(threads, st.units(), func(lo, hi int) { st.exec(y, x, inv, lo, hi) })
		in = out
	}
}

// units is the number of independent work items of the stage: the k index
// when m > 1, else the q index.
func (st *stage128) units() int {
	if st.m > 1 || st.r == 16 {
		return st.m
	}
	return st.s
}

// exec runs work items [lo, hi) of the stage (see units).
func (st *stage128) exec(y, x []complex128, inv bool, lo, hi int) {
	tw, om := st.tw, st.om
	if inv {
		tw, om = st.twi, st.omi
	}
	switch st.r {
	case 16:
		tw2 := st.tw2
		if inv {
			tw2 = st.tw2i
		}
		if !r16kinner128(y, x, tw, tw2, st.s, st.m, lo, hi, inv) {
			r16_128(y, x, tw, tw2, st.s, st.m, inv, lo, hi)
		}
	case 4:
		switch {
		case st.m == 1:
			r4notw128(y, x, st.s, inv, lo, hi)
		case st.s == 1 && !inv:
			r4fS1_128(y, x, tw, st.m, lo, hi)
		case st.s == 1:
			r4iS1_128(y, x, tw, st.m, lo, hi)
		case !inv:
			r4f128(y, x, tw, st.s, st.m, lo, hi)
		default:
			r4i128(y, x, tw, st.s, st.m, lo, hi)
		}
	case 2:
		switch {
		case st.m == 1:
			r2notw128(y, x, st.s, lo, hi)
		case st.s == 1:
			r2S1_128(y, x, tw, st.m, lo, hi)
		default:
			r2_128(y, x, tw, st.s, st.m, lo, hi)
		}
	case 8: // a last pass only (m = 1; validOrder, fuse8)
		r8notw128(y, x, st.s, inv, lo, hi)
	default:
		rgen128(y, x, tw, om, st.r, st.s, st.m, lo, hi)
	}
}

// mulNegI128 returns -i·z; mulPosI128 returns +i·z.
func mulNegI128(z complex128) complex128 { return complex(imag(z), -real(z)) }
func mulPosI128(z complex128) complex128 { return complex(-imag(z), real(z)) }

func r4notw128(y, x []complex128, s int, inv bool, q0, q1 int) {
	x0 := x[q0:q1]
	x1, x2, x3 := x[s+q0 : s+q1][:len(x0)], x[2*s+q0 : 2*s+q1][:len(x0)], x[3*s+q0 : 3*s+q1][:len(x0)]
	y0, y1, y2, y3 := y[q0:q1][:len(x0)], y[s+q0 : s+q1][:len(x0)], y[2*s+q0 : 2*s+q1][:len(x0)], y[3*s+q0 : 3*s+q1][:len(x0)]
	done := r4ninner128(y0, y1, y2, y3, x0, x1, x2, x3, inv)
	x0, x1, x2, x3 = x0[done:], x1[done:], x2[done:], x3[done:]
	y0, y1, y2, y3 = y0[done:], y1[done:], y2[done:], y3[done:]
	if !inv {
		for q := range x0 {
			a0, a1, a2, a3 := x0[q], x1[q], x2[q], x3[q]
			t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, mulNegI128(a1-a3)
			y0[q] = t0 + t2
			y1[q] = t1 + t3
			y2[q] = t0 - t2
			y3[q] = t1 - t3
		}
		return
	}
	for q := range x0 {
		a0, a1, a2, a3 := x0[q], x1[q], x2[q], x3[q]
		t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, mulPosI128(a1-a3)
		y0[q] = t0 + t2
		y1[q] = t1 + t3
		y2[q] = t0 - t2
		y3[q] = t1 - t3
	}
}

func r4fS1_128(y, x, tw []complex128, m int, k0, k1 int) {
	x0, x1, x2, x3 := x[k0:k1], x[m+k0:m+k1], x[2*m+k0:2*m+k1], x[3*m+k0:3*m+k1]
	x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
	y = y[4*k0 : 4*k1]
	tw = tw[3*k0 : 3*k1]
	for k := r4s1inner128(y, x0, x1, x2, x3, tw, false); k < len(x0); k++ {
		a0, a1, a2, a3 := x0[k], x1[k], x2[k], x3[k]
		t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, mulNegI128(a1-a3)
		w := tw[3*k : 3*k+3 : 3*k+3]
		o := y[4*k : 4*k+4 : 4*k+4]
		o[0] = t0 + t2
		o[1] = (t1 + t3) * w[0]
		o[2] = (t0 - t2) * w[1]
		o[3] = (t1 - t3) * w[2]
	}
}

func r4iS1_128(y, x, tw []complex128, m int, k0, k1 int) {
	x0, x1, x2, x3 := x[k0:k1], x[m+k0:m+k1], x[2*m+k0:2*m+k1], x[3*m+k0:3*m+k1]
	x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
	y = y[4*k0 : 4*k1]
	tw = tw[3*k0 : 3*k1]
	for k := r4s1inner128(y, x0, x1, x2, x3, tw, true); k < len(x0); k++ {
		a0, a1, a2, a3 := x0[k], x1[k], x2[k], x3[k]
		t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, mulPosI128(a1-a3)
		w := tw[3*k : 3*k+3 : 3*k+3]
		o := y[4*k : 4*k+4 : 4*k+4]
		o[0] = t0 + t2
		o[1] = (t1 + t3) * w[0]
		o[2] = (t0 - t2) * w[1]
		o[3] = (t1 - t3) * w[2]
	}
}

func r4f128(y, x, tw []complex128, s, m int, k0, k1 int) {
	if r4kinner128(y, x, tw, s, m, k0, k1, false) {
		return
	}
	for k := k0; k < k1; k++ {
		w := tw[3*k : 3*k+3 : 3*k+3]
		w1, w2, w3 := w[0], w[1], w[2]
		x0 := x[s*k : s*k+s]
		x1 := x[s*(k+m) : s*(k+m)+s][:len(x0)]
		x2 := x[s*(k+2*m) : s*(k+2*m)+s][:len(x0)]
		x3 := x[s*(k+3*m) : s*(k+3*m)+s][:len(x0)]
		b := 4 * s * k
		y0, y1, y2, y3 := y[b : b+s][:len(x0)], y[b+s : b+2*s][:len(x0)], y[b+2*s : b+3*s][:len(x0)], y[b+3*s : b+4*s][:len(x0)]
		for q := r4inner128(y0, y1, y2, y3, x0, x1, x2, x3, (*[3]complex128)(w), false); q < len(x0); q++ {
			a0, a1, a2, a3 := x0[q], x1[q], x2[q], x3[q]
			t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, mulNegI128(a1-a3)
			y0[q] = t0 + t2
			y1[q] = (t1 + t3) * w1
			y2[q] = (t0 - t2) * w2
			y3[q] = (t1 - t3) * w3
		}
	}
}

func r4i128(y, x, tw []complex128, s, m int, k0, k1 int) {
	if r4kinner128(y, x, tw, s, m, k0, k1, true) {
		return
	}
	for k := k0; k < k1; k++ {
		w := tw[3*k : 3*k+3 : 3*k+3]
		w1, w2, w3 := w[0], w[1], w[2]
		x0 := x[s*k : s*k+s]
		x1 := x[s*(k+m) : s*(k+m)+s][:len(x0)]
		x2 := x[s*(k+2*m) : s*(k+2*m)+s][:len(x0)]
		x3 := x[s*(k+3*m) : s*(k+3*m)+s][:len(x0)]
		b := 4 * s * k
		y0, y1, y2, y3 := y[b : b+s][:len(x0)], y[b+s : b+2*s][:len(x0)], y[b+2*s : b+3*s][:len(x0)], y[b+3*s : b+4*s][:len(x0)]
		for q := r4inner128(y0, y1, y2, y3, x0, x1, x2, x3, (*[3]complex128)(w), true); q < len(x0); q++ {
			a0, a1, a2, a3 := x0[q], x1[q], x2[q], x3[q]
			t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, mulPosI128(a1-a3)
			y0[q] = t0 + t2
			y1[q] = (t1 + t3) * w1
			y2[q] = (t0 - t2) * w2
			y3[q] = (t1 - t3) * w3
		}
	}
}

// r16_128 is the pure-Go radix-16 stage (two fused radix-4 stages; see
// stage128) for k in [k0, k1): the first stage's butterflies over j for
// each j' give e[4j'+t], the second's over j' give the outputs.
func r16_128(y, x, twA, twB []complex128, s, m int, inv bool, k0, k1 int) {
	mul := mulNegI128
	if inv {
		mul = mulPosI128
	}
	var e [16]complex128
	for k := k0; k < k1; k++ {
		for q := range s {
			for jp := range 4 {
				kk := k + jp*m
				a0, a1 := x[q+s*kk], x[q+s*(kk+4*m)]
				a2, a3 := x[q+s*(kk+8*m)], x[q+s*(kk+12*m)]
				t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, mul(a1-a3)
				w := twA[3*kk : 3*kk+3 : 3*kk+3]
				e[4*jp] = t0 + t2
				e[4*jp+1] = (t1 + t3) * w[0]
				e[4*jp+2] = (t0 - t2) * w[1]
				e[4*jp+3] = (t1 - t3) * w[2]
			}
			w := twB[3*k : 3*k+3 : 3*k+3]
			b := q + 16*s*k
			for t := range 4 {
				c0, c1, c2, c3 := e[t], e[4+t], e[8+t], e[12+t]
				t0, t1, t2, t3 := c0+c2, c0-c2, c1+c3, mul(c1-c3)
				y[b+s*t] = t0 + t2
				y[b+s*(4+t)] = (t1 + t3) * w[0]
				y[b+s*(8+t)] = (t0 - t2) * w[1]
				y[b+s*(12+t)] = (t1 - t3) * w[2]
			}
		}
	}
}

// r8notw128 is the radix-8 last pass (m = 1): the 8-point DFT of
// x[q+s·j] into y[q+s·t] for q in [q0, q1), every input read before an
// output is written (so y may be x). With ω = w_8: b_j = a_j + a_{j+4},
// c_j = (a_j − a_{j+4})·ω^j, and the 4-point DFTs of b and c give the even
// and the odd outputs (as the generated AVX2 kernel, radix8 in gen_r16.go).
func r8notw128(y, x []complex128, s int, inv bool, q0, q1 int) {
	mul := mulNegI128
	if inv {
		mul = mulPosI128
	}
	const h = math.Sqrt2 / 2
	for q := r8inner128(y, x, s, q0, q1, inv); q < q1; q++ {
		a0, a1, a2, a3 := x[q], x[q+s], x[q+2*s], x[q+3*s]
		a4, a5, a6, a7 := x[q+4*s], x[q+5*s], x[q+6*s], x[q+7*s]
		b0, b1, b2, b3 := a0+a4, a1+a5, a2+a6, a3+a7
		c0, c1, c2, c3 := a0-a4, a1-a5, a2-a6, a3-a7
		c1 += mul(c1)
		c1 = complex(real(c1)*h, imag(c1)*h)
		c2 = mul(c2)
		c3 = mul(c3) - c3
		c3 = complex(real(c3)*h, imag(c3)*h)
		t0, t1, t2, t3 := b0+b2, b0-b2, b1+b3, mul(b1-b3)
		y[q], y[q+2*s], y[q+4*s], y[q+6*s] = t0+t2, t1+t3, t0-t2, t1-t3
		t0, t1, t2, t3 = c0+c2, c0-c2, c1+c3, mul(c1-c3)
		y[q+s], y[q+3*s], y[q+5*s], y[q+7*s] = t0+t2, t1+t3, t0-t2, t1-t3
	}
}

func r2notw128(y, x []complex128, s int, q0, q1 int) {
	x0 := x[q0:q1]
	x1 := x[s+q0 : s+q1][:len(x0)]
	y0, y1 := y[q0:q1][:len(x0)], y[s+q0 : s+q1][:len(x0)]
	for q := r2inner128(y0, y1, x0, x1); q < len(x0); q++ {
		a0, a1 := x0[q], x1[q]
		y0[q] = a0 + a1
		y1[q] = a0 - a1
	}
}

func r2S1_128(y, x, tw []complex128, m int, k0, k1 int) {
	x0 := x[k0:k1]
	x1 := x[m+k0 : m+k1][:len(x0)]
	y = y[2*k0 : 2*k1]
	tw = tw[k0:k1]
	for k := range x0 {
		a0, a1 := x0[k], x1[k]
		o := y[2*k : 2*k+2 : 2*k+2]
		o[0] = a0 + a1
		o[1] = (a0 - a1) * tw[k]
	}
}

func r2_128(y, x, tw []complex128, s, m int, k0, k1 int) {
	for k := k0; k < k1; k++ {
		w := tw[k]
		x0 := x[s*k : s*k+s]
		x1 := x[s*(k+m) : s*(k+m)+s][:len(x0)]
		b := 2 * s * k
		y0, y1 := y[b : b+s][:len(x0)], y[b+s : b+2*s][:len(x0)]
		for q := range x0 {
			a0, a1 := x0[q], x1[q]
			y0[q] = a0 + a1
			y1[q] = (a0 - a1) * w
		}
	}
}

// rgen128 is the direct O(r²) butterfly for an odd prime radix r ≤ maxRadix.
func rgen128(y, x, tw, om []complex128, r, s, m int, lo, hi int) {
	var a [maxRadix]complex128
	k0, k1, q0, q1 := lo, hi, 0, s
	if m == 1 {
		k0, k1, q0, q1 = 0, 1, lo, hi
	}
	for k := k0; k < k1; k++ {
		for q := q0; q < q1; q++ {
			for j := 0; j < r; j++ {
				a[j] = x[q+s*(k+j*m)]
			}
			for t := 0; t < r; t++ {
				sum := a[0]
				idx := 0
				for j := 1; j < r; j++ {
					idx += t
					if idx >= r {
						idx -= r
					}
					sum += a[j] * om[idx]
				}
				if t > 0 && m > 1 {
					sum *= tw[k*(r-1)+t-1]
				}
				y[q+s*(r*k+t)] = sum
			}
		}
	}
}

// scale128 multiplies x by the real factor f.
func scale128(x []complex128, f float64) {
	for i, v := range x {
		x[i] = complex(real(v)*f, imag(v)*f)
	}
}

// blue128 is Bluestein's chirp-z algorithm: a length-n DFT as a cyclic
// convolution of length m (a power of two ≥ 2n-1).
type blue128 struct {
	n, m  int
	sub   *cplan128
	chirp []complex128 // exp(-πi j²/n)
	bhat  []complex128 // FFT_m of conj(chirp), wrapped
	buf   pool128      // length-m convolution buffers
}

func newBlue128(n int) *blue128 {
	m := nextPow2(2*n - 1)
	p := &blue128{n: n, m: m, sub: newCplan128(m, nil)}
	p.buf.size = m
	p.chirp = make([]complex128, n)
	b := make([]complex128, m)
	for j := range n {
		c := chirp(j, n)
		p.chirp[j] = complex128(c)
		cc := complex128(complex(real(c), -imag(c)))
		b[j] = cc
		if j > 0 {
			b[m-j] = cc
		}
	}
	p.sub.transform(b, b, false, 1)
	p.bhat = b
	return p
}

// run computes the (normalised, when inv) transform of src into dst.
func (p *blue128) run(dst, src []complex128, inv bool, threads int) {
	ap := p.buf.get()
	defer p.buf.put(ap)
	a := (*ap)[:p.m]
	n := p.n
	for j, c := range p.chirp {
		x := src[j]
		if inv {
			x = complex(real(x), -imag(x))
		}
		a[j] = x * c
	}
	clear(a[n:])
	p.sub.transform(a, a, false, threads)
	for i, b := range p.bhat {
		a[i] *= b
	}
	p.sub.transform(a, a, true, threads)
	if inv {
		sc := 1 / float64(n)
		for k, c := range p.chirp {
			v := a[k] * c
			dst[k] = complex(real(v)*sc, -imag(v)*sc)
		}
		return
	}
	for k, c := range p.chirp {
		dst[k] = a[k] * c
	}
}

// cplan128 is the complex128 engine behind Plan[complex128].
type cplan128 struct {
	n    int
	st   *stockham128
	bl   *blue128
	fs   *four128
	work pool128 // length-n Stockham work buffers
	own  own128  // n ≤ smallMax: the work vector of one call at a time
}

// own128 is a work vector that one call at a time may hold (busy).
type own128 struct {
	busy atomic.Bool
	buf  []complex128
}

// four128 is the four-step transform of length n = n1·n2 (both powers of
// two, n1 ≤ n2): with j = j1 + n1·j2 and k = k2 + n2·k1, column j1 of the
// input (stride n1) is transformed over j2 (length n2) into row j1 of the
// work buffer and multiplied by w_n^{j1·k2}; then column k2 of the work
// buffer (stride n2) is transformed over j1 (length n1) into
// dst[k2 + n2·k1]. Columns go fourBlock at a time through rows that fit in
// cache, so the whole transform makes two passes over memory where the
// Stockham passes make log4 n. The twiddle w_n^{j1·k2}, with
// k2 = h·lo + l, is the product of twLo's w_n^{j1·l} and twHi's
// w_n^{j1·lo·h}: two tables of n1·(lo + n2/lo) values (lo ≈ √n2) instead
// of one of n (3 MiB instead of 64 MiB at 2^22 in complex128).
type four128 struct {
	n, n1, n2 int
	lo        int // a power of two near √n2
	p1, p2    *cplan128
	twLo      []complex128 // twLo[j1·lo+l] = w_n^{j1·l}, l < lo
	twHi      []complex128 // twHi[j1·(n2/lo)+h] = w_n^{j1·lo·h}, h < n2/lo
	buf       pool128      // fourBlock·n1 values: one block of columns
}

func newFour128(n int) *four128 {
	n1, n2 := fourSplit(n)
	lo := 1
	for lo*lo < n2 {
		lo *= 2
	}
	f := &four128{n: n, n1: n1, n2: n2, lo: lo, p1: newCplan128(n1, nil), p2: newCplan128(n2, nil)}
	f.buf.size = fourBlock * n1
	hi := n2 / lo
	f.twLo = make([]complex128, n1*lo)
	f.twHi = make([]complex128, n1*hi)
	for j1 := range n1 {
		for l := range lo {
			f.twLo[j1*lo+l] = complex128(cis(j1*l, n))
		}
		for h := range hi {
			f.twHi[j1*hi+h] = complex128(cis(j1*lo*h, n))
		}
	}
	return f
}

// run computes the forward or inverse transform of src into dst (the same
// slice or disjoint) through work (length n, disjoint from both), blocks
// of columns spread over threads. The inverse is normalised by 1/n because
// the inner plans p1 and p2 normalise theirs (1/n1 and 1/n2); run itself
// scales nothing.
func (f *four128) run(dst, src, work []complex128, inv bool, threads int) {
	n1, n2 := f.n1, f.n2
	parallel(threads, n1/fourBlock, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			j0 := b * fourBlock
			rows := work[j0*n2 : (j0+fourBlock)*n2]
			for j2 := range n2 {
				x := src[j0+n1*j2 : j0+n1*j2+fourBlock : j0+n1*j2+fourBlock]
				for c, v := range x {
					rows[c*n2+j2] = v
				}
			}
			for c := range fourBlock {
				row := rows[c*n2 : (c+1)*n2]
				f.p2.transform(row, row, inv, 1)
				j1, lo, hi := j0+c, f.lo, n2/f.lo
				tl := f.twLo[j1*lo : (j1+1)*lo]
				for h, wh := range f.twHi[j1*hi : (j1+1)*hi] {
					seg := row[h*lo : (h+1)*lo : (h+1)*lo]
					if inv {
						wh = complex(real(wh), -imag(wh))
						for l, wl := range tl {
							seg[l] *= complex(real(wl), -imag(wl)) * wh
						}
					} else {
						for l, wl := range tl {
							seg[l] *= wl * wh
						}
					}
				}
			}
		}
	})
	parallel(threads, n2/fourBlock, func(lo, hi int) {
		bp := f.buf.get()
		defer f.buf.put(bp)
		buf := (*bp)[:fourBlock*n1]
		for b := lo; b < hi; b++ {
			c0 := b * fourBlock
			for j1 := range n1 {
				y := work[c0+n2*j1 : c0+n2*j1+fourBlock : c0+n2*j1+fourBlock]
				for c, v := range y {
					buf[c*n1+j1] = v
				}
			}
			for c := range fourBlock {
				row := buf[c*n1 : (c+1)*n1]
				f.p1.transform(row, row, inv, 1)
			}
			for k1 := range n1 {
				d := dst[c0+n2*k1 : c0+n2*k1+fourBlock : c0+n2*k1+fourBlock]
				for c := range d {
					d[c] = buf[c*n1+k1]
				}
			}
		}
	})
}

// newCplan128 prepares the transform of length n with the Stockham radices
// given (their product must be n), or, when radices is nil, those of
// factorize (Bluestein when n has a prime factor > maxRadix).
func newCplan128(n int, radices []int) *cplan128 {
	p := &cplan128{n: n}
	p.work.size = n
	ok := true
	if radices == nil {
		radices, ok = factorize(n)
		switch {
		case !ok || !useAVX2:
		case n <= fuse16Max && fuse8Small(radices):
			// [4 4 8] beats [4 16 2] at 2^7 (0.83× the CPU time, 2026-12-03).
		case n <= fuse16Max:
			radices = fuse16(radices, false)
		case n >= fuse16Large:
			radices = fuse16(radices, true)
		}
		radices = fuse8(radices)
	}
	switch {
	case !ok:
		p.bl = newBlue128(n)
	case useFourStep(n, radices):
		p.fs = newFour128(n)
	default:
		p.st = newStockham128(n, radices)
		if n <= smallMax {
			p.own.buf = make([]complex128, n)
		}
	}
	return p
}

// transform computes the forward or (normalised) inverse transform of src
// into dst; dst and src are both length n and either identical or disjoint.
func (p *cplan128) transform(dst, src []complex128, inv bool, threads int) {
	switch {
	case p.bl != nil:
		p.bl.run(dst, src, inv, threads)
	case p.fs != nil:
		wp := p.work.get()
		p.fs.run(dst, src, *wp, inv, threads)
		p.work.put(wp)
	case p.n <= smallMax && p.own.busy.CompareAndSwap(false, true):
		// A short transform takes the plan's own work vector when no
		// other call holds it: the pool's round trip costs as much as a
		// pass over 64 points.
		p.st.run(dst, src, p.own.buf, inv)
		p.own.busy.Store(false)
		if inv && p.n > 1 {
			scale128(dst[:p.n], 1/float64(p.n))
		}
	default:
		wp := p.work.get()
		p.st.runThreads(dst, src, *wp, inv, threads)
		p.work.put(wp)
		if inv && p.n > 1 {
			scale128(dst[:p.n], 1/float64(p.n))
		}
	}
}

// real128 is the engine behind RealPlan[float64, complex128].
type real128 struct {
	n    int
	half *cplan128    // even n: length n/2
	full *cplan128    // odd n: length n
	w    []complex128 // even n: w_n^k, k ≤ n/4
	buf  pool128      // scratch: n/2 (even) or 2n (odd)
}

// newReal128 prepares the real transform of length n; radices (nil for
// the default) are those of its complex transform of length n/2 (even n)
// or n (odd n).
func newReal128(n int, radices []int) *real128 {
	p := &real128{n: n}
	if n%2 == 0 {
		h := n / 2
		p.half = newCplan128(h, radices)
		p.w = make([]complex128, h/2+1)
		for k := range p.w {
			p.w[k] = complex128(cis(k, n))
		}
		p.buf.size = h
	} else {
		p.full = newCplan128(n, radices)
		p.buf.size = 2 * n
	}
	return p
}

func (p *real128) forward(dst []complex128, src []float64, threads int) {
	n := p.n
	if p.full != nil {
		bp := p.buf.get()
		defer p.buf.put(bp)
		z, y := (*bp)[:n], (*bp)[n:2*n]
		for i, v := range src[:n] {
			z[i] = complex(v, 0)
		}
		p.full.transform(y, z, false, threads)
		copy(dst, y[:n/2+1])
		return
	}
	h := n / 2
	z := unsafe.Slice((*complex128)(unsafe.Pointer(&src[0])), h)
	p.half.transform(dst[:h], z, false, threads)
	z0 := dst[0]
	dst[0] = complex(real(z0)+imag(z0), 0)
	dst[h] = complex(real(z0)-imag(z0), 0)
	// With zhc = conj(z[h-k]): e = (z[k]+zhc)/2, o = -i·(z[k]-zhc)/2,
	// X_k = e + w^k·o and X_{h-k} = conj(e) + w^{h-k}·conj(o) =
	// conj(e - w^k·o); in real arithmetic (the products by 1/2 and -i
	// exact, the twiddle product as Go's complex multiplication).
	w := p.w[:h/2+1]
	for k := rsplit128(dst, w, h); k <= h/2; k++ {
		zk, zh := dst[k], dst[h-k]
		er, ei := (real(zk)+real(zh))*0.5, (imag(zk)-imag(zh))*0.5
		or, oi := (imag(zk)+imag(zh))*0.5, -((real(zk) - real(zh)) * 0.5)
		wr, wi := real(w[k]), imag(w[k])
		owr, owi := wr*or-wi*oi, wr*oi+wi*or
		dst[k] = complex(er+owr, ei+owi)
		dst[h-k] = complex(er-owr, -(ei - owi))
	}
}

func (p *real128) inverse(dst []float64, src []complex128, threads int) {
	n := p.n
	if p.full != nil {
		bp := p.buf.get()
		defer p.buf.put(bp)
		y := (*bp)[:n]
		y[0] = complex(real(src[0]), 0)
		for k := 1; k <= n/2; k++ {
			v := src[k]
			y[k] = v
			y[n-k] = complex(real(v), -imag(v))
		}
		p.full.transform(y, y, true, threads)
		for i, v := range y {
			dst[i] = real(v)
		}
		return
	}
	h := n / 2
	bp := p.buf.get()
	defer p.buf.put(bp)
	z := (*bp)[:h]
	x0 := complex(real(src[0]), 0)
	xh := complex(real(src[h]), 0)
	// k = 0: E = (X0+Xh)/2, O = (X0-Xh)/2, Z0 = E + iO.
	z[0] = (x0+xh)*0.5 + mulPosI128((x0-xh)*0.5)
	// With xmc = conj(X[h-k]): e = (X[k]+xmc)/2, o = (X[k]-xmc)/2·conj(w^k),
	// z[k] = e + i·o, and z[h-k] = conj(e - i·o) (its e and o are conj(e)
	// and conj(o), as conj(w^{h-k}) = -w^k); in real arithmetic as in
	// forward.
	w := p.w[:h/2+1]
	for k := rsplitInv128(z, src, w, h); k <= h/2; k++ {
		xk, xm := src[k], src[h-k]
		er, ei := (real(xk)+real(xm))*0.5, (imag(xk)-imag(xm))*0.5
		dr, di := (real(xk)-real(xm))*0.5, (imag(xk)+imag(xm))*0.5
		wr, wi := real(w[k]), -imag(w[k])
		or, oi := dr*wr-di*wi, dr*wi+di*wr
		z[k] = complex(er-oi, ei+or)
		z[h-k] = complex(er+oi, -(ei - or))
	}
	out := unsafe.Slice((*complex128)(unsafe.Pointer(&dst[0])), h)
	p.half.transform(out, z, true, threads)
}
