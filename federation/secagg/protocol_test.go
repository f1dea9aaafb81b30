package secagg

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sumTolerance is the bound the sums are checked against, per element:
//
//	|got − ref| <= |U|/(2·scale)·(1+2^-50) + (|U|+1)·2^-53·Σ_a |x_a,i|
//
// The first term is the quantization (each of |U| inputs rounded to the
// nearest multiple of 1/scale) and the second covers the float64 rounding
// of the dequantized sum (relative 2^-53) and of the reference sum computed
// in float64 by adding |U| terms (at most (|U|−1)·2^-53·Σ|x|).
func sumTolerance(nU int, scale float64, absSum float64) float64 {
	return float64(nU)/(2*scale)*(1+0x1p-50) + float64(nU+1)*0x1p-53*absSum
}

func checkSum(t *testing.T, f *fixture, spec roundSpec, out *roundOut) {
	t.Helper()
	scale, _ := Scale(f.g.Size(), spec.clip)
	var u []string
	for _, s := range f.g.Members() {
		if !spec.noShares[s] && !spec.noMasked[s] {
			u = append(u, s)
		}
	}
	if !slices.Equal(out.ann.Survivors, u) || out.n != len(u) {
		t.Fatalf("survivors %v (n=%d), want %v", out.ann.Survivors, out.n, u)
	}
	for i := range out.sum {
		var ref, abs float64
		for _, s := range u {
			ref += spec.inputs[s][i]
			abs += math.Abs(spec.inputs[s][i])
		}
		if d := math.Abs(out.sum[i] - ref); d > sumTolerance(len(u), scale, abs) {
			t.Fatalf("element %d: got %v, plain sum %v, |diff| %g > tolerance %g", i, out.sum[i], ref, d, sumTolerance(len(u), scale, abs))
		}
	}
}

func inputs(f *fixture, r *rand.Rand, dim int, clip float64) map[string][]float64 {
	in := map[string][]float64{}
	for _, s := range f.g.Members() {
		in[s] = clippedInput(r, dim, clip)
	}
	return in
}

// TestSumCorrect: for m = 2..8, every allowed t and every number of
// dropouts 0..m−t (members that sent shares but no masked vector), the
// relay's output equals the plain float sum of the survivors within
// sumTolerance. All messages go through their wire encoding.
func TestSumCorrect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for m := 2; m <= 8; m++ {
		for thr := MinThreshold(m); thr <= m; thr++ {
			f := newFixture(t, m, thr, 7, uint64(100*m+thr))
			round := uint64(1)
			for drops := 0; drops <= m-thr; drops++ {
				clip := []float64{1e-6, 1, 3.5, 1e6}[drops%4]
				mem := f.g.Members()
				r.Shuffle(len(mem), func(i, j int) { mem[i], mem[j] = mem[j], mem[i] })
				spec := roundSpec{
					round: round, clip: clip, inputs: inputs(f, r, 257, clip),
					noMasked: set(mem[:drops]...), seed: round*1000 + uint64(m), wire: true,
				}
				round++
				out, err := runRound(t, f, spec)
				if err != nil {
					t.Fatalf("m=%d t=%d drops=%d: %v", m, thr, drops, err)
				}
				checkSum(t, f, spec, out)
			}
		}
	}
}

// TestDropoutAfterShares: members that sent their shares and then vanished
// before sending y are recovered from (their pair masks removed), together
// with a member that never sent shares and a survivor that sent y but not
// its reveal.
func TestDropoutAfterShares(t *testing.T) {
	f := newFixture(t, 7, 4, 1, 3)
	r := rand.New(rand.NewPCG(3, 4))
	mem := f.g.Members()
	spec := roundSpec{
		round: 5, clip: 2, inputs: inputs(f, r, 1000, 2), seed: 9, wire: true,
		noShares: set(mem[6]),         // never participated: P has 6 members
		noMasked: set(mem[1], mem[4]), // dropped after sharing: D; U has exactly t = 4
	}
	out, err := runRound(t, f, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.ann.Dropped, []string{mem[1], mem[4]}) {
		t.Fatalf("dropped %v", out.ann.Dropped)
	}
	checkSum(t, f, spec, out)

	// Five survivors, one silent in the acceptance phase, one more in the
	// reveal phase: four reveals, t = 4.
	spec = roundSpec{
		round: 6, clip: 2, inputs: inputs(f, r, 1000, 2), seed: 10, wire: true,
		noMasked: set(mem[0]), noAccept: set(mem[6]), noReveal: set(mem[5]),
	}
	out, err = runRound(t, f, spec)
	if err != nil {
		t.Fatal(err)
	}
	checkSum(t, f, spec, out)
}

