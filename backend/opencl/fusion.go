package opencl

import (
	"fmt"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// fusionKernel returns a kernel of the fusion family in the state's
// precision (b.mu held).
func (s *State) fusionKernel(base string) (uintptr, *program, error) {
	pr, err := s.b.program("fusion", s.p)
	if err != nil {
		return 0, nil, err
	}
	k, err := s.b.kernel(pr, s.kname(base))
	return k, pr, err
}

// FoldN returns u_i = Σ_{a ≡ i (mod n)} ψ_a, reduced on the device in
// chunks that the host adds in order.
func (s *State) FoldN(n int) ([]complex128, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	if err := backend.CheckFold(s.len(), n); err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	k, pr, err := s.fusionKernel("fu_fold")
	if err != nil {
		return nil, err
	}
	fd := accel.NewFold(s.len(), n)
	buf, err := s.b.scratchBuf(uintptr(2*fd.Items) * accBytes(pr))
	if err != nil {
		return nil, err
	}
	if err := s.b.launch(k, uintptr(fd.Items), 0, mem(s.buf), uint64(n), fd.Per, fd.Chunks, fd.Clen, mem(buf)); err != nil {
		return nil, err
	}
	p, err := s.partials(pr, buf, int(2*fd.Items))
	if err != nil {
		return nil, err
	}
	return fd.Sum(p), nil
}

// KickStrided adds v[k] to ψ_{k·stride} on the device and returns those
// amplitudes (the only ones copied back).
func (s *State) KickStrided(stride int, v []complex128) ([]complex128, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	if err := backend.CheckKick(s.len(), stride, v); err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	k, _, err := s.fusionKernel("fu_kick")
	if err != nil {
		return nil, err
	}
	ab := uintptr(s.p.AmpBytes())
	size := uintptr(len(v)) * ab
	buf, err := s.b.scratchBuf(size)
	if err != nil {
		return nil, err
	}
	if err := s.b.write(buf, 0, s.hostAmps(v), size); err != nil {
		return nil, err
	}
	// Each item reads v[k] before writing out[k], so the results can
	// replace the values in the scratch buffer.
	if err := s.b.launch(k, uintptr(len(v)), 0, mem(s.buf), mem(buf), uint64(stride), uint64(len(v)), mem(buf)); err != nil {
		return nil, err
	}
	res := make([]complex128, len(v))
	o := &State{b: s.b, p: s.p, buf: buf}
	if err := o.readRange(0, res); err != nil {
		return nil, fmt.Errorf("opencl: kick readback: %w", err)
	}
	return res, nil
}

// FusionStats returns Σp, Σp·ln p and Σ|ψ|ψ in one device pass.
func (s *State) FusionStats() (norm2, plnp float64, r complex128, err error) {
	if err := s.alive(); err != nil {
		return 0, 0, 0, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	k, pr, err := s.fusionKernel("fu_stats")
	if err != nil {
		return 0, 0, 0, err
	}
	groups := reduceGroups(s.len())
	buf, err := s.b.scratchBuf(uintptr(groups*4) * accBytes(pr))
	if err != nil {
		return 0, 0, 0, err
	}
	if err := s.b.launch(k, uintptr(groups*wg), wg, mem(s.buf), uint64(s.len()), mem(buf)); err != nil {
		return 0, 0, 0, err
	}
	p, err := s.partials(pr, buf, groups*4)
	if err != nil {
		return 0, 0, 0, err
	}
	t := accel.SumPartials(p, groups, 4)
	return t[0], t[1], complex(t[2], t[3]), nil
}

var _ backend.FusionCoupler = (*State)(nil)
