package cuda

import (
	"fmt"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// FoldN returns u_i = Σ_{a ≡ i (mod n)} ψ_a, reduced on the device in
// chunks that the host adds in order.
func (s *State) FoldN(n int) ([]complex128, error) {
	if err := backend.CheckFold(s.len(), n); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	fd := accel.NewFold(s.len(), n)
	var p []float64
	err := s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		buf, err := s.b.scratchBuf(uintptr(2*fd.Items) * 8)
		if err != nil {
			return err
		}
		if err := s.b.runItems(fusionFamily, kFold, s.p, fd.Items, dptr(s.buf), uint64(n), fd.Per, fd.Chunks, fd.Clen, dptr(buf)); err != nil {
			return err
		}
		p, err = s.partials(buf, int(2*fd.Items))
		return err
	})
	if err != nil {
		return nil, err
	}
	return fd.Sum(p), nil
}

// KickStrided adds v[k] to ψ_{k·stride} on the device and returns those
// amplitudes (the only ones copied back). v and the kernel's output share
// the scratch buffer (v first, the output after it), so a kick allocates
// nothing.
func (s *State) KickStrided(stride int, v []complex128) ([]complex128, error) {
	if err := backend.CheckKick(s.len(), stride, v); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	host := s.hostAmps(v)
	res := make([]complex128, len(v))
	err := s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		size := uintptr(len(v)) * uintptr(s.p.AmpBytes())
		buf, err := s.b.scratchBuf(2 * size)
		if err != nil {
			return err
		}
		if err := s.b.write(buf, 0, host, size); err != nil {
			return fmt.Errorf("cuda: kick upload: %w", err)
		}
		out := buf + uint64(size)
		if err := s.b.runItems(fusionFamily, kKick, s.p, uint64(len(v)), dptr(s.buf), dptr(buf), uint64(stride), uint64(len(v)), dptr(out)); err != nil {
			return err
		}
		o := &State{b: s.b, p: s.p, buf: out}
		if err := o.readRange(0, res); err != nil {
			return fmt.Errorf("cuda: kick readback: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// FusionStats returns Σp, Σp·ln p and Σ|ψ|ψ in one device pass: a
// grid-stride reduction in whole blocks of MEC_WG threads, the per-block
// partials added on the host in block order.
func (s *State) FusionStats() (norm2, plnp float64, r complex128, err error) {
	groups := reduceGroups(s.len())
	var t [4]float64
	err = s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		buf, err := s.b.scratchBuf(uintptr(groups*4) * 8)
		if err != nil {
			return err
		}
		if err := s.b.runGroups(fusionFamily, kStats, s.p, uint64(groups), dptr(s.buf), uint64(s.len()), dptr(buf)); err != nil {
			return err
		}
		p, err := s.partials(buf, groups*4)
		if err != nil {
			return err
		}
		copy(t[:], accel.SumPartials(p, groups, 4))
		return nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	return t[0], t[1], complex(t[2], t[3]), nil
}

var _ backend.FusionCoupler = (*State)(nil)