// TestTooFewErrors: fewer than t share sets, masked vectors or reveals is a
// clear error, never a sum.
func TestTooFewErrors(t *testing.T) {
	f := newFixture(t, 5, 3, 1, 4)
	r := rand.New(rand.NewPCG(5, 6))
	mem := f.g.Members()
	in := inputs(f, r, 64, 1)

	_, err := runRound(t, f, roundSpec{round: 1, clip: 1, inputs: in, noShares: set(mem[0], mem[1], mem[2])})
	if !errors.Is(err, ErrTooFewParticipants) {
		t.Fatalf("3 of 5 without shares: %v, want ErrTooFewParticipants", err)
	}
	out, err := runRound(t, f, roundSpec{round: 2, clip: 1, inputs: in, noMasked: set(mem[0], mem[2], mem[4])})
	if !errors.Is(err, ErrTooFewSurvivors) {
		t.Fatalf("3 of 5 dropped: %v, want ErrTooFewSurvivors", err)
	}
	if out.sum != nil {
		t.Fatal("a sum despite too few survivors")
	}
	_, err = runRound(t, f, roundSpec{round: 3, clip: 1, inputs: in, noMasked: set(mem[1]), noAccept: set(mem[0], mem[2])})
	if !errors.Is(err, ErrTooFewAccepts) {
		t.Fatalf("2 of 4 survivors accepted: %v, want ErrTooFewAccepts", err)
	}
	t.Logf("reads: %v", err)
	_, err = runRound(t, f, roundSpec{round: 4, clip: 1, inputs: in, noMasked: set(mem[1]), noReveal: set(mem[0], mem[2])})
	if !errors.Is(err, ErrTooFewReveals) {
		t.Fatalf("2 of 4 survivors revealed: %v, want ErrTooFewReveals", err)
	}
	t.Logf("reads: %v", err)
}

// TestLargeVector masks and aggregates MaxDim elements and rejects MaxDim+1.
func TestLargeVector(t *testing.T) {
	if testing.Short() {
		t.Skip("large vector")
	}
	f := newFixture(t, 3, 2, 1, 5)
	r := rand.New(rand.NewPCG(7, 8))
	spec := roundSpec{round: 1, clip: 10, inputs: inputs(f, r, MaxDim, 10), noMasked: set(f.g.Members()[1]), seed: 1, wire: true}
	out, err := runRound(t, f, spec)
	if err != nil {
		t.Fatal(err)
	}
	checkSum(t, f, spec, out)
	if _, err := NewAggregator(f.g, 2, 10, MaxDim+1); !errors.Is(err, ErrInput) {
		t.Fatalf("MaxDim+1 aggregator: %v", err)
	}
	c, _ := f.nodes[f.g.Members()[0]].NewClient(2, rng(1))
	c.ShareSet()
	if _, err := c.Mask(make([]float64, MaxDim+1), 10, &Delivery{}); !errors.Is(err, ErrInput) {
		t.Fatalf("MaxDim+1 input: %v", err)
	}
}

