package snn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// SnapshotMagic starts every snapshot (format version 1).
const SnapshotMagic = "MECSNN\x00\x01"

// Snapshot is the complete dynamic state of a simulation — step,
// voltages, last spike steps, spike counts, external drives, pending
// kicks and injections, synaptic drives and delay rings, Poisson
// generators' schedules and random streams — as Sim.Snapshot encodes it
// and DecodeSnapshot reads it back. Other engines of the same network (an
// accelerator backend's) fill one from their own state, so snapshots move
// between them; this file is the one encoder and decoder of the format.
type Snapshot struct {
	// Step is the current step.
	Step int64
	// V (mV), Last (step of the last spike), Count (spikes so far), Ext
	// (persistent R·I_ext, mV) and Cst (the update loop's constant) are
	// per neuron.
	V           []float64
	Last, Count []int64
	Ext, Cst    []float64
	// Force lists the neurons AddVoltage pushed to threshold since the
	// last step.
	Force []int
	// InjAt is, per neuron, the index of its pending injection in
	// Injections, or -1.
	InjAt      []int32
	Injections []Injection
	// Channels are the synaptic channels, population by population, in
	// the order of each population's channels.
	Channels []ChannelSnapshot
	// Poisson are the Poisson groups, in order.
	Poisson []PoissonSnapshot
}

// Injection is a pending one-step current: the neuron's R·I_ext is Bias +
// Amount (mV) during the next step, then Bias again.
type Injection struct {
	Neuron       int
	Bias, Amount float64
}

// ChannelSnapshot is a synaptic channel's state: the drive J of each
// target neuron, and when the channel has delays (depth > 1) its ring of
// depth × size pending deliveries and which slots hold something.
type ChannelSnapshot struct {
	J, Ring []float64
	Used    []bool
}

// PoissonSnapshot is a Poisson group's state: each source's next spike
// step, spike count and random stream (its MarshalBinary form).
type PoissonSnapshot struct {
	Next, Count []int64
	RNG         [][]byte
}

// SnapshotShape is what a snapshot's decoding needs that the format
// leaves implicit: the network's sizes.
type SnapshotShape struct {
	// N is the number of neurons.
	N int
	// Channels are the synaptic channels, in Snapshot.Channels' order.
	Channels []ChannelShape
	// Poisson are the Poisson groups' sizes, in order.
	Poisson []int
}

// ChannelShape is a synaptic channel's size (the target population's)
// and depth (ring slots: max delay + 1).
type ChannelShape struct {
	Size, Depth int
}

// maxStream bounds the encoded size of one random stream.
const maxStream = 1 << 10

// MarshalBinary encodes the snapshot (little endian): magic, step, n,
// the per-neuron slices, the kicks, InjAt and the injections, then per
// channel J, the ring's length and values and (when it has one) Used,
// then per Poisson group Next, Count and each stream with its length.
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(SnapshotMagic)
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(s.Step)
	w(int64(len(s.V)))
	w(s.V)
	w(s.Last)
	w(s.Count)
	w(s.Ext)
	w(s.Cst)
	w(int64(len(s.Force)))
	for _, i := range s.Force {
		w(int64(i))
	}
	w(s.InjAt)
	w(int64(len(s.Injections)))
	for _, in := range s.Injections {
		w(int64(in.Neuron))
		w(in.Bias)
		w(in.Amount)
	}
	for _, c := range s.Channels {
		w(c.J)
		w(int64(len(c.Ring)))
		w(c.Ring)
		w(c.Used)
	}
	for _, g := range s.Poisson {
		w(g.Next)
		w(g.Count)
		for _, st := range g.RNG {
			if len(st) > maxStream {
				return nil, fmt.Errorf("snn: snapshot: a random stream of %d bytes", len(st))
			}
			w(int64(len(st)))
			b.Write(st)
		}
	}
	return b.Bytes(), nil
}

// DecodeSnapshot decodes a snapshot of a network of the given shape. A
// snapshot of another network, or a truncated or corrupt one (a kick,
// injection or spike step out of range, trailing bytes), is an error.
// The random streams are not decoded here (PoissonSource.Restore and
// Sim.Restore check them).
func DecodeSnapshot(snap []byte, shape SnapshotShape) (*Snapshot, error) {
	s, err := decodeSnapshot(snap, shape)
	if err != nil {
		return nil, fmt.Errorf("snn: snapshot: %w", err)
	}
	return s, nil
}

