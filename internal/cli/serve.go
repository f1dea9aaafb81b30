package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/devices/qpu"
)

func init() { subcommands = append(subcommands, newServeCmd) }

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a local backend to other machines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("serve: name what to serve (mec serve qpu)")
		},
	}
	cmd.AddCommand(newServeQPUCmd())
	return cmd
}

func newServeQPUCmd() *cobra.Command {
	var (
		listen, tokenFile, device string
		queue, workers, maxQubits int
		maxShots                  int
	)
	cmd := &cobra.Command{
		Use:   "qpu",
		Short: "Expose a local backend as a QPU behind the IBM Qiskit Runtime job API",
		Long: `Serve the sampler job API of IBM Qiskit Runtime — POST /api/v1/jobs,
GET /api/v1/jobs/{id}, GET /api/v1/jobs/{id}/results, POST
/api/v1/jobs/{id}/cancel, DELETE /api/v1/jobs/{id} — sampling each
OpenQASM 3 pub with the local state-vector backend (--backend), so that
another machine's qpu backend (MEC_QPU_URL=http://ADDR MEC_QPU_KIND=mec)
can use this one as its QPU. Jobs run asynchronously from a bounded queue
(--queue; a full queue answers 429) and can be cancelled. Requests must
carry "Authorization: Bearer TOKEN" when a token is set: --token-file F (a
file readable by its owner only) or $MEC_QPU_TOKEN. Stops gracefully on
interrupt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token := os.Getenv(qpu.EnvToken)
			if tokenFile != "" {
				t, err := qpu.ReadTokenFile(tokenFile)
				if err != nil {
					return err
				}
				token = t
			}
			ctx := cmd.Context()
			srv, err := qpu.NewServer(ctx, qpu.ServerOptions{Backend: backendFlag(cmd), Token: token, Device: device,
				QueueSize: queue, Workers: workers, MaxQubits: maxQubits, MaxShots: maxShots})
			if err != nil {
				return err
			}
			if token == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "mec serve qpu: warning: no token set (--token-file or $"+qpu.EnvToken+"); anyone who can reach the port can submit jobs")
			}
			return srv.ListenAndServe(ctx, listen, func(a net.Addr) {
				fmt.Fprintf(cmd.OutOrStdout(), "mec serve qpu: device %s listening on http://%s\n", srv.Device(), a)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8742", "address to listen on (host:port; port 0 picks a free one)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token clients must send (mode 0600); default $"+qpu.EnvToken)
	f.StringVar(&device, "device", "", "device name reported to clients (default mec-BACKEND)")
	f.IntVar(&queue, "queue", 16, "jobs that may wait to run; more are refused with 429")
	f.IntVar(&workers, "workers", 1, "jobs run at once")
	f.IntVar(&maxQubits, "max-qubits", 26, "largest circuit accepted, in qubits")
	f.IntVar(&maxShots, "max-shots", 1000000, "most shots per pub")
	return cmd
}

// qpuCheck is one QPU check of mec fuse --quantum-backend qpu: ψ after Step
// prepared and sampled on Device, χ²-tested against |ψ|².
type qpuCheck struct {
	Step   int    `json:"step"`
	Device string `json:"device"`
	qpu.ChiSquare
}

// qpuChecker samples the fusion state on the QPU for mec fuse.
type qpuChecker struct {
	b      *qpu.Backend
	shots  int
	checks []qpuCheck
}

// newQPUChecker returns nil for the local quantum backend.
func newQPUChecker(kind string, shots int) (*qpuChecker, error) {
	switch kind {
	case "", "local":
		return nil, nil
	case "qpu":
	default:
		return nil, fmt.Errorf("--quantum-backend %q: want local or qpu", kind)
	}
	if shots < 1 {
		return nil, fmt.Errorf("--qpu-shots %d", shots)
	}
	b, err := qpu.Open()
	if err != nil {
		return nil, fmt.Errorf("--quantum-backend qpu: %w", err)
	}
	return &qpuChecker{b: b, shots: shots}, nil
}

// check samples psi after step; the step number seeds simulated devices.
func (q *qpuChecker) check(ctx context.Context, step int, psi []complex128) error {
	seed := uint64(step)
	res, err := qpu.CheckState(ctx, q.b, psi, q.shots, &seed)
	if err != nil {
		return fmt.Errorf("QPU check after step %d: %w", step, err)
	}
	q.checks = append(q.checks, qpuCheck{Step: step, Device: q.b.Device(), ChiSquare: res})
	return nil
}

// print writes one line per check; nothing for a nil checker.
func (q *qpuChecker) print(w io.Writer) {
	if q == nil {
		return
	}
	for _, c := range q.checks {
		verdict := "consistent with |ψ|²"
		if c.P < 1e-3 {
			verdict = "REJECTED at significance 0.001"
		}
		fmt.Fprintf(w, "QPU check after step %d: χ² = %.2f (%d df), p = %.4f over %d shots: %s\n", c.Step, c.Stat, c.DF, c.P, c.Shots, verdict)
	}
}