// TestInputValidation: NaN, Inf, elements over the clip bound, L2 norm over
// it, bad clip bounds and empty vectors are errors, and a failed Mask
// leaves the client able to mask a good input.
func TestInputValidation(t *testing.T) {
	f := newFixture(t, 3, 2, 1, 6)
	mem := f.g.Members()
	agg, _ := NewAggregator(f.g, 1, 1, 4)
	var cs []*Client
	for _, s := range mem {
		c, _ := f.nodes[s].NewClient(1, rng(2))
		ss, _ := c.ShareSet()
		if err := agg.AddShareSet(ss); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	dels, _ := agg.Deliveries()
	d := dels[mem[0]]
	bad := []struct {
		x    []float64
		clip float64
	}{
		{[]float64{0, math.NaN(), 0, 0}, 1},
		{[]float64{0, math.Inf(1), 0, 0}, 1},
		{[]float64{0, math.Inf(-1), 0, 0}, 1},
		{[]float64{0, 1.5, 0, 0}, 1},
		{[]float64{0.8, 0.8, 0, 0}, 1},
		{[]float64{}, 1},
		{[]float64{0, 0, 0, 0}, 0},
		{[]float64{0, 0, 0, 0}, -1},
		{[]float64{0, 0, 0, 0}, math.NaN()},
		{[]float64{0, 0, 0, 0}, math.Inf(1)},
		{[]float64{0, 0, 0, 0}, 1e-300},
	}
	for _, b := range bad {
		if _, err := cs[0].Mask(b.x, b.clip, d); !errors.Is(err, ErrInput) {
			t.Errorf("Mask(%v, clip %v): %v, want ErrInput", b.x, b.clip, err)
		}
	}
	if _, err := cs[0].Mask([]float64{0.6, -0.8, 0, 0}, 1, d); err != nil {
		t.Fatalf("good input after bad ones: %v", err)
	}
	if _, err := cs[0].Mask([]float64{0, 0, 0, 0}, 1, d); !errors.Is(err, ErrPhase) {
		t.Fatalf("second Mask: %v, want ErrPhase", err)
	}
	if _, err := cs[1].Mask([]float64{0, 0, 0, 0}, 1, d); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Mask with another member's delivery: %v, want ErrMismatch", err)
	}
	if _, err := cs[1].Accept(&Announcement{}); !errors.Is(err, ErrPhase) {
		t.Fatalf("Accept before Mask: %v, want ErrPhase", err)
	}
	if _, err := cs[1].Reveal(&Confirmation{}); !errors.Is(err, ErrPhase) {
		t.Fatalf("Reveal before Accept: %v, want ErrPhase", err)
	}
}

