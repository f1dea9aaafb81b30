package secagg

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// What the relay can and cannot learn.
//
// The relay sees every ShareSet (commitments and bundle ciphertexts under
// keys derived from pair secrets it never sees), every Delivery, every
// masked vector, the announcement and the reveals. From the reveals it
// reconstructs b_u for u in U and s_{d,u} for d in D, u in U — nothing else
// has t shares revealed. So for a survivor a the best it can compute is
//
//	residual_a = y_a − PRG(b_a) − Σ_{d∈D} ±PRG(s_{a,d})
//	           = q(x_a) + Σ_{u∈U\{a}} ±PRG(s_{a,u})
//
// which still carries |U|−1 >= t−1 >= 1 pair masks whose seeds were never
// revealed. The tests below compute residual_a exactly as a relay would,
// from the encoded messages alone, and check that it is statistically
// uniform and that two input assignments with the same sum give
// indistinguishable residuals; as a control they add the unrevealed pair
// masks back (which only the edges know) and recover q(x_a) exactly.

// chi2Crit255 is the 0.999 quantile of the chi-square distribution with
// 255 degrees of freedom (Wilson–Hilferty: 255·(1 − 2/(9·255) +
// 3.0902·sqrt(2/(9·255)))^3 ≈ 330.5): a test at significance 0.001.
const chi2Crit255 = 330.5

// relayView is every message the relay handles in a round, encoded.
type relayView struct {
	shareSets, masked, reveals map[string][]byte
	ann                        []byte
}

func (v *relayView) observe(kind, from string, b []byte) {
	switch kind {
	case "shareset":
		v.shareSets[from] = b
	case "masked":
		v.masked[from] = b
	case "reveal":
		v.reveals[from] = b
	case "announcement":
		v.ann = b
	}
}

func newView() *relayView {
	return &relayView{shareSets: map[string][]byte{}, masked: map[string][]byte{}, reveals: map[string][]byte{}}
}

