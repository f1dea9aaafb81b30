package sensor

import (
	"fmt"
	"math"

	"github.com/prismai/mec/backend"
)

// Drive feeds encoder spikes to a spiking network as external input. mec's
// external-input hook on a resident network is backend.Network.AddVoltages:
// a spike on input channel c adds WeightMV to the membrane potential of each
// neuron in Targets[c] (a neuron pushed to threshold spikes in the next
// step), so one encoder step is applied between two Network.Step calls.
type Drive struct {
	// Targets maps each encoder output channel to the neurons it excites.
	Targets [][]int
	// WeightMV is the voltage jump per input spike (mV), or per channel in
	// Weights when that is set.
	WeightMV float64
	// Weights, if non-nil, is the per-channel weight (len(Targets)).
	Weights []float64
}

// OneToOne maps channels 0..channels-1 onto neurons first..first+channels-1.
func OneToOne(first, channels int) [][]int {
	t := make([][]int, channels)
	for c := range t {
		t[c] = []int{first + c}
	}
	return t
}

// Voltages writes into dv (len n, zeroed first) the voltage increments of
// the spiking channels spikes.
func (d *Drive) Voltages(spikes []int, n int, dv []float64) error {
	if len(dv) != n {
		return fmt.Errorf("sensor: drive: dv has %d entries for %d neurons", len(dv), n)
	}
	if d.Weights != nil && len(d.Weights) != len(d.Targets) {
		return fmt.Errorf("sensor: drive: %d weights for %d channels", len(d.Weights), len(d.Targets))
	}
	clear(dv)
	for _, c := range spikes {
		if c < 0 || c >= len(d.Targets) {
			return fmt.Errorf("sensor: drive: spike on channel %d of %d", c, len(d.Targets))
		}
		w := d.WeightMV
		if d.Weights != nil {
			w = d.Weights[c]
		}
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("sensor: drive: channel %d weight %g", c, w)
		}
		for _, i := range d.Targets[c] {
			if i < 0 || i >= n {
				return fmt.Errorf("sensor: drive: channel %d targets neuron %d of %d", c, i, n)
			}
			dv[i] += w
		}
	}
	return nil
}

// Apply adds the step's input to net (one AddVoltages call; none when no
// channel spiked). dv is scratch space of len net.N(), or nil.
func (d *Drive) Apply(net backend.Network, spikes []int, dv []float64) error {
	if len(spikes) == 0 {
		return nil
	}
	if dv == nil {
		dv = make([]float64, net.N())
	}
	if err := d.Voltages(spikes, net.N(), dv); err != nil {
		return err
	}
	if err := net.AddVoltages(dv); err != nil {
		return fmt.Errorf("sensor: drive: %w", err)
	}
	return nil
}