// TestRoundsNeverRepeat: a Node refuses a round it already started.
func TestRoundsNeverRepeat(t *testing.T) {
	f := newFixture(t, 2, 2, 1, 7)
	n := f.nodes[f.g.Members()[0]]
	if _, err := n.NewClient(5, rng(1)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []uint64{5, 4, 0} {
		if _, err := n.NewClient(r, rng(1)); !errors.Is(err, ErrRoundReused) {
			t.Fatalf("round %d again: %v", r, err)
		}
	}
	n.ResumeAfter(10)
	if _, err := n.NewClient(10, rng(1)); !errors.Is(err, ErrRoundReused) {
		t.Fatalf("round 10 after ResumeAfter(10): %v", err)
	}
	n.ResumeAfter(3) // never lowers
	if _, err := n.NewClient(11, rng(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := n.NewClient(math.MaxUint64, rng(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := n.NewClient(math.MaxUint64, rng(1)); !errors.Is(err, ErrRoundReused) {
		t.Fatalf("last round twice: %v", err)
	}
}

// TestCorruptReveal: a tampered share is caught by the commitment with
// exactly t reveals, and by the share consistency check with more.
func TestCorruptReveal(t *testing.T) {
	f := newFixture(t, 5, 3, 1, 8)
	r := rand.New(rand.NewPCG(9, 10))
	mem := f.g.Members()
	for i, tc := range []struct {
		name     string
		noReveal map[string]bool
		pair     bool
	}{
		{"exactly-t/self-share", set(mem[3]), false},
		{"exactly-t/pair-share", set(mem[3]), true},
		{"more-than-t/self-share", nil, false},
		{"more-than-t/pair-share", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := roundSpec{
				round: uint64(i + 1), clip: 1, inputs: inputs(f, r, 64, 1), noMasked: set(mem[4]), noReveal: tc.noReveal, seed: 3,
				tamperRev: func(s string, rv *Reveal) {
					if s == mem[1] {
						if tc.pair {
							rv.PairShares[2][7] ^= 0x40
						} else {
							rv.SelfShares[0][0] ^= 1
						}
					}
				},
			}
			_, err := runRound(t, f, spec)
			if !errors.Is(err, ErrCorruptShare) {
				t.Fatalf("%v, want ErrCorruptShare", err)
			}
			t.Logf("error reads: %v", err)
		})
	}
}

// TestPairMismatch: a corrupted pair ciphertext decapsulates (implicit
// rejection) to a different secret; the relay names the pair at
// Deliveries, and the bundle between them fails authentication.
func TestPairMismatch(t *testing.T) {
	f := newFixture(t, 3, 2, 4, 11)
	mem := f.g.Members()
	pub, _ := ParsePublicKey(f.pubs[mem[2]])
	ct, good, err := EncapsulatePair(mem[0], mem[2], 4, pub, rng(1))
	if err != nil {
		t.Fatal(err)
	}
	ct[100] ^= 1
	bad, err := DecapsulatePair(mem[2], mem[0], 4, f.sks[mem[2]], ct)
	if err != nil {
		t.Fatalf("implicit rejection must not error: %v", err)
	}
	if bad == good {
		t.Fatal("corrupted ciphertext gave the same secret")
	}
	// Rebuild mem[2]'s node with the wrong secret for mem[0].
	secrets := map[string][32]byte{mem[0]: bad}
	for _, s := range mem[1:2] {
		secrets[s] = f.nodes[mem[2]].secrets[f.g.index[s]]
	}
	n2, err := NewNode(f.g, mem[2], secrets)
	if err != nil {
		t.Fatal(err)
	}
	f.nodes[mem[2]] = n2
	// mem[0]'s node keeps the secret from the fixture, which differs from
	// both; give it "good" to model a honest encapsulator.
	s0 := map[string][32]byte{mem[2]: good, mem[1]: f.nodes[mem[0]].secrets[1]}
	f.nodes[mem[0]], _ = NewNode(f.g, mem[0], s0)
	_, err = runRound(t, f, roundSpec{round: 1, clip: 1, inputs: inputs(f, rand.New(rand.NewPCG(1, 1)), 8, 1)})
	if !errors.Is(err, ErrPairMismatch) {
		t.Fatalf("%v, want ErrPairMismatch", err)
	}
	t.Logf("error reads: %v", err)
}

// TestMessageChecks: the relay and the clients reject messages of another
// round, epoch, member or phase.
func TestMessageChecks(t *testing.T) {
	f := newFixture(t, 3, 2, 2, 12)
	mem := f.g.Members()
	agg, _ := NewAggregator(f.g, 7, 1, 4)
	c0, _ := f.nodes[mem[0]].NewClient(7, rng(1))
	other, _ := f.nodes[mem[1]].NewClient(8, rng(2))
	ss0, _ := c0.ShareSet()
	ssOther, _ := other.ShareSet()
	if err := agg.AddShareSet(ssOther); !errors.Is(err, ErrMismatch) {
		t.Fatalf("share set of round 8: %v", err)
	}
	if err := agg.AddMasked(&MaskedVector{Sender: mem[0], Data: []uint64{1}}); !errors.Is(err, ErrPhase) {
		t.Fatalf("masked vector before Deliveries: %v", err)
	}
	if err := agg.AddShareSet(ss0); err != nil {
		t.Fatal(err)
	}
	if err := agg.AddShareSet(ss0); !errors.Is(err, ErrMismatch) {
		t.Fatalf("duplicate share set: %v", err)
	}
	if _, err := agg.Deliveries(); !errors.Is(err, ErrTooFewParticipants) {
		t.Fatalf("one participant: %v", err)
	}
	if _, err := agg.Announce(); !errors.Is(err, ErrPhase) {
		t.Fatalf("Announce before Deliveries: %v", err)
	}
	if _, err := agg.Confirm(); !errors.Is(err, ErrPhase) {
		t.Fatalf("Confirm before Announce: %v", err)
	}
	if _, _, err := agg.Result(); !errors.Is(err, ErrPhase) {
		t.Fatalf("Result before Confirm: %v", err)
	}
	bad := *ss0
	bad.Sender = "stranger"
	for i := range bad.Bundles {
		bad.Bundles[i].Sender = "stranger"
	}
	if err := agg.AddShareSet(&bad); !errors.Is(err, ErrMismatch) {
		t.Fatalf("share set from a non-member: %v", err)
	}
	if _, err := NewGroup(1, []string{"a", "b", "a"}, 2); !errors.Is(err, ErrInput) {
		t.Fatalf("duplicate member: %v", err)
	}
	if _, err := NewGroup(1, []string{"a", "b", "c", "d"}, 2); !errors.Is(err, ErrInput) {
		t.Fatalf("t=2 for m=4 (2t <= m): %v", err)
	}
	if _, err := NewGroup(1, []string{"a"}, 1); !errors.Is(err, ErrInput) {
		t.Fatalf("group of one: %v", err)
	}
	if _, err := NewNode(f.g, mem[0], map[string][32]byte{mem[1]: {1}}); !errors.Is(err, ErrInput) {
		t.Fatalf("node missing a secret: %v", err)
	}
}
