package hdf5

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// sample is a tree with every type, scalars and arrays, empty arrays and
// groups, a group of 300 members (a two-level B-tree of symbol table
// nodes) and 70 000 strings (two global heap collections).
func sample() *Group {
	rng := rand.New(rand.NewPCG(14, 1))
	root := NewGroup()
	root.Datasets["version"] = Str("1.0")
	g := root.Group("node")
	g.Datasets["type"] = Str("NIRGraph")
	w := &Dataset{Type: Float64, Shape: []int{3, 5}}
	for range 15 {
		w.Floats = append(w.Floats, rng.NormFloat64())
	}
	w.Floats[4] = math.Inf(-1)
	w.Floats[5] = math.Copysign(0, -1)
	g.Datasets["weight"] = w
	g.Datasets["f32"] = &Dataset{Type: Float32, Shape: []int{2}, Floats: []float64{0.5, float64(float32(0.1))}}
	g.Datasets["shape"] = &Dataset{Type: Int64, Shape: []int{1}, Ints: []int64{-1 << 62}}
	g.Datasets["empty"] = &Dataset{Type: Float64, Shape: []int{0}}
	g.Datasets["edges"] = &Dataset{Type: String, Shape: []int{2, 2}, Strings: []string{"a", "b", "b", "ü ∞"}}
	md := g.Group("nodes").Group("a").Group("metadata")
	md.Datasets["flag"] = B(true)
	md.Datasets["flags"] = &Dataset{Type: Bool, Shape: []int{3}, Bools: []bool{false, true, false}}
	md.Datasets["x"] = F64(1.5)
	md.Datasets["i"] = I64(-7)
	md.Datasets["s"] = Str("")
	g.Group("nodes").Group("empty")
	big := root.Group("big")
	for i := range 300 {
		big.Datasets[fmt.Sprintf("n%03d", i)] = F64(float64(i))
	}
	many := &Dataset{Type: String, Shape: []int{70000}}
	for i := range 70000 {
		many.Strings = append(many.Strings, fmt.Sprint(i))
	}
	root.Datasets["many"] = many
	return root
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	b, err := Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !equalTrees(t, got, want, "") {
		t.Fatal("round trip changed the tree")
	}
	b2, err := Encode(got)
	if err != nil || !bytes.Equal(b, b2) {
		t.Errorf("re-encoding the decoded tree gives other bytes (err %v)", err)
	}
}

// equalTrees compares two trees exactly (floats bit for bit), reporting
// the first difference.
func equalTrees(t *testing.T, a, b *Group, path string) bool {
	t.Helper()
	if !reflect.DeepEqual(a.names(), b.names()) {
		t.Errorf("%s/: members %v, want %v", path, a.names(), b.names())
		return false
	}
	for _, n := range a.names() {
		p := path + "/" + n
		if sa, ok := a.Groups[n]; ok {
			sb, ok := b.Groups[n]
			if !ok || !equalTrees(t, sa, sb, p) {
				if !ok {
					t.Errorf("%s: a group, want a dataset", p)
				}
				return false
			}
			continue
		}
		da, db := a.Datasets[n], b.Datasets[n]
		if db == nil {
			t.Errorf("%s: a dataset, want a group", p)
			return false
		}
		same := da.Type == db.Type && reflect.DeepEqual(da.Shape, db.Shape) && len(da.Floats) == len(db.Floats) &&
			reflect.DeepEqual(da.Ints, db.Ints) && reflect.DeepEqual(da.Bools, db.Bools) && reflect.DeepEqual(da.Strings, db.Strings)
		for i := range da.Floats {
			same = same && math.Float64bits(da.Floats[i]) == math.Float64bits(db.Floats[i])
		}
		if !same {
			t.Errorf("%s: %v %v, want %v %v", p, da.Type, da.Shape, db.Type, db.Shape)
			return false
		}
	}
	return true
}

// entry is one path of testdata/h5tree.py's JSON.
type entry struct {
	Kind   string `json:"kind"`
	Dtype  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Values []any  `json:"values"`
}

// flatten turns a tree into h5tree.py's JSON form (through encoding/json,
// so that numbers compare as h5tree.py's do).
func flatten(t *testing.T, g *Group) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	var walk func(g *Group, path string)
	walk = func(g *Group, path string) {
		for _, n := range g.names() {
			p := path + "/" + n
			if s, ok := g.Groups[n]; ok {
				out[p] = entry{Kind: "group"}
				walk(s, p)
				continue
			}
			d := g.Datasets[n]
			e := entry{Kind: "dataset", Dtype: d.Type.String(), Shape: append([]int{}, d.Shape...), Values: []any{}}
			if d.Type == String {
				e.Dtype = "vlen-string"
			}
			for _, x := range d.Floats {
				e.Values = append(e.Values, x)
			}
			for _, x := range d.Ints {
				e.Values = append(e.Values, x)
			}
			for _, x := range d.Bools {
				e.Values = append(e.Values, x)
			}
			for _, x := range d.Strings {
				e.Values = append(e.Values, x)
			}
			out[p] = e
		}
	}
	walk(g, "")
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]entry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// h5tree runs testdata/h5tree.py with args and decodes its JSON.
func h5tree(t *testing.T, args ...string) map[string]entry {
	t.Helper()
	py, err := peers.PythonModule("h5py")
	peertest.Require(t, err)
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "h5tree.py")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("h5tree.py %v: %v: %s", args, err, stderr.String())
	}
	var m map[string]entry
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("h5tree.py output: %v", err)
	}
	return m
}

