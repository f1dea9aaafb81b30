package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/federation/consensus"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/orchestrator"
)

// FederatedRun is the result of `mec run --federation N`.
type FederatedRun struct {
	// Dir holds the nodes' data directories, the roster and their logs.
	Dir string `json:"dir"`
	// Nodes are the nodes' reports.
	Nodes []*NodeReport `json:"nodes"`
	// FinalDrift is max_j ‖W_j − W̄‖_F over the learners' final W.
	FinalDrift float64 `json:"final_drift"`
	// Checks is the verification table across the nodes.
	Checks []orchestrator.Check `json:"verification"`
	// Pass is set when every check passed and every node stopped cleanly.
	Pass bool `json:"pass"`
}

// runFederation starts n `mec node` processes on this machine (the
// first min(n, 3) cores, clustered through their embedded NATS servers,
// the others edges joining as leaf nodes), runs them for the scenario's
// ticks, and aggregates their reports into the verification table.
func runFederation(cmd *cobra.Command, cfg orchestrator.Config, n int, scenario, dir string, asJSON bool) (runErr error) {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("run: finding this program to start the nodes: %w", err)
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "mec-federation-"); err != nil {
			return fmt.Errorf("run: %w", err)
		}
		// The temporary folder (data, roster, logs, ledgers) is removed
		// when the run ends; a failed run keeps it for its logs, without
		// the nodes' private keys. Every return below comes after every
		// node has exited.
		defer func() { cleanTemporary(cmd, dir, runErr != nil) }()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "mec run: %d nodes in %s (logs: */node.log)\n", n, dir)
	cores := min(n, 3)
	var names, datas []string
	ctx := cmd.Context()
	var members []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("c%d", i+1)
		args := []string{"node", "init", "--role", "core"}
		if i >= cores {
			name = fmt.Sprintf("e%d", i-cores+1)
			args = []string{"node", "init", "--role", "edge"}
		} else {
			ports, err := freePorts(3)
			if err != nil {
				return fmt.Errorf("run: %w", err)
			}
			args = append(args, "--client", fmt.Sprintf("tls://127.0.0.1:%d", ports[0]), "--route", fmt.Sprintf("tls://127.0.0.1:%d", ports[1]),
				"--leaf", fmt.Sprintf("tls://127.0.0.1:%d", ports[2]))
		}
		data := filepath.Join(dir, name)
		args = append(args, "--name", name, "--data", data)
		// Each node makes its own keys, in its own process.
		if out, err := exec.CommandContext(ctx, self, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("run: node init %s: %v: %s", name, err, out)
		}
		names, datas = append(names, name), append(datas, data)
		members = append(members, filepath.Join(data, federation.MemberFile))
	}
	rosterPath := filepath.Join(dir, "roster.yaml")
	rargs := append([]string{"node", "roster", "--federation", "local", "--out", rosterPath}, members...)
	if out, err := exec.CommandContext(ctx, self, rargs...).CombinedOutput(); err != nil {
		return fmt.Errorf("run: node roster: %v: %s", err, out)
	}
	procs := make([]*exec.Cmd, n)
	logs := make([]*os.File, n)
	for i := range names {
		hp, err := freePorts(1)
		if err != nil {
			stopNodes(procs[:i])
			return fmt.Errorf("run: %w", err)
		}
		args := []string{"node", "--data", datas[i], "--roster", rosterPath, "--ticks", strconv.Itoa(cfg.Ticks),
			"--http", fmt.Sprintf("127.0.0.1:%d", hp[0]),
			"--report", filepath.Join(datas[i], "report.json"), "--status", filepath.Join(datas[i], "status.json"), "--log-format", "json"}
		if scenario != "" {
			args = append(args, "--scenario", scenario)
		}
		if b := backendFlag(cmd); b != "" {
			args = append(args, "--backend", b)
		}
		if logs[i], err = os.Create(filepath.Join(datas[i], "node.log")); err != nil {
			stopNodes(procs[:i])
			return fmt.Errorf("run: %w", err)
		}
		defer logs[i].Close()
		c := exec.Command(self, args...)
		c.Stdout, c.Stderr = logs[i], logs[i]
		if err := c.Start(); err != nil {
			stopNodes(procs[:i])
			return fmt.Errorf("run: starting node %s: %w", names[i], err)
		}
		procs[i] = c
	}
	// Progress: the nodes' status files; Ctrl-C stops every node cleanly.
	done := make(chan error, n)
	for i, c := range procs {
		go func() {
			err := c.Wait()
			if err != nil {
				err = fmt.Errorf("node %s: %w (see %s)", names[i], err, logs[i].Name())
			}
			done <- err
		}()
	}
	var bar *progressbar.ProgressBar
	if f := terminal(stderr); f != nil && !asJSON {
		bar = progressbar.NewOptions(n*cfg.Ticks, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("meta-epochs (all nodes)"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	var errs []error
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	signalled := false
	for left := n; left > 0; {
		select {
		case err := <-done:
			left--
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			if !signalled {
				signalled = true
				for _, c := range procs {
					_ = c.Process.Signal(os.Interrupt)
				}
			}
		case <-tick.C:
			if bar != nil {
				total := 0
				for _, d := range datas {
					var st struct{ Ticks int }
					if b, err := os.ReadFile(filepath.Join(d, "status.json")); err == nil && json.Unmarshal(b, &st) == nil {
						total += st.Ticks
					}
				}
				_ = bar.Set(total)
			}
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	res := &FederatedRun{Dir: dir}
	for i, d := range datas {
		b, err := os.ReadFile(filepath.Join(d, "report.json"))
		if err != nil {
			errs = append(errs, fmt.Errorf("node %s left no report: %w", names[i], err))
			continue
		}
		var rep NodeReport
		if err := json.Unmarshal(b, &rep); err != nil {
			errs = append(errs, fmt.Errorf("node %s: report: %w", names[i], err))
			continue
		}
		res.Nodes = append(res.Nodes, &rep)
	}
	res.summarise()
	if asJSON {
		if err := writeJSON(cmd.OutOrStdout(), res); err != nil {
			return err
		}
	} else {
		res.print(cmd.OutOrStdout())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if !res.Pass {
		return errors.New("run: verification failed")
	}
	return nil
}

// stopNodes stops nodes already started when a later one cannot be: an
// interrupt (a clean stop: the ledger flushed and signed), then, after
// 15 s, a kill; it returns once every one has exited.
func stopNodes(procs []*exec.Cmd) {
	for _, c := range procs {
		_ = c.Process.Signal(os.Interrupt)
	}
	for _, c := range procs {
		t := time.AfterFunc(15*time.Second, func() { _ = c.Process.Kill() })
		_ = c.Wait()
		t.Stop()
	}
}

// cleanTemporary ends a temporary run's folder: removed, or, when the run
// failed (keep), left for inspection without its private keys. Errors are
// reported on stderr: the run's own result stands.
func cleanTemporary(cmd *cobra.Command, dir string, keep bool) {
	var err error
	if keep {
		err = removePrivateKeys(dir)
	} else if err = os.RemoveAll(dir); err != nil {
		err = fmt.Errorf("removing the temporary run folder: %w", err)
	}
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "mec run: %v\n", err)
	}
}

// removePrivateKeys removes every private key (a node's signing, key
// exchange and TLS keys, a ledger's signing key) under the folder of a
// temporary run, `mec run` alone or with --federation.
func removePrivateKeys(dir string) error {
	secret := map[string]bool{federation.SigningKeyFile: true, federation.KEMKeyFile: true, federation.TLSKeyFile: true, ledger.PrivateKeyFile: true}
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.Type().IsRegular() && secret[d.Name()] {
			if err := os.Remove(path); err != nil {
				errs = append(errs, err)
			}
		}
		return nil
	})
	if err := errors.Join(append(errs, err)...); err != nil {
		return fmt.Errorf("removing the temporary run's private keys: %w", err)
	}
	return nil
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// summarise builds the verification table across the nodes: the worst
// node of each row, and the federated drift measured across the nodes
// (every round's, and the final parameters').
func (f *FederatedRun) summarise() {
	var finals [][]float64
	hmax, comp, lat, loop, lag, roundDrift := math.Inf(-1), math.Inf(1), 0.0, 0.0, 0.0, 0.0
	ok := true
	learners := 0
	for _, r := range f.Nodes {
		if r.Error != "" {
			ok = false
		}
		if r.Summary == nil {
			continue
		}
		learners++
		if len(r.Theta) > 0 {
			finals = append(finals, r.Theta)
		}
		roundDrift = math.Max(roundDrift, r.MaxDrift)
		for _, c := range r.Summary.Checks {
			switch c.Name {
			case "coherence entropy":
				hmax = math.Max(hmax, c.Value)
			case "constitutional compliance":
				comp = math.Min(comp, c.Value)
			case "reflexive latency":
				lat = math.Max(lat, c.Value)
			case "reflexive loop latency":
				loop = math.Max(loop, c.Value)
			case "ledger commit lag":
				lag = math.Max(lag, c.Value)
			}
		}
	}
	if len(finals) > 1 {
		if d, err := consensus.Drift(finals); err == nil {
			f.FinalDrift = d
		}
	}
	drift := math.Max(roundDrift, f.FinalDrift)
	if learners == 0 {
		hmax, comp, lat, loop, lag, drift = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	f.Checks = []orchestrator.Check{
		{Name: "coherence entropy", Value: hmax, Target: "< 0.2", Pass: hmax < 0.2, Measured: fmt.Sprintf("max H_coh over the committed ticks of %d nodes", learners)},
		{Name: "constitutional compliance", Value: comp, Target: "> 0.99", Pass: comp > 0.99, Measured: "lowest node's satisfied / evaluated rules"},
		{Name: "federated drift", Value: drift, Target: "< 0.05", Pass: drift < 0.05 && learners > 1,
			Measured: fmt.Sprintf("max_j ‖W_j − W̄‖_F across %d real nodes: every round (max %.3g) and the final W (%.3g)", learners, roundDrift, f.FinalDrift)},
		{Name: "reflexive latency", Value: lat, Unit: "s", Target: "< 1 s (mean)", Pass: lat < 1, Measured: "slowest node's mean governance response time (violation → restored, re-verified state)"},
		{Name: "reflexive loop latency", Value: loop, Unit: "s", Target: "< 1 s", Pass: loop < 1, Measured: "slowest node's QuantumFusion → ReflexiveFeedback time"},
		{Name: "ledger commit lag", Value: lag, Unit: "ms", Target: "< 50 ms (p99)", Pass: lag < 50, Measured: "slowest node's p99"},
	}
	if learners == 0 {
		for i := range f.Checks {
			f.Checks[i].Pass, f.Checks[i].Measured = false, "no node reported"
		}
	}
	f.Pass = ok && learners == len(f.Nodes) && len(f.Nodes) > 0
	for _, c := range f.Checks {
		f.Pass = f.Pass && c.Pass
	}
}

func (f *FederatedRun) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\trole\tticks\trounds\tmax drift\tε\trejected\tledger records\twitnessed\tlinks (group)\terror")
	for _, r := range f.Nodes {
		recs := "-"
		if r.Ledger != nil {
			recs = strconv.FormatUint(r.Ledger.Records, 10)
		}
		groups := map[string]int{}
		for _, l := range r.Links {
			groups[l.Group]++
		}
		var gs []string
		for g, k := range groups {
			gs = append(gs, fmt.Sprintf("%d %s", k, g))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3g\t%.3g\t%d\t%s\t%d\t%s\t%s\n", r.Node, r.Role, r.Ticks, len(r.Rounds), r.MaxDrift, r.Epsilon,
			r.Stats.Rejected(), recs, r.Stats.Witnessed, strings.Join(gs, ", "), r.Error)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tmeasured\ttarget\t\thow")
	for _, c := range f.Checks {
		mark := "PASS"
		if !c.Pass {
			mark = "FAIL"
		}
		v := fmt.Sprintf("%.4g", c.Value)
		if c.Unit != "" {
			v += " " + c.Unit
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, v, c.Target, mark, c.Measured)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nnodes' data, roster and logs: %s\n", f.Dir)
}