// relayResiduals is the relay's best attempt at each survivor's input: it
// removes every mask whose seed it can reconstruct from the transcript.
func relayResiduals(t *testing.T, g *Group, v *relayView) map[string][]uint64 {
	t.Helper()
	ann, err := UnmarshalAnnouncement(v.ann)
	if err != nil {
		t.Fatal(err)
	}
	var xs []byte
	var revs []*Reveal
	for _, s := range ann.Survivors {
		if b, ok := v.reveals[s]; ok {
			r, err := UnmarshalReveal(b)
			if err != nil {
				t.Fatal(err)
			}
			i, _ := g.Index(s)
			xs = append(xs, byte(i+1))
			revs = append(revs, r)
		}
	}
	ip, err := newInterpolator(xs, g.Threshold())
	if err != nil {
		t.Fatal(err)
	}
	col := func(get func(*Reveal) [32]byte) [32]byte {
		sh := make([][32]byte, len(revs))
		for k, r := range revs {
			sh[k] = get(r)
		}
		s, err := ip.combine(sh)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	out := map[string][]uint64{}
	for j, a := range ann.Survivors {
		mv, err := UnmarshalMaskedVector(v.masked[a])
		if err != nil {
			t.Fatal(err)
		}
		ai, _ := g.Index(a)
		terms := []maskTerm{{seed: col(func(r *Reveal) [32]byte { return r.SelfShares[j] }), neg: true}}
		for i, d := range ann.Dropped {
			di, _ := g.Index(d)
			s := col(func(r *Reveal) [32]byte { return r.PairShares[i*len(ann.Survivors)+j] })
			terms = append(terms, maskTerm{seed: s, neg: di > ai})
		}
		if err := applyMasks(mv.Data, nil, 0, terms); err != nil {
			t.Fatal(err)
		}
		out[a] = mv.Data
	}
	return out
}

// unrevealed adds back the pair masks between a and the other survivors,
// which only the edges know: the control that shows the residual is
// exactly q(x_a) hidden by them.
func unrevealed(t *testing.T, c *Client, ann *Announcement, res []uint64) []uint64 {
	t.Helper()
	out := append([]uint64(nil), res...)
	var terms []maskTerm
	for _, u := range ann.Survivors {
		ui, _ := c.g.Index(u)
		if ui != c.n.idx {
			terms = append(terms, maskTerm{seed: c.seeds[ui], neg: ui > c.n.idx})
		}
	}
	if err := applyMasks(out, nil, 0, terms); err != nil {
		t.Fatal(err)
	}
	return out
}

// byteChi2 is the chi-square statistic of the bytes of v against the
// uniform distribution on 256 values.
func byteChi2(v []uint64) float64 {
	var h [256]float64
	for _, x := range v {
		for k := range 8 {
			h[byte(x>>(8*k))]++
		}
	}
	e := float64(8*len(v)) / 256
	var c float64
	for _, n := range h {
		c += (n - e) * (n - e) / e
	}
	return c
}

// maxBitZ is the largest |z| over the 64 bit positions of the fraction of
// ones against 1/2.
func maxBitZ(v []uint64) float64 {
	var worst float64
	n := float64(len(v))
	for b := range 64 {
		ones := 0.0
		for _, x := range v {
			ones += float64(x >> b & 1)
		}
		worst = max(worst, math.Abs(ones-n/2)/math.Sqrt(n/4))
	}
	return worst
}

// TestRelayCannotUnmaskIndividual: in an honest round with a dropout
// (m=4, t=3; the relay learns b for the 3 survivors and the dropped
// member's seeds with them), the relay's residual for each survivor, whose
// input is a constant vector (maximally structured), is uniform: byte
// chi-square below the 0.001 critical value and every bit position's
// frequency of ones within 4.5σ of 1/2 (per-position two-sided 7e-6,
// family-wise ~1e-3 over 192 positions). Adding the two unrevealed pair
// masks back gives q(x_a) exactly, whose byte chi-square is enormous.
func TestRelayCannotUnmaskIndividual(t *testing.T) {
	f := newFixture(t, 4, 3, 1, 20)
	mem := f.g.Members()
	const dim = 8192
	clip := 1.0
	in := map[string][]float64{}
	for i, s := range mem {
		x := make([]float64, dim)
		for k := range x {
			x[k] = float64(i+1) * 0.2 / math.Sqrt(dim)
		}
		in[s] = x
	}
	v := newView()
	spec := roundSpec{round: 1, clip: clip, inputs: in, noMasked: set(mem[2]), seed: 21, transcript: v.observe}
	out, err := runRound(t, f, spec)
	if err != nil {
		t.Fatal(err)
	}
	scale, _ := Scale(4, clip)
	res := relayResiduals(t, f.g, v)
	for _, a := range out.ann.Survivors {
		r := res[a]
		chi, z := byteChi2(r), maxBitZ(r)
		// The relay's naive estimate of x_a: dequantize the residual. It is
		// uniform over ±2^63/scale = ±16·clip here, so its mean absolute
		// error is about 8·clip, while every input element is within clip.
		var mae float64
		for k := range r {
			mae += math.Abs(float64(int64(r[k]))/scale-in[a][k]) / dim
		}
		t.Logf("%s: residual byte chi2 %.1f (crit %.1f), max bit |z| %.2f, relay's estimate off by %.3g on average (clip %g)", a, chi, chi2Crit255, z, mae, clip)
		if chi >= chi2Crit255 || z >= 4.5 {
			t.Errorf("%s: residual not uniform: chi2 %.1f, bit z %.2f", a, chi, z)
		}
		if mae < 4*clip {
			t.Errorf("%s: the dequantized residual is within %g of the input on average", a, mae)
		}
		// Control.
		q := unrevealed(t, out.clients[a], out.ann, r)
		for k := range q {
			if q[k] != quantize(in[a][k], scale) {
				t.Fatalf("%s: residual plus the unrevealed pair masks is not q(x) at %d", a, k)
			}
		}
		if c := byteChi2(q); c < 100*chi2Crit255 {
			t.Fatalf("control: chi2 of q(x) only %.1f", c)
		}
	}
}

// TestRelayTranscriptsIndistinguishable: scenario X gives member 0 the
// input +v and member 1 −v, scenario X' the reverse (member 2 has 0; the
// sum is the same). Over 40 honest rounds each (m=3, t=2, 1024 elements),
// a relay guessing the scenario from the sign of each element of its
// residual for member 0 is right 50% of the time within 4.5σ, the byte
// histograms of the residuals in the two scenarios pass a two-sample
// chi-square homogeneity test at 0.001, and every message has the same
// length in both. With the unrevealed pair seeds (the control) the same
// guess is always right.
func TestRelayTranscriptsIndistinguishable(t *testing.T) {
	f := newFixture(t, 3, 2, 1, 30)
	mem := f.g.Members()
	const dim, trials = 1024, 40
	clip := 1.0
	val := 0.9 / math.Sqrt(dim)
	var hist [2][256]float64
	var right, rightCtl, total float64
	lengths := [2]map[string]int{{}, {}}
	round := uint64(100) // rounds 100..179 all encode in two bytes
	for sc := range 2 {
		sign := 1.0 - 2*float64(sc) // X: +1, X': −1
		for trial := range trials {
			in := map[string][]float64{mem[0]: make([]float64, dim), mem[1]: make([]float64, dim), mem[2]: make([]float64, dim)}
			for k := range dim {
				in[mem[0]][k] = sign * val
				in[mem[1]][k] = -sign * val
			}
			v := newView()
			obs := func(kind, from string, b []byte) {
				v.observe(kind, from, b)
				key := kind + from
				if trial == 0 {
					lengths[sc][key] = len(b)
				}
			}
			out, err := runRound(t, f, roundSpec{round: round, clip: clip, inputs: in, seed: round, transcript: obs})
			round++
			if err != nil {
				t.Fatal(err)
			}
			r := relayResiduals(t, f.g, v)[mem[0]]
			ctl := unrevealed(t, out.clients[mem[0]], out.ann, r)
			for k := range r {
				guessX := int64(r[k]) > 0
				if guessX == (sc == 0) {
					right++
				}
				if (int64(ctl[k]) > 0) == (sc == 0) {
					rightCtl++
				}
				total++
				for b := range 8 {
					hist[sc][byte(r[k]>>(8*b))]++
				}
			}
		}
	}
	acc, sigma := right/total, 0.5/math.Sqrt(total)
	// Two-sample chi-square homogeneity (equal sample sizes).
	var chi float64
	for b := range 256 {
		if s := hist[0][b] + hist[1][b]; s > 0 {
			d := hist[0][b] - hist[1][b]
			chi += d * d / s
		}
	}
	t.Logf("relay's guess right %.4f of %d (|acc−0.5| = %.2fσ); control right %.4f; two-sample chi2 %.1f (crit %.1f)",
		acc, int(total), math.Abs(acc-0.5)/sigma, rightCtl/total, chi, chi2Crit255)
	if math.Abs(acc-0.5) > 4.5*sigma {
		t.Errorf("the relay distinguishes the scenarios: accuracy %.4f", acc)
	}
	if chi >= chi2Crit255 {
		t.Errorf("residual histograms differ between scenarios: chi2 %.1f", chi)
	}
	if rightCtl != total {
		t.Errorf("control: with the unrevealed seeds the guess is right only %.4f", rightCtl/total)
	}
	for k, n := range lengths[0] {
		if lengths[1][k] != n {
			t.Errorf("message %s: %d bytes in X, %d in X'", k, n, lengths[1][k])
		}
	}
}

// honestUpToAnnouncement runs a round to its announcement and returns the
// clients and the announcement.
func honestUpToAnnouncement(t *testing.T, f *fixture, round uint64, dropped ...string) (map[string]*Client, *Announcement) {
	t.Helper()
	r := rand.New(rand.NewPCG(round, 7))
	agg, _ := NewAggregator(f.g, round, 1, 16)
	cs := map[string]*Client{}
	for _, s := range f.g.Members() {
		c, err := f.nodes[s].NewClient(round, rng(round))
		if err != nil {
			t.Fatal(err)
		}
		ss, _ := c.ShareSet()
		if err := agg.AddShareSet(ss); err != nil {
			t.Fatal(err)
		}
		cs[s] = c
	}
	dels, err := agg.Deliveries()
	if err != nil {
		t.Fatal(err)
	}
	drop := set(dropped...)
	for _, s := range f.g.Members() {
		mv, err := cs[s].Mask(clippedInput(r, 16, 1), 1, dels[s])
		if err != nil {
			t.Fatal(err)
		}
		if !drop[s] {
			if err := agg.AddMasked(mv); err != nil {
				t.Fatal(err)
			}
		}
	}
	ann, err := agg.Announce()
	if err != nil {
		t.Fatal(err)
	}
	return cs, ann
}

func announce(round uint64, u, d []string) *Announcement {
	return &Announcement{Epoch: 1, Round: round, Survivors: u, Dropped: d}
}

// confirm builds the confirmation a relay would send for announcement a
// from the acceptances it holds (forging a zero tag row for any listed
// acceptor without one).
func confirm(a *Announcement, accs map[string]*Acceptance, acceptors ...string) *Confirmation {
	dig, _ := a.Digest()
	c := &Confirmation{Epoch: a.Epoch, Round: a.Round, Announcement: dig, Acceptors: acceptors}
	for _, s := range acceptors {
		if x := accs[s]; x != nil && len(x.Tags) == len(a.Survivors)-1 {
			c.Tags = append(c.Tags, slices.Clone(x.Tags))
		} else {
			c.Tags = append(c.Tags, make([][TagSize]byte, len(a.Survivors)-1))
		}
	}
	return c
}

func refuseAccept(t *testing.T, c *Client, a *Announcement, why string) {
	t.Helper()
	if _, err := c.Accept(a); !errors.Is(err, ErrRefused) {
		t.Fatalf("%s: Accept gave %v, want ErrRefused", why, err)
	} else {
		t.Logf("%s: %v", why, err)
	}
}

func refuseReveal(t *testing.T, c *Client, conf *Confirmation, why string) {
	t.Helper()
	if _, err := c.Reveal(conf); !errors.Is(err, ErrRefused) {
		t.Fatalf("%s: Reveal gave %v, want ErrRefused", why, err)
	} else {
		t.Logf("%s: %v", why, err)
	}
}

// TestDoubleRevealRefused: an honest edge never reveals both the self-mask
// share and the pair-seed shares of one member in one round. It accepts one
// announcement per round, refuses announcements inconsistent with what it
// masked, and reveals only for a confirmation of the announcement it
// accepted that proves t acceptances.
func TestDoubleRevealRefused(t *testing.T) {
	f := newFixture(t, 5, 3, 1, 40)
	mem := f.g.Members()
	cs, ann := honestUpToAnnouncement(t, f, 1) // everyone survived
	c := cs[mem[0]]

	refuseAccept(t, c, announce(1, mem, mem[4:]), "member in U and D")
	refuseAccept(t, c, announce(1, mem[1:], mem[:1]), "recipient announced dropped")
	refuseAccept(t, c, announce(1, mem[:4], nil), "participant missing from U ∪ D")
	refuseAccept(t, c, announce(2, mem, nil), "another round")
	if _, err := c.Reveal(confirm(ann, nil, mem...)); !errors.Is(err, ErrPhase) {
		t.Fatalf("Reveal before Accept: %v", err)
	}

	// The classic attack: A (mem[4] ∈ U) reveals mem[4]'s self-mask shares,
	// A2 (mem[4] ∈ D) its pair-seed shares. Sent to different edges.
	a2 := announce(1, mem[:4], mem[4:])
	accs := map[string]*Acceptance{}
	for _, s := range []string{mem[0], mem[1], mem[4]} {
		x, err := cs[s].Accept(ann)
		if err != nil {
			t.Fatal(err)
		}
		accs[s] = x
	}
	if x, err := c.Accept(ann); err != nil || x != accs[mem[0]] {
		t.Fatalf("same announcement again: %v", err)
	}
	refuseAccept(t, c, a2, "second announcement moving a member from U to D")
	accs2 := map[string]*Acceptance{}
	for _, s := range []string{mem[2], mem[3]} {
		x, err := cs[s].Accept(a2) // well-formed: edges that accepted nothing take it
		if err != nil {
			t.Fatal(err)
		}
		accs2[s] = x
	}
	// A2 has two acceptors, t = 3. The relay pads the confirmation with
	// mem[1], whose real acceptance (of A) it holds.
	forged := confirm(a2, accs2, mem[1], mem[2], mem[3])
	forged.Tags[0] = accs[mem[1]].Tags[:3]
	refuseReveal(t, cs[mem[2]], forged, "A2 confirmed with another announcement's tags")
	refuseReveal(t, cs[mem[3]], confirm(a2, accs2, mem[2], mem[3]), "A2 with fewer than t acceptors")
	refuseReveal(t, c, confirm(a2, accs2, mem[1], mem[2], mem[3]), "confirmation of an announcement not accepted")
	bad := confirm(ann, accs, mem[0], mem[1], mem[4])
	bad.Tags[2][1][0] ^= 1 // mem[4]'s tag to mem[1]
	refuseReveal(t, cs[mem[1]], bad, "corrupted acceptance tag")
	// A is properly confirmed: its acceptors reveal.
	for _, s := range []string{mem[0], mem[1], mem[4]} {
		if _, err := cs[s].Reveal(confirm(ann, accs, mem[0], mem[1], mem[4])); err != nil {
			t.Fatalf("%s on the valid confirmation: %v", s, err)
		}
	}

	// Fewer than t survivors (m=5, t=3): a fresh round.
	cs, _ = honestUpToAnnouncement(t, f, 2, mem[3], mem[4])
	refuseAccept(t, cs[mem[0]], announce(2, mem[:2], mem[2:]), "fewer than t survivors")
}

// TestEquivocatingRelay: a relay that gives the target d a smaller
// participant set P_d = {d, u1, u2, u3} than everyone else (w's bundle
// withheld) and sends four different announcements — A1 to u1 and w, A2 to
// u2, A3 to u3, A4 to d — would, if each edge revealed for the one
// announcement it accepted, collect t=3 shares of b_d and of every s_{u,d}
// and unmask x_d, although 2t > m and each edge answers once (the
// counterfactual below does exactly that). The acceptance round stops it:
// no announcement has t acceptors, so every confirmation the relay can
// build is refused.
func TestEquivocatingRelay(t *testing.T) {
	f := newFixture(t, 5, 3, 1, 50)
	mem := f.g.Members()
	d, u1, u2, u3, w := mem[0], mem[1], mem[2], mem[3], mem[4]
	agg, _ := NewAggregator(f.g, 1, 1, 16)
	cs := map[string]*Client{}
	for _, s := range mem {
		c, _ := f.nodes[s].NewClient(1, rng(51))
		ss, _ := c.ShareSet()
		if err := agg.AddShareSet(ss); err != nil {
			t.Fatal(err)
		}
		cs[s] = c
	}
	dels, _ := agg.Deliveries()
	dd := *dels[d]
	dd.Participants = []string{d, u1, u2, u3}
	dd.Bundles = dd.Bundles[:3] // bundles from u1, u2, u3
	r := rand.New(rand.NewPCG(5, 5))
	var xd []float64
	var yd []uint64
	for _, s := range mem {
		del := dels[s]
		if s == d {
			del = &dd
		}
		x := clippedInput(r, 16, 1)
		mv, err := cs[s].Mask(x, 1, del)
		if err != nil {
			t.Fatal(err)
		}
		if s == d {
			xd, yd = x, mv.Data
		}
	}
	a1 := announce(1, []string{d, u1, w}, []string{u2, u3})
	a2 := announce(1, []string{d, u2, w}, []string{u1, u3})
	a3 := announce(1, []string{d, u3, w}, []string{u1, u2})
	a4 := announce(1, []string{d, u2, u3}, []string{u1})
	plan := []struct {
		who string
		a   *Announcement
	}{{u1, a1}, {w, a1}, {u2, a2}, {u3, a3}, {d, a4}}

	// The counterfactual: every one of those announcements passes all the
	// edge's local checks, and pooling the reveals they would send unmasks
	// x_d exactly.
	type share struct {
		x byte
		s [32]byte
	}
	var bShares []share
	pairShares := map[string][]share{}
	for _, p := range plan {
		c := cs[p.who]
		if err := c.checkAnnouncement(p.a); err != nil {
			t.Fatalf("%s: %v", p.who, err)
		}
		rv := c.shares(p.a)
		x := byte(c.n.idx + 1)
		bShares = append(bShares, share{x, rv.SelfShares[0]}) // d sorts first in every U
		for i, dr := range p.a.Dropped {
			pairShares[dr] = append(pairShares[dr], share{x, rv.PairShares[i*len(p.a.Survivors)]})
		}
	}
	combine := func(sh []share) [32]byte {
		if len(sh) < 3 {
			t.Fatalf("only %d shares", len(sh))
		}
		var xs []byte
		var ss [][32]byte
		for _, s := range sh {
			xs = append(xs, s.x)
			ss = append(ss, s.s)
		}
		ip, err := newInterpolator(xs, 3)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ip.combine(ss)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	terms := []maskTerm{{seed: combine(bShares), neg: true}}
	for _, u := range []string{u1, u2, u3} {
		terms = append(terms, maskTerm{seed: combine(pairShares[u]), neg: true}) // u > d: y_d has +PRG
	}
	cf := append([]uint64(nil), yd...)
	if err := applyMasks(cf, nil, 0, terms); err != nil {
		t.Fatal(err)
	}
	scale, _ := Scale(5, 1)
	for k := range cf {
		if cf[k] != quantize(xd[k], scale) {
			t.Fatalf("counterfactual: x_d not recovered at %d", k)
		}
	}
	t.Logf("counterfactual: revealing for each edge's one accepted announcement would give the relay x_d exactly")

	// The protocol: each edge accepts its announcement; none gets t
	// acceptances, and every confirmation the relay can build is refused.
	accs := map[*Announcement]map[string]*Acceptance{a1: {}, a2: {}, a3: {}, a4: {}}
	for _, p := range plan {
		x, err := cs[p.who].Accept(p.a)
		if err != nil {
			t.Fatalf("%s accepting: %v", p.who, err)
		}
		accs[p.a][p.who] = x
	}
	refuseReveal(t, cs[u1], confirm(a1, accs[a1], u1, w), "u1 on A1 with its 2 real acceptors")
	refuseReveal(t, cs[u1], confirm(a1, accs[a1], d, u1, w), "u1 on A1 padded with d")
	refuseReveal(t, cs[w], confirm(a1, accs[a1], d, u1, w), "w on A1 padded with d")
	refuseReveal(t, cs[u2], confirm(a2, accs[a2], d, u2, w), "u2 on A2 padded")
	refuseReveal(t, cs[u3], confirm(a3, accs[a3], d, u3, w), "u3 on A3 padded")
	refuseReveal(t, cs[d], confirm(a4, accs[a4], d, u2, u3), "d on A4 padded")
}
