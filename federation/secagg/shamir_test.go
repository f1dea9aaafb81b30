package secagg

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// refTables builds log/exp tables of GF(2^8) with generator 3 by repeated
// multiplication in the plain polynomial representation (an independent
// reference for gfMul).
func refTables() (exp [512]byte, log [256]int) {
	x := 1
	for i := range 255 {
		exp[i] = byte(x)
		log[x] = i
		// x *= 3, i.e. x ^ (x << 1) reduced by 0x11b
		x ^= x << 1
		if x&0x100 != 0 {
			x ^= 0x11b
		}
	}
	for i := 255; i < 512; i++ {
		exp[i] = exp[i-255]
	}
	return exp, log
}

func TestGF256(t *testing.T) {
	exp, log := refTables()
	for a := range 256 {
		for b := range 256 {
			want := byte(0)
			if a != 0 && b != 0 {
				want = exp[log[a]+log[b]]
			}
			if got := gfMul(byte(a), byte(b)); got != want {
				t.Fatalf("gfMul(%#x, %#x) = %#x, want %#x", a, b, got, want)
			}
		}
	}
	if gfInv(0) != 0 {
		t.Fatal("gfInv(0)")
	}
	for a := 1; a < 256; a++ {
		if gfMul(byte(a), gfInv(byte(a))) != 1 {
			t.Fatalf("gfInv(%#x)", a)
		}
	}
	// mulPub on packed words agrees with gfMul lane by lane.
	r := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		v, c := r.Uint64(), byte(r.Uint32())
		got := mulPub(v, c)
		for l := range 8 {
			if byte(got>>(8*l)) != gfMul(byte(v>>(8*l)), c) {
				t.Fatalf("mulPub(%#x, %#x) lane %d", v, c, l)
			}
		}
	}
}

func randomSecret(r *rand.Rand) (s [32]byte) {
	for i := range s {
		s[i] = byte(r.Uint32())
	}
	return s
}

// TestShamirAnyT: every t-subset of n shares (and every larger subset)
// reconstructs the secret.
func TestShamirAnyT(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, c := range []struct{ n, t int }{{2, 2}, {3, 2}, {5, 3}, {7, 4}, {8, 8}, {9, 5}} {
		secrets := [][32]byte{randomSecret(r), randomSecret(r)}
		xs := make([]byte, c.n)
		for i := range xs {
			xs[i] = byte(i + 1)
		}
		shares, err := shamirSplit(secrets, c.t, xs, rng(uint64(c.n)))
		if err != nil {
			t.Fatal(err)
		}
		subsets := 0
		for mask := 1; mask < 1<<c.n; mask++ {
			var sx []byte
			var sh [][]([32]byte)
			for i := range c.n {
				if mask&(1<<i) != 0 {
					sx = append(sx, xs[i])
					sh = append(sh, shares[i])
				}
			}
			if len(sx) < c.t {
				continue
			}
			subsets++
			ip, err := newInterpolator(sx, c.t)
			if err != nil {
				t.Fatal(err)
			}
			for j := range secrets {
				col := make([][32]byte, len(sh))
				for k := range sh {
					col[k] = sh[k][j]
				}
				got, err := ip.combine(col)
				if err != nil || got != secrets[j] {
					t.Fatalf("n=%d t=%d subset %b secret %d: %x, %v", c.n, c.t, mask, j, got, err)
				}
			}
		}
		t.Logf("n=%d t=%d: %d subsets of size >= t reconstruct", c.n, c.t, subsets)
	}
	// The largest group: 255 points, threshold 128, random subsets.
	xs := make([]byte, 255)
	for i := range xs {
		xs[i] = byte(i + 1)
	}
	sec := randomSecret(r)
	shares, err := shamirSplit([][32]byte{sec}, 128, xs, rng(9))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		perm := r.Perm(255)[:128+r.IntN(20)]
		var sx []byte
		var col [][32]byte
		for _, i := range perm {
			sx = append(sx, xs[i])
			col = append(col, shares[i][0])
		}
		ip, err := newInterpolator(sx, 128)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ip.combine(col); err != nil || got != sec {
			t.Fatalf("255 points: %v", err)
		}
	}
	if _, err := newInterpolator([]byte{1, 2}, 3); err == nil {
		t.Fatal("2 points for t=3 accepted")
	}
	if _, err := newInterpolator([]byte{1, 1, 2}, 2); err == nil {
		t.Fatal("repeated point accepted")
	}
}

// TestShamirHides: fewer than t shares say nothing about a byte of the
// secret. For each byte position checked, given the t−1 shares a real split
// produced, every one of the 256 candidate secret bytes is consistent with
// exactly the same number of polynomials (exactly one), so the shares are
// equally likely under every secret. Exhaustive for t=2 (one share, all 256
// linear coefficients) and t=3 (two shares, all 65536 coefficient pairs).
func TestShamirHides(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	sec := randomSecret(r)
	for _, c := range []struct {
		t  int
		xs []byte
	}{{2, []byte{5}}, {3, []byte{3, 200}}} {
		shares, err := shamirSplit([][32]byte{sec}, c.t, c.xs, rng(4))
		if err != nil {
			t.Fatal(err)
		}
		// mul[k][p][c] = c·x_k^(p+1), so the brute force below is lookups.
		mul := make([][2][256]byte, len(c.xs))
		for k, x := range c.xs {
			for v := range 256 {
				mul[k][0][v] = gfMul(byte(v), x)
				mul[k][1][v] = gfMul(byte(v), gfMul(x, x))
			}
		}
		for _, pos := range []int{0, 17} {
			var counts [256]int
			for s := range 256 {
				for coef := range 1 << (8 * (c.t - 1)) {
					ok := true
					for k := range c.xs {
						// f(x) = s + c1·x (+ c2·x²)
						y := byte(s) ^ mul[k][0][byte(coef)]
						if c.t == 3 {
							y ^= mul[k][1][byte(coef>>8)]
						}
						ok = ok && y == shares[k][0][pos]
					}
					if ok {
						counts[s]++
					}
				}
			}
			for s, n := range counts {
				if n != 1 {
					t.Fatalf("t=%d byte %d: candidate secret %#x consistent with %d polynomials, want 1 for every candidate", c.t, pos, s, n)
				}
			}
		}
	}
}

// TestShamirCorruptDetected: with more than t shares, a modified share makes
// combine fail; with exactly t it cannot be seen at this layer (the
// Aggregator's commitments catch it: TestCorruptReveal).
func TestShamirCorruptDetected(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	sec := randomSecret(r)
	xs := []byte{1, 2, 3, 4, 5, 6}
	shares, _ := shamirSplit([][32]byte{sec}, 3, xs, rng(5))
	for bad := range xs {
		for _, n := range []int{4, 5, 6} {
			if bad >= n {
				continue
			}
			col := make([][32]byte, n)
			for i := range col {
				col[i] = shares[i][0]
			}
			col[bad][r.IntN(32)] ^= byte(1 + r.IntN(255))
			ip, _ := newInterpolator(xs[:n], 3)
			if _, err := ip.combine(col); !errors.Is(err, ErrCorruptShare) {
				t.Fatalf("share %d of %d corrupted: %v", bad, n, err)
			}
		}
	}
}