func decodeSnapshot(snap []byte, shape SnapshotShape) (*Snapshot, error) {
	r := bytes.NewReader(snap)
	magic := make([]byte, len(SnapshotMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != SnapshotMagic {
		return nil, errors.New("not a snapshot")
	}
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
	n := shape.N
	s := &Snapshot{}
	var nn int64
	rd(&s.Step)
	rd(&nn)
	if err != nil {
		return nil, err
	}
	if nn != int64(n) {
		return nil, fmt.Errorf("snapshot of %d neurons into a network of %d", nn, n)
	}
	if s.Step < 0 {
		return nil, fmt.Errorf("step %d", s.Step)
	}
	s.V, s.Last, s.Count = make([]float64, n), make([]int64, n), make([]int64, n)
	s.Ext, s.Cst = make([]float64, n), make([]float64, n)
	rd(s.V)
	rd(s.Last)
	rd(s.Count)
	rd(s.Ext)
	rd(s.Cst)
	for i, x := range s.Last {
		if err == nil && x > s.Step {
			err = fmt.Errorf("neuron %d spiked at step %d, after the snapshot's step %d", i, x, s.Step)
		}
	}
	s.Force = make([]int, count(int64(n)))
	for i := range s.Force {
		var x int64
		rd(&x)
		if err == nil && (x < 0 || x >= int64(n)) {
			err = fmt.Errorf("kicked neuron %d out of range", x)
		}
		s.Force[i] = int(x)
	}
	s.InjAt = make([]int32, n)
	rd(s.InjAt)
	s.Injections = make([]Injection, count(int64(n)))
	for i := range s.Injections {
		var x int64
		rd(&x)
		if err == nil && (x < 0 || x >= int64(n)) {
			err = fmt.Errorf("injection into neuron %d out of range", x)
		}
		s.Injections[i].Neuron = int(x)
		rd(&s.Injections[i].Bias)
		rd(&s.Injections[i].Amount)
	}
	for i, k := range s.InjAt {
		if err == nil && (k < -1 || int(k) >= len(s.Injections)) {
			err = fmt.Errorf("neuron %d: injection %d of %d", i, k, len(s.Injections))
		}
	}
	for _, c := range shape.Channels {
		cs := ChannelSnapshot{J: make([]float64, c.Size)}
		rd(cs.J)
		want := 0
		if c.Depth > 1 {
			want = c.Depth * c.Size
		}
		if nr := count(int64(want)); err == nil && nr != want {
			err = errors.New("delay ring size differs")
		}
		if c.Depth > 1 {
			cs.Ring, cs.Used = make([]float64, want), make([]bool, c.Depth)
			rd(cs.Ring)
			rd(cs.Used)
		}
		s.Channels = append(s.Channels, cs)
	}
	for _, size := range shape.Poisson {
		g := PoissonSnapshot{Next: make([]int64, size), Count: make([]int64, size)}
		rd(g.Next)
		rd(g.Count)
		for range size {
			buf := make([]byte, count(maxStream))
			if err == nil {
				_, err = io.ReadFull(r, buf)
			}
			g.RNG = append(g.RNG, buf)
		}
		s.Poisson = append(s.Poisson, g)
	}
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%d trailing bytes", r.Len())
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// shape is the engine's SnapshotShape.
func (e *engine) shape() SnapshotShape {
	sh := SnapshotShape{N: e.n}
	for _, p := range e.pops {
		for _, c := range p.chans {
			sh.Channels = append(sh.Channels, ChannelShape{Size: p.hi - p.lo, Depth: c.depth})
		}
	}
	for _, g := range e.gens {
		sh.Poisson = append(sh.Poisson, g.size)
	}
	return sh
}

// Snapshot returns the complete dynamic state of the simulation (see
// Snapshot, the type) encoded, so that Restore on the same built network
// continues bit for bit as this one would. Monitors are not part of it.
func (s *Sim) Snapshot() ([]byte, error) {
	e := s.engine
	if len(e.plastic) > 0 {
		return nil, errPlasticSnapshot
	}
	snap := Snapshot{Step: e.step, V: e.v, Last: e.last, Count: e.count, Ext: e.ext, Cst: e.cst,
		Force: e.force, InjAt: e.injAt}
	for _, in := range e.injd {
		snap.Injections = append(snap.Injections, Injection{Neuron: in.i, Bias: in.bias, Amount: in.amount})
	}
	for _, p := range e.pops {
		for _, c := range p.chans {
			snap.Channels = append(snap.Channels, ChannelSnapshot{J: c.j, Ring: c.ring, Used: c.used})
		}
	}
	for _, g := range e.gens {
		ps, err := g.snapshot()
		if err != nil {
			return nil, fmt.Errorf("snn: snapshot: %w", err)
		}
		snap.Poisson = append(snap.Poisson, ps)
	}
	return snap.MarshalBinary()
}

// Restore sets the simulation to a state from Snapshot of the same network
// (same description and seed). A snapshot of another network, or a
// truncated or corrupt one, is an error and leaves the simulation unchanged.
func (s *Sim) Restore(b []byte) error {
	e := s.engine
	if len(e.plastic) > 0 {
		return errPlasticSnapshot
	}
	snap, err := decodeSnapshot(b, e.shape())
	if err == nil {
		err = checkPoisson(e.gens, snap.Poisson) // random streams first: they can still fail
	}
	if err != nil {
		return fmt.Errorf("snn: restore: %w", err)
	}
	e.step = snap.Step
	copy(e.v, snap.V)
	copy(e.last, snap.Last)
	copy(e.count, snap.Count)
	copy(e.ext, snap.Ext)
	copy(e.cst, snap.Cst)
	e.force = snap.Force
	copy(e.injAt, snap.InjAt)
	e.injd = e.injd[:0]
	for _, in := range snap.Injections {
		e.injd = append(e.injd, injection{i: in.Neuron, bias: in.Bias, amount: in.Amount})
	}
	k := 0
	for _, p := range e.pops {
		for _, c := range p.chans {
			copy(c.j, snap.Channels[k].J)
			copy(c.ring, snap.Channels[k].Ring)
			copy(c.used, snap.Channels[k].Used)
			k++
		}
	}
	restorePoisson(e.gens, snap.Poisson)
	return nil
}
