package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/ops"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// nodeHelperEnv carries the arguments of a `mec` process run by
// TestHelperNodeProcess (a JSON array).
const nodeHelperEnv = "MEC_CLI_NODE_ARGS"

// TestHelperNodeProcess is not a test: it is `mec ARGS...` in a process
// of its own, for the tests that signal a node.
func TestHelperNodeProcess(t *testing.T) {
	js := os.Getenv(nodeHelperEnv)
	if js == "" {
		t.Skip("helper process for the tests that run mec as a process")
	}
	var args []string
	if err := json.Unmarshal([]byte(js), &args); err != nil {
		os.Exit(2)
	}
	if err := Execute(context.Background(), args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mec:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestNodeProbesAndSIGTERM runs a one-core federation as a process:
// /readyz is 503 until the configuration check, the federation join and
// the phase-lock calibration have passed in that order, and 200 after;
// /healthz is 200; /metrics parses with the Prometheus text parser and
// holds the node's metrics; SIGTERM mid-run stops the node cleanly, and
// every tick it committed is in its ledger, which verifies.
func TestNodeProbesAndSIGTERM(t *testing.T) {
	if os.Getenv(nodeHelperEnv) != "" {
		t.Skip("in helper")
	}
	dir := t.TempDir()
	port := func() int {
		p, err := federation.FreeLoopbackPort()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	data := filepath.Join(dir, "c1")
	mustRun(t, "node", "init", "--data", data, "--name", "c1", "--role", "core", "--client", fmt.Sprintf("tls://127.0.0.1:%d", port()),
		"--route", fmt.Sprintf("tls://127.0.0.1:%d", port()), "--leaf", fmt.Sprintf("tls://127.0.0.1:%d", port()))
	roster := filepath.Join(dir, "roster.yaml")
	mustRun(t, "node", "roster", "--federation", "probe", "--out", roster, filepath.Join(data, federation.MemberFile))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", port())
	report := filepath.Join(dir, "report.json")
	// The settings from a file, overridden by a flag (the tick interval).
	conf := filepath.Join(dir, "node.yaml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("data: %s\nroster: %s\nhttp: {listen: %q}\ntick_interval: 1s\nreport: %s\n", data, roster, httpAddr, report)), 0o644); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal([]string{"node", "--config", conf, "--tick-interval", "20ms", "--log-format", "json"})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNodeProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), nodeHelperEnv+"="+string(js))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("node log:\n%s", logs.String())
		}
	}()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path string) (int, []byte) {
		resp, err := client.Get("https://" + httpAddr + path)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// /readyz goes 503 → 200, and the steps pass in order.
	var seen []string
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, body := get(ops.ReadyzPath)
		if code == 200 {
			break
		}
		if code == http.StatusServiceUnavailable {
			var st ops.ReadinessStatus
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("/readyz body %q: %v", body, err)
			}
			passed := ""
			for _, s := range st.Steps {
				if s.State == ops.StepPassed {
					passed += s.Name + ","
				}
			}
			if len(seen) == 0 || seen[len(seen)-1] != passed {
				seen = append(seen, passed)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 90 s (seen %v)", seen)
		}
		select {
		case err := <-done:
			t.Fatalf("node exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if len(seen) == 0 {
		t.Error("/readyz was never 503")
	}
	for _, s := range seen {
		if s != "" && !strings.HasPrefix(ops.StepConfig+","+ops.StepFederationJoin+","+ops.StepPhaseLock+",", s) {
			t.Errorf("steps passed out of order: %q", s)
		}
	}
	t.Logf("/readyz 503 with steps passed %q, then 200", seen)
	if code, _ := get(ops.HealthzPath); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	time.Sleep(time.Second) // some ticks
	code, body := get(ops.MetricsPath)
	if code != 200 {
		t.Fatalf("/metrics %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, m := range []string{ops.MetricTicks, ops.MetricRollbacks, ops.MetricBusRejections, ops.MetricLedgerAppends, ops.MetricCommitLag,
		ops.MetricRounds, ops.MetricDrift, ops.MetricEpsilon, ops.MetricBackend, ops.MetricMembersLive, ops.MetricTLSLinks, ops.MetricReady,
		"go_goroutines", "process_cpu_seconds_total"} {
		if fams[m] == nil {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if f := fams[ops.MetricTicks]; f == nil || len(f.Metric) == 0 || f.Metric[0].GetCounter().GetValue() < 1 {
		t.Errorf("no ticks counted: %v", f)
	}
	// SIGTERM mid-run.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node exited after SIGTERM: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("node did not stop within 60 s of SIGTERM")
	}
	var rep NodeReport
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Error != "" || rep.Ledger == nil || rep.Ticks < 10 {
		t.Fatalf("report: error %q, ledger %v, ticks %d", rep.Error, rep.Ledger, rep.Ticks)
	}
	// Every committed tick is in the ledger, which verifies.
	if _, err := ledger.Verify(rep.LedgerDir, ledger.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	ticks := map[uint64]bool{}
	if err := ledger.Scan(rep.LedgerDir, func(r ledger.Record) error {
		if ev, ok := r.Event.(telemetry.SystemEvent); ok && ev.Kind == "tick" {
			if v, ok := ev.Fields["tick"]; ok {
				ticks[uint64(v.Num)] = true
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for k := uint64(1); k <= rep.Ticks; k++ {
		if !ticks[k] {
			t.Errorf("tick %d of %d is not in the ledger", k, rep.Ticks)
			break
		}
	}
	t.Logf("stopped after %d ticks; %d ledger records, all verified", rep.Ticks, rep.Ledger.Records)
}
