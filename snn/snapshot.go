package snn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// snapshotMagic starts every snapshot (format version 1).
const snapshotMagic = "MECSNN\x00\x01"

// Snapshot returns the complete dynamic state of the simulation — step,
// voltages, last spike steps, spike counts, external drives, pending
// kicks and injections, synaptic drives and delay rings, Poisson
// generators' schedules and random streams — so that Restore on the same
// built network continues bit for bit as this one would. Monitors are not
// part of it.
func (s *Sim) Snapshot() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(snapshotMagic)
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	e := s.engine
	w(e.step)
	w(int64(e.n))
	w(e.v)
	w(e.last)
	w(e.count)
	w(e.ext)
	w(e.cst)
	w(int64(len(e.force)))
	for _, i := range e.force {
		w(int64(i))
	}
	w(e.injAt)
	w(int64(len(e.injd)))
	for _, in := range e.injd {
		w(int64(in.i))
		w(in.bias)
		w(in.amount)
	}
	for _, p := range e.pops {
		for _, c := range p.chans {
			w(c.j)
			w(int64(len(c.ring)))
			w(c.ring)
			w(c.used)
		}
	}
	for _, g := range e.gens {
		w(g.next)
		w(g.count)
		for i := range g.rng {
			st, err := g.rng[i].MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("snn: snapshot: %w", err)
			}
			w(int64(len(st)))
			b.Write(st)
		}
	}
	return b.Bytes(), nil
}

// Restore sets the simulation to a state from Snapshot of the same network
// (same description and seed). A snapshot of another network, or a
// truncated or corrupt one, is an error and leaves the simulation unchanged.
func (s *Sim) Restore(snap []byte) error {
	r := bytes.NewReader(snap)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapshotMagic {
		return errors.New("snn: restore: not a snapshot")
	}
	e := s.engine
	var err error
	rd := func(v any) {
		if err == nil {
			err = binary.Read(r, binary.LittleEndian, v)
		}
	}
	count := func(max int64) int {
		var n int64
		rd(&n)
		if err == nil && (n < 0 || n > max) {
			err = fmt.Errorf("length %d out of range", n)
		}
		return int(n)
	}
	var step, n int64
	rd(&step)
	rd(&n)
	if err == nil && n != int64(e.n) {
		return fmt.Errorf("snn: restore: snapshot of %d neurons into a network of %d", n, e.n)
	}
	v, last, cnt := make([]float64, e.n), make([]int64, e.n), make([]int64, e.n)
	ext, cst := make([]float64, e.n), make([]float64, e.n)
	rd(v)
	rd(last)
	rd(cnt)
	rd(ext)
	rd(cst)
	force := make([]int, count(int64(e.n)))
	for i := range force {
		var x int64
		rd(&x)
		force[i] = int(x)
	}
	injAt := make([]int32, e.n)
	rd(injAt)
	injd := make([]injection, count(int64(e.n)))
	for i := range injd {
		var x int64
		rd(&x)
		injd[i].i = int(x)
		rd(&injd[i].bias)
		rd(&injd[i].amount)
	}
	type chanState struct {
		j, ring []float64
		used    []bool
	}
	var chans []chanState
	for _, p := range e.pops {
		for _, c := range p.chans {
			cs := chanState{j: make([]float64, len(c.j))}
			rd(cs.j)
			nr := count(int64(len(c.ring)))
			if err == nil && nr != len(c.ring) {
				err = errors.New("delay ring size differs")
			}
			cs.ring, cs.used = make([]float64, nr), make([]bool, len(c.used))
			rd(cs.ring)
			rd(cs.used)
			chans = append(chans, cs)
		}
	}
	type genState struct {
		next, count []int64
		rng         [][]byte
	}
	var gens []genState
	for _, g := range e.gens {
		gs := genState{next: make([]int64, len(g.next)), count: make([]int64, len(g.count))}
		rd(gs.next)
		rd(gs.count)
		for range g.rng {
			k := count(1 << 10)
			buf := make([]byte, k)
			if err == nil {
				_, err = io.ReadFull(r, buf)
			}
			gs.rng = append(gs.rng, buf)
		}
		gens = append(gens, gs)
	}
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%d trailing bytes", r.Len())
	}
	if err != nil {
		return fmt.Errorf("snn: restore: %w", err)
	}
	for i, g := range e.gens { // random streams first: they can still fail
		for k := range g.rng {
			var p pcg
			if err := p.UnmarshalBinary(gens[i].rng[k]); err != nil {
				return fmt.Errorf("snn: restore: %w", err)
			}
		}
	}
	e.step = step
	copy(e.v, v)
	copy(e.last, last)
	copy(e.count, cnt)
	copy(e.ext, ext)
	copy(e.cst, cst)
	e.force = force
	copy(e.injAt, injAt)
	e.injd = injd
	k := 0
	for _, p := range e.pops {
		for _, c := range p.chans {
			copy(c.j, chans[k].j)
			copy(c.ring, chans[k].ring)
			copy(c.used, chans[k].used)
			k++
		}
	}
	for i, g := range e.gens {
		copy(g.next, gens[i].next)
		copy(g.count, gens[i].count)
		for k := range g.rng {
			_ = g.rng[k].UnmarshalBinary(gens[i].rng[k])
		}
	}
	return nil
}
