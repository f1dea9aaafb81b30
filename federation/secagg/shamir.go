package secagg

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Shamir secret sharing of 32-byte secrets over GF(2^8), byte by byte.
//
// The field is GF(2)[x]/(x^8+x^4+x^3+x+1) (the AES field). Member i of a
// group (0-based, in group order) holds the evaluation at x = i+1, so a
// group has at most 255 members. A secret is shared with t-1 random
// coefficients per byte; any t shares determine it and any t-1 are uniformly
// distributed whatever the secret. Arithmetic on secret values never
// branches on or indexes by them: a secret is carried as four uint64 words of
// eight field elements each and only ever multiplied by public scalars (the
// evaluation points and the Lagrange coefficients).

// gfMul multiplies two field elements in constant time.
func gfMul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= -(b & 1) & a
		b >>= 1
		a = a<<1 ^ 0x1b&-(a>>7)
	}
	return p
}

// gfInv returns a^254, the inverse of a non-zero a (and 0 for 0).
func gfInv(a byte) byte {
	p := gfMul(a, a) // a^2
	r := p
	for range 6 {
		p = gfMul(p, p) // a^4, a^8, ..., a^128
		r = gfMul(r, p)
	}
	return r
}

// xtime8 multiplies each of the eight field elements packed in v by x.
func xtime8(v uint64) uint64 {
	return (v&0x7f7f7f7f7f7f7f7f)<<1 ^ (v>>7&0x0101010101010101)*0x1b
}

// mulPub multiplies each of the eight field elements packed in v by the
// public scalar c. It branches on c only.
func mulPub(v uint64, c byte) uint64 {
	var r uint64
	for ; c != 0; c >>= 1 {
		if c&1 != 0 {
			r ^= v
		}
		v = xtime8(v)
	}
	return r
}

// words is a 32-byte value as four little-endian words of field elements.
type words [4]uint64

func toWords(s *[32]byte) words {
	return words{
		binary.LittleEndian.Uint64(s[0:]), binary.LittleEndian.Uint64(s[8:]),
		binary.LittleEndian.Uint64(s[16:]), binary.LittleEndian.Uint64(s[24:]),
	}
}

func (w words) bytes() (s [32]byte) {
	for i, v := range w {
		binary.LittleEndian.PutUint64(s[8*i:], v)
	}
	return s
}

// shamirSplit shares each secret with threshold t at each evaluation point:
// shares[k][j] is the share of secrets[j] at xs[k]. The xs must be distinct
// and non-zero; 1 <= t <= 255. Randomness (32·(t-1) bytes per secret) comes
// from rand.
func shamirSplit(secrets [][32]byte, t int, xs []byte, rand io.Reader) ([][][32]byte, error) {
	if t < 1 || t > MaxMembers {
		return nil, fmt.Errorf("secagg: shamir threshold %d out of range", t)
	}
	coef := make([]byte, 32*(t-1))
	cw := make([]words, t-1)
	shares := make([][][32]byte, len(xs))
	for k := range shares {
		shares[k] = make([][32]byte, len(secrets))
	}
	for j := range secrets {
		if _, err := io.ReadFull(rand, coef); err != nil {
			return nil, fmt.Errorf("secagg: reading randomness for shares: %w", err)
		}
		for i := range cw {
			cw[i] = toWords((*[32]byte)(coef[32*i:]))
		}
		s := toWords(&secrets[j])
		for k, x := range xs {
			// Horner: f(x) = s + c1·x + ... + c_{t-1}·x^{t-1}.
			var y words
			for i := t - 2; i >= 0; i-- {
				for l := range y {
					y[l] = mulPub(y[l], x) ^ cw[i][l]
				}
			}
			for l := range y {
				y[l] = mulPub(y[l], x) ^ s[l]
			}
			shares[k][j] = y.bytes()
		}
	}
	clear(coef)
	clear(cw)
	return shares, nil
}

// interpolator reconstructs secrets from shares held at a fixed set of
// evaluation points. It uses the first t points to interpolate and checks
// that the shares at the remaining points lie on the same polynomial.
type interpolator struct {
	t     int
	xs    []byte
	lam0  []byte   // Lagrange coefficients at 0 for xs[:t]
	check [][]byte // check[e][i]: coefficient of xs[i] when evaluating at xs[t+e]
}

// newInterpolator prepares reconstruction from shares at xs (distinct,
// non-zero, at least t of them).
func newInterpolator(xs []byte, t int) (*interpolator, error) {
	if t < 1 || len(xs) < t {
		return nil, fmt.Errorf("secagg: %d shares, need at least %d", len(xs), t)
	}
	seen := [256]bool{}
	for _, x := range xs {
		if x == 0 || seen[x] {
			return nil, fmt.Errorf("secagg: share point %d repeated or zero", x)
		}
		seen[x] = true
	}
	ip := &interpolator{t: t, xs: append([]byte(nil), xs...)}
	ip.lam0 = lagrangeAt(0, xs[:t])
	for _, x := range xs[t:] {
		ip.check = append(ip.check, lagrangeAt(x, xs[:t]))
	}
	return ip, nil
}

// lagrangeAt returns the coefficients l_i with f(at) = Σ l_i·f(xs[i]) for
// every polynomial f of degree < len(xs). Subtraction is XOR in GF(2^8).
func lagrangeAt(at byte, xs []byte) []byte {
	l := make([]byte, len(xs))
	for i, xi := range xs {
		num, den := byte(1), byte(1)
		for j, xj := range xs {
			if j != i {
				num = gfMul(num, at^xj)
				den = gfMul(den, xi^xj)
			}
		}
		l[i] = gfMul(num, gfInv(den))
	}
	return l
}

// errInconsistentShares reports shares that do not lie on one polynomial of
// degree < t.
var errInconsistentShares = fmt.Errorf("%w: shares do not lie on one polynomial of the threshold's degree", ErrCorruptShare)

// combine reconstructs the secret from shares[i] held at xs[i]. With more
// than t shares it fails with errInconsistentShares unless all of them are
// consistent.
func (ip *interpolator) combine(shares [][32]byte) ([32]byte, error) {
	if len(shares) != len(ip.xs) {
		return [32]byte{}, fmt.Errorf("secagg: %d shares for %d points", len(shares), len(ip.xs))
	}
	sw := make([]words, ip.t)
	for i := range sw {
		sw[i] = toWords(&shares[i])
	}
	eval := func(coef []byte) (y words) {
		for i, c := range coef {
			for l := range y {
				y[l] ^= mulPub(sw[i][l], c)
			}
		}
		return y
	}
	for e, coef := range ip.check {
		if eval(coef) != toWords(&shares[ip.t+e]) {
			return [32]byte{}, errInconsistentShares
		}
	}
	return eval(ip.lam0).bytes(), nil
}
