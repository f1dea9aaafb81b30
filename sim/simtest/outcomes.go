package simtest

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/prismai/mec/circuit"
)

// Outcome is one path of a circuit with measurements and resets: its
// probability, the classical register it leaves (clbit 0 rightmost, as
// sim keys counts) and the final state on that path.
type Outcome struct {
	P     float64
	Key   string
	State []complex128
}

// maxOutcomes bounds the paths Outcomes enumerates.
const maxOutcomes = 1 << 16

// minPathProbability is the probability below which Outcomes drops a path
// (a loop's path that goes on for 50 rounds of a fair coin, say).
const minPathProbability = 1e-15

// Outcomes enumerates every path of c from |0…0⟩ exactly, on the host
// without fusion: each measurement and reset forks into its two outcomes
// (those of probability above 1e-14), weighted by their probabilities;
// paths less likely than 1e-15 are dropped.
// It is the independent reference for shot runs; it refuses circuits with
// more than 65536 paths.
func Outcomes(c *circuit.Circuit) ([]Outcome, error) { return OutcomesWith(c, nil) }

// OutcomesWith is Outcomes for a circuit whose classical expressions call
// extern functions: host serves them.
func OutcomesWith(c *circuit.Circuit, host circuit.Host) ([]Outcome, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Qubits > 16 {
		return nil, fmt.Errorf("simtest: Outcomes of %d qubits: at most 16", c.Qubits)
	}
	v := make([]complex128, 1<<uint(c.Qubits))
	v[0] = 1
	var out []Outcome
	var walk func(from int, v []complex128, bits []bool, p float64) error
	walk = func(from int, v []complex128, bits []bool, p float64) error {
		for i := from; i < len(c.Ops); i++ {
			op := &c.Ops[i]
			if !circuit.CondsHold(op.Conds, bits) {
				continue
			}
			switch op.Kind {
			case circuit.KindGate:
				bound, err := op.Bind(bits, host)
				if err != nil {
					return err
				}
				g, err := bound.Lower()
				if err != nil {
					return err
				}
				circuit.ApplyToVector(v, &g)
			case circuit.KindSet, circuit.KindFail, circuit.KindCompute:
				bits = slices.Clone(bits)
				if err := op.RunClassical(bits, host); err != nil {
					return fmt.Errorf("simtest: op %d: %w", i, err)
				}
			case circuit.KindMeasure, circuit.KindReset:
				q := uint(op.Qubits[0])
				var p1 float64
				for k, a := range v {
					if k>>q&1 == 1 {
						p1 += real(a)*real(a) + imag(a)*imag(a)
					}
				}
				for bit, pb := range []float64{1 - p1, p1} {
					if pb <= 1e-14 || p*pb < minPathProbability {
						continue
					}
					w := make([]complex128, len(v))
					scale := complex(1/math.Sqrt(pb), 0)
					for k, a := range v {
						if int(k>>q&1) == bit {
							j := k
							if op.Kind == circuit.KindReset {
								j = k &^ (1 << q)
							}
							w[j] = a * scale
						}
					}
					b := slices.Clone(bits)
					if op.Kind == circuit.KindMeasure {
						b[op.Clbit] = bit == 1
					}
					if len(out) >= maxOutcomes {
						return fmt.Errorf("simtest: more than %d paths", maxOutcomes)
					}
					if err := walk(i+1, w, b, p*pb); err != nil {
						return err
					}
				}
				return nil
			}
		}
		shown := bits[:c.Results()] // scratch bits left out
		key := make([]byte, len(shown))
		for j, b := range shown {
			key[len(shown)-1-j] = "01"[btoi(b)]
		}
		out = append(out, Outcome{P: p, Key: string(key), State: v})
		return nil
	}
	return out, walk(0, v, make([]bool, c.Clbits), 1)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Distribution is the exact probability of each classical register value
// of c (see Outcomes).
func Distribution(c *circuit.Circuit) (map[string]float64, error) { return DistributionWith(c, nil) }

// DistributionWith is Distribution with a host for extern functions.
func DistributionWith(c *circuit.Circuit, host circuit.Host) (map[string]float64, error) {
	outs, err := OutcomesWith(c, host)
	if err != nil {
		return nil, err
	}
	d := map[string]float64{}
	for _, o := range outs {
		d[o.Key] += o.P
	}
	return d, nil
}

// ChiSquare tests counts against the distribution dist (Pearson's χ²):
// outcomes expected fewer than 5 times are pooled into one bin, and an
// outcome dist gives no probability counts against the pool. It returns
// the statistic, the degrees of freedom and the p-value.
func ChiSquare(counts map[string]int, dist map[string]float64) (chi2 float64, dof int, p float64) {
	n := 0
	for _, c := range counts {
		n += c
	}
	keys := make([]string, 0, len(dist))
	for k := range dist {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var poolE float64
	poolO := 0
	bins := 0
	for _, k := range keys {
		e := dist[k] * float64(n)
		if e < 5 {
			poolE += e
			poolO += counts[k]
			continue
		}
		d := float64(counts[k]) - e
		chi2 += d * d / e
		bins++
	}
	for k, c := range counts {
		if _, ok := dist[k]; !ok {
			poolO += c
		}
	}
	if poolE > 0 || poolO > 0 {
		if poolE == 0 {
			return math.Inf(1), max(bins, 1), 0
		}
		d := float64(poolO) - poolE
		chi2 += d * d / poolE
		bins++
	}
	dof = max(bins-1, 1)
	return chi2, dof, distuv.ChiSquared{K: float64(dof)}.Survival(chi2)
}

// ChiSquare2 tests whether two sets of counts come from one distribution
// (the two-sample χ² test on their contingency table; outcomes seen fewer
// than 10 times in both together are pooled). It returns the statistic,
// the degrees of freedom and the p-value.
func ChiSquare2(a, b map[string]int) (chi2 float64, dof int, p float64) {
	na, nb := 0, 0
	for _, c := range a {
		na += c
	}
	for _, c := range b {
		nb += c
	}
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	type bin struct{ x, y int }
	var bins []bin
	var pool bin
	for k := range keys {
		if a[k]+b[k] < 10 {
			pool.x += a[k]
			pool.y += b[k]
			continue
		}
		bins = append(bins, bin{a[k], b[k]})
	}
	if pool.x+pool.y > 0 {
		bins = append(bins, pool)
	}
	N := float64(na + nb)
	for _, c := range bins {
		t := float64(c.x + c.y)
		ea, eb := t*float64(na)/N, t*float64(nb)/N
		chi2 += (float64(c.x)-ea)*(float64(c.x)-ea)/ea + (float64(c.y)-eb)*(float64(c.y)-eb)/eb
	}
	dof = max(len(bins)-1, 1)
	return chi2, dof, distuv.ChiSquared{K: float64(dof)}.Survival(chi2)
}
