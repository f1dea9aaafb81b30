package secagg

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
)

// The PRG expanding a 32-byte seed to a mask vector is the AES-256-CTR
// keystream with the seed as key and a zero initial counter block (the
// 16-byte block is a big-endian 128-bit counter): element i of the mask is
// keystream bytes 8i..8i+7 read as a little-endian uint64. Every seed keys
// exactly one stream (self-mask seeds are fresh per round, pair seeds are
// derived per round and pair). CTR can start anywhere, so long vectors are
// masked in parallel segments.

// maskTerm is one PRG stream to add (or subtract) into a vector.
type maskTerm struct {
	seed [32]byte
	neg  bool
}

const (
	chunkElems = 1024    // elements per keystream step (8 KiB: chunk and keystream stay in L1)
	minSegment = 1 << 16 // fewest elements worth a goroutine
)

// applyMasks adds ±PRG(seed) of every term into dst. If x is non-nil (same
// length as dst) dst is first overwritten with the quantized x.
func applyMasks(dst []uint64, x []float64, scale float64, terms []maskTerm) error {
	blocks := make([]cipher.Block, len(terms))
	for i := range terms {
		b, err := aes.NewCipher(terms[i].seed[:])
		if err != nil {
			return fmt.Errorf("secagg: prg key: %w", err)
		}
		blocks[i] = b
	}
	n := len(dst)
	workers := min(runtime.GOMAXPROCS(0), (n+minSegment-1)/minSegment)
	if workers <= 1 {
		maskSegment(dst, x, scale, terms, blocks, 0, n)
		return nil
	}
	seg := (n + workers - 1) / workers
	seg = (seg + chunkElems - 1) / chunkElems * chunkElems // even, so segments start on a block
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += seg {
		hi := min(lo+seg, n)
		wg.Go(func() { maskSegment(dst, x, scale, terms, blocks, lo, hi) })
	}
	wg.Wait()
	return nil
}

// maskSegment does applyMasks for elements lo..hi-1; lo must be even.
func maskSegment(dst []uint64, x []float64, scale float64, terms []maskTerm, blocks []cipher.Block, lo, hi int) {
	var iv [aes.BlockSize]byte
	binary.BigEndian.PutUint64(iv[8:], uint64(lo/2))
	streams := make([]cipher.Stream, len(blocks))
	for i, b := range blocks {
		streams[i] = cipher.NewCTR(b, iv[:])
	}
	zero := make([]byte, 8*chunkElems)
	buf := make([]byte, 8*chunkElems)
	for c := lo; c < hi; c += chunkElems {
		d := dst[c:min(c+chunkElems, hi)]
		if x != nil {
			xs := x[c : c+len(d)]
			for i := range d {
				d[i] = quantize(xs[i], scale)
			}
		}
		ks := buf[:8*len(d)]
		for t, s := range streams {
			s.XORKeyStream(ks, zero[:len(ks)])
			if terms[t].neg {
				for i := range d {
					d[i] -= binary.LittleEndian.Uint64(ks[8*i : 8*i+8])
				}
			} else {
				for i := range d {
					d[i] += binary.LittleEndian.Uint64(ks[8*i : 8*i+8])
				}
			}
		}
	}
	clear(buf)
}