func compare(t *testing.T, got, want map[string]entry, dtypes bool) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: missing", p)
		case g.Kind != w.Kind || !reflect.DeepEqual(g.Shape, w.Shape) || !reflect.DeepEqual(g.Values, w.Values):
			t.Errorf("%s: %s %v %.80v, want %s %v %.80v", p, g.Kind, g.Shape, g.Values, w.Kind, w.Shape, w.Values)
		case dtypes && g.Dtype != w.Dtype:
			t.Errorf("%s: dtype %s, want %s", p, g.Dtype, w.Dtype)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: not expected", p)
		}
	}
}

// TestH5pyReadsEncode: h5py reads every group, dtype, shape and value
// Encode writes.
func TestH5pyReadsEncode(t *testing.T) {
	tree := sample()
	// JSON has no -Inf (h5tree.py would print -Infinity, which Go does
	// not parse); the round trip test covers it.
	tree.Group("node").Datasets["weight"].Floats[4] = -1e300
	b, err := Encode(tree)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "s.h5")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	compare(t, h5tree(t, "dump", f), flatten(t, tree), true)
}

// TestDecodeH5py: Decode reads what h5py writes, with its default format
// (gzip and shuffle chunked datasets, fixed-length strings, int32, uint8)
// and with libver="latest" (version 2 object headers, compact links).
func TestDecodeH5py(t *testing.T) {
	for _, v := range []string{"default", "latest"} {
		t.Run(v, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), v+".h5")
			want := h5tree(t, "write", f, v)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, flatten(t, g), want, false)
		})
	}
}

// TestDecodeCommitted reads two small files h5py wrote (kept in testdata,
// so that this runs without h5py): a gzip- and shuffle-filtered chunked
// array with edge chunks, and libver="latest" (superblock 3, version 2
// object headers, link messages).
func TestDecodeCommitted(t *testing.T) {
	for _, c := range []struct {
		file string
		want map[string]entry
	}{
		{"h5py-gzip-shuffle.h5", map[string]entry{
			"/w": {Kind: "dataset", Dtype: "float64", Shape: []int{2, 3}, Values: []any{0.0, 1.0, 2.0, 3.0, 4.0, 5.0}},
			"/s": {Kind: "dataset", Dtype: "vlen-string", Shape: []int{}, Values: []any{"x"}},
		}},
		{"h5py-latest.h5", map[string]entry{
			"/g":   {Kind: "group"},
			"/g/i": {Kind: "dataset", Dtype: "int64", Shape: []int{2}, Values: []any{1.0, 2.0}},
		}},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		g, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		got := flatten(t, g)
		for p, e := range got {
			if e.Kind == "group" {
				e.Shape, e.Values = nil, nil
				got[p] = e
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.file, got, c.want)
		}
	}
}

// TestDecodeBad: every truncation and many corruptions of a valid file
// are errors (wrapping ErrFormat), never panics.
func TestDecodeBad(t *testing.T) {
	small := NewGroup()
	small.Datasets["w"] = &Dataset{Type: Float64, Shape: []int{2, 2}, Floats: []float64{1, 2, 3, 4}}
	small.Group("g").Datasets["s"] = Str("x")
	b, err := Encode(small)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		if _, err := Decode(b[:n]); err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(b), err)
		}
	}
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{nil, "truncated"},
		{[]byte("\x89HD"), "truncated"},
		{[]byte("PK\x03\x04 not hdf5 at all"), "no HDF5 signature"},
		{append(append([]byte{}, Signature...), 9), "superblock version 9"},
	} {
		if _, err := Decode(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%q): %v, want %q", c.in, err, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		c := append([]byte{}, b...)
		for range 1 + rng.IntN(4) {
			c[rng.IntN(len(c))] = byte(rng.IntN(256))
		}
		_, _ = Decode(c) // must not panic
	}
}

func TestEncodeBad(t *testing.T) {
	for _, c := range []struct {
		name string
		g    func() *Group
		want string
	}{
		{"short", func() *Group {
			g := NewGroup()
			g.Datasets["w"] = &Dataset{Type: Float64, Shape: []int{2, 2}, Floats: []float64{1}}
			return g
		}, `/w: 1 float64 values for shape [2 2]`},
		{"slash", func() *Group { g := NewGroup(); g.Datasets["a/b"] = F64(1); return g }, `"/a/b": invalid member name`},
		{"both", func() *Group { g := NewGroup(); g.Datasets["a"] = F64(1); g.Group("a"); return g }, `/a: both a group and a dataset`},
		{"utf8", func() *Group { g := NewGroup(); g.Datasets["s"] = Str("\xff"); return g }, `/s: a string that is not UTF-8`},
		{"type", func() *Group { g := NewGroup(); g.Datasets["s"] = &Dataset{}; return g }, `/s: unknown type`},
	} {
		if _, err := Encode(c.g()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzDecode: Decode never panics and, when it succeeds, Encode writes
// the tree back and Decode reads it unchanged.
func FuzzDecode(f *testing.F) {
	small := NewGroup()
	small.Datasets["w"] = &Dataset{Type: Float32, Shape: []int{2}, Floats: []float64{1, 2}}
	small.Group("g").Datasets["s"] = &Dataset{Type: String, Shape: []int{2}, Strings: []string{"a", "bc"}}
	small.Group("g").Datasets["b"] = B(true)
	small.Group("e")
	b, err := Encode(small)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(Signature)
	for _, name := range []string{"h5py-gzip-shuffle.h5", "h5py-latest.h5", "h5py-fletcher32.h5"} {
		h, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		g, err := Decode(in)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		out, err := Encode(g)
		if err != nil {
			return // e.g. a name Encode refuses
		}
		back, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !equalTrees(t, back, g, "") {
			t.Fatal("re-encoded tree differs")
		}
	})
}
