package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunFederation runs `mec run --federation 3` as a user would: the
// built binary starts three `mec node` processes (cores clustered through
// their embedded NATS servers) and prints the §19 table with the drift
// measured across them. Checked: every node ran and learned, every link
// negotiated X25519MLKEM768, the federated drift is measured (> 0: three
// real nodes never agree exactly) and below the spec's 0.05, and the
// run's temporary folder (data, keys, logs) is gone once it passed.
func TestRunFederation(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds mec and starts three nodes")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build mec")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mec")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--federation", "3", "--ticks", "60", "--json")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.WaitDelay = 10 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mec run --federation 3: %v\n%s\n%s", err, out, stderr.String())
	}
	var got struct {
		Dir   string `json:"dir"`
		Nodes []struct {
			Node  string `json:"node"`
			Ticks uint64 `json:"ticks"`
			Stats struct {
				Rounds uint64 `json:"rounds"`
			} `json:"stats"`
			Links []struct {
				Group string `json:"group"`
			} `json:"links"`
		} `json:"nodes"`
		Checks []struct {
			Name  string  `json:"name"`
			Value float64 `json:"value"`
			Pass  bool    `json:"pass"`
		} `json:"verification"`
		Pass bool `json:"pass"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !got.Pass || len(got.Nodes) != 3 {
		t.Fatalf("pass %v, %d nodes:\n%s", got.Pass, len(got.Nodes), out)
	}
	for _, n := range got.Nodes {
		if n.Ticks != 60 || n.Stats.Rounds == 0 || len(n.Links) == 0 {
			t.Errorf("node %s: %d ticks, %d rounds, %d links", n.Node, n.Ticks, n.Stats.Rounds, len(n.Links))
		}
		for _, l := range n.Links {
			if l.Group != "X25519MLKEM768" {
				t.Errorf("node %s: a link negotiated %q", n.Node, l.Group)
			}
		}
	}
	drift := false
	for _, c := range got.Checks {
		if c.Name == "federated drift" {
			drift = true
			if !c.Pass || !(c.Value > 0 && c.Value < 0.05) {
				t.Errorf("federated drift %g (pass %v), want measured in (0, 0.05)", c.Value, c.Pass)
			}
		}
	}
	if !drift {
		t.Errorf("no federated drift row:\n%s", out)
	}
	// The temporary folder (the nodes' data, keys and logs) is removed
	// when the run passes: nothing is left under TMPDIR.
	if !strings.HasPrefix(got.Dir, tmp) {
		t.Fatalf("the run's folder %q is not under TMPDIR %q", got.Dir, tmp)
	}
	if _, err := os.Stat(got.Dir); !os.IsNotExist(err) {
		t.Errorf("the run's folder %s is still there (or unreadable): %v", got.Dir, err)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("the run left %s behind in the temporary folder", e.Name())
	}
}
