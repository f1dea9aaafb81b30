package ledger

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// flipFiles are the files of a ledger directory, in FuzzFlip's order.
var flipFiles = []string{LogFile, HistoryFile, CheckpointFile, PublicKeyFile, PrivateKeyFile}

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
	fuzzDirs     []string // scratch directories of FuzzFlip, removed by TestMain
)

// flipTemplate builds (once) a small closed ledger with 13 records and
// checkpoints at 5, 10 and 13.
func flipTemplate(t testing.TB) string {
	templateOnce.Do(func() {
		templateDir, templateErr = os.MkdirTemp("", "ledger-flip-")
		if templateErr != nil {
			return
		}
		var l *Ledger
		l, templateErr = Open(templateDir, Options{CheckpointEvery: 5, CheckpointInterval: time.Hour})
		if templateErr != nil {
			return
		}
		fill(t, l, 13)
		templateErr = l.Close()
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	return templateDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range append(fuzzDirs, templateDir) {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// copyLedger copies the template into a fresh directory and returns the
// directory and the files' contents.
func copyLedger(t testing.TB, src string) (string, map[string][]byte) {
	dst := t.TempDir()
	files := map[string][]byte{}
	for _, name := range flipFiles {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst, files
}

// checkFlip flips one byte of one file and asserts that Verify fails with
// a *CorruptError naming that file and, in events.log, the record holding
// the byte.
func checkFlip(t testing.TB, dir string, files map[string][]byte, recStarts []int64, name string, pos int, xor byte) {
	orig := files[name]
	b := bytes.Clone(orig)
	b[pos] ^= xor
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.WriteFile(path, orig, 0o600)
	_, err := Verify(dir, VerifyOptions{})
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("%s byte %d ^ %#02x: verify: %v (want *CorruptError)", name, pos, xor, err)
	}
	if ce.File != name {
		t.Fatalf("%s byte %d ^ %#02x: error names %s: %v", name, pos, xor, ce.File, err)
	}
	if name == LogFile && pos >= headerSize {
		want := int64(-1)
		for i, s := range recStarts {
			if int64(pos) >= s {
				want = int64(i)
			}
		}
		if ce.Index != want {
			t.Fatalf("%s byte %d ^ %#02x: error names record %d, want %d: %v", name, pos, xor, ce.Index, want, err)
		}
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
		t.Fatalf("verify modified %s", name)
	}
}

func recordStarts(t testing.TB, dir string) []int64 {
	var starts []int64
	if err := Scan(dir, func(r Record) error { starts = append(starts, r.Offset); return nil }); err != nil {
		t.Fatal(err)
	}
	return starts
}

// TestByteFlip flips every byte of events.log and ledger.key and a random
// sample of bytes of the other files (all files exhaustively would take
// minutes: each Verify checks four ML-DSA signatures).
func TestByteFlip(t *testing.T) {
	dir, files := copyLedger(t, flipTemplate(t))
	if _, err := Verify(dir, VerifyOptions{}); err != nil {
		t.Fatalf("pristine copy does not verify: %v", err)
	}
	starts := recordStarts(t, dir)
	r := rand.New(rand.NewPCG(42, 1))
	xor := func() byte { return byte(1 + r.IntN(255)) }
	step := 1
	sample := 150
	if testing.Short() {
		step, sample = 3, 40
	}
	checked := 0
	for _, name := range []string{LogFile, PrivateKeyFile} {
		for pos := 0; pos < len(files[name]); pos += step {
			checkFlip(t, dir, files, starts, name, pos, xor())
			checked++
		}
	}
	for _, name := range []string{HistoryFile, CheckpointFile, PublicKeyFile} {
		n := len(files[name])
		// Always include the first and last bytes.
		checkFlip(t, dir, files, starts, name, 0, xor())
		checkFlip(t, dir, files, starts, name, n-1, xor())
		for i := 0; i < sample; i++ {
			checkFlip(t, dir, files, starts, name, r.IntN(n), xor())
		}
		checked += sample + 2
	}
	t.Logf("%d single-byte flips, all detected", checked)
	if _, err := Verify(dir, VerifyOptions{}); err != nil {
		t.Fatalf("restored copy does not verify: %v", err)
	}
}

// FuzzFlip flips one byte (file, position, xor mask chosen by the fuzzer)
// and asserts that Verify fails naming the file and record.
func FuzzFlip(f *testing.F) {
	f.Add(uint8(0), uint32(40), uint8(1))
	f.Add(uint8(1), uint32(100), uint8(0x80))
	f.Add(uint8(2), uint32(5), uint8(0xff))
	f.Add(uint8(3), uint32(2000), uint8(2))
	f.Add(uint8(4), uint32(50), uint8(4))
	var once sync.Once
	var dir string
	var files map[string][]byte
	var starts []int64
	f.Fuzz(func(t *testing.T, file uint8, pos uint32, xor uint8) {
		once.Do(func() {
			d, err := os.MkdirTemp("", "ledger-fuzzflip-")
			if err != nil {
				t.Fatal(err)
			}
			fuzzDirs = append(fuzzDirs, d)
			src := flipTemplate(t)
			for _, name := range flipFiles {
				b, _ := os.ReadFile(filepath.Join(src, name))
				os.WriteFile(filepath.Join(d, name), b, 0o600)
			}
			dir = d
			_, files = copyLedger(t, src)
			starts = recordStarts(t, d)
		})
		if xor == 0 {
			return
		}
		name := flipFiles[int(file)%len(flipFiles)]
		checkFlip(t, dir, files, starts, name, int(pos%uint32(len(files[name]))), xor)
	})
}

// FuzzScanLog feeds arbitrary bytes to the record decoder (frame scanner,
// event decoder and chain check): it must never panic, and whatever it
// accepts must re-encode to the same frames.
func FuzzScanLog(f *testing.F) {
	src := flipTemplate(f)
	good, err := os.ReadFile(filepath.Join(src, LogFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(good[:headerSize])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out []byte
		_, err := scanLogFile(bytes.NewReader(b), int64(len(b)), func(r *record) error {
			out = appendFrame(out, r.payload)
			return nil
		})
		if err == nil && !bytes.Equal(append(bytes.Clone(b[:headerSize]), out...), b) {
			t.Fatalf("accepted log does not re-encode to itself")
		}
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *CorruptError: %v", err)
			}
		}
	})
}
