package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/devices/qpu"
	"github.com/prismai/mec/sim"
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
		listen, tokenFile, clientsFile, device string
		tlsCert, tlsKey                        string
		insecure                               bool
		o                                      qpu.ServerOptions
	)
	cmd := &cobra.Command{
		Use:   "qpu",
		Short: "Expose a local backend as a QPU behind the IBM Qiskit Runtime job API",
		Long: `Serve the sampler job API of IBM Qiskit Runtime — POST /api/v1/jobs,
GET /api/v1/jobs/{id}, GET /api/v1/jobs/{id}/results, POST
/api/v1/jobs/{id}/cancel, DELETE /api/v1/jobs/{id} — sampling each
OpenQASM 3 pub with the local state-vector backend (--backend), so that
another machine's qpu backend (MEC_QPU_URL=https://ADDR MEC_QPU_KIND=mec)
can use this one as its QPU. Jobs run asynchronously from a bounded queue
(--queue; a full queue answers 429) and can be cancelled: cancelling stops
the work within a second and the next job starts.

Clients: --clients FILE lists one "NAME TOKEN" per line (a file readable
by its owner only; see go doc ./devices/qpu ReadClientsFile); a job
belongs to the client whose token created it, and other clients cannot
see, cancel or delete it. --token-file F (or $MEC_QPU_TOKEN) is one shared
token, the client "default". Requests carry "Authorization: Bearer TOKEN".

TLS: --tls-cert and --tls-key (PEM) serve HTTPS, TLS 1.3, where Go
negotiates the hybrid post-quantum key exchange X25519MLKEM768 with
clients that offer it (mec's own client does). A client trusts a
self-signed certificate through MEC_QPU_CA_FILE.

An address that is not loopback (0.0.0.0, a LAN address) is refused
unless both TLS and tokens are set, or --insecure is given.

Limits, each failing a request or job with a message naming its flag:
request bytes, pubs per job, shots per pub, qubits per circuit, expanded
operations per job, shots × qubits per job, result bytes per job, job wall
time, jobs and result bytes remembered; and per connection: header, read,
write and idle timeouts and the number of connections. The OpenQASM is
parsed and simulated by the job's worker, never in the HTTP handler.
--max-branches bounds the states a pub's shots hold at once (default 1:
shots past a mid-circuit measurement's first outcome replay their path
group by group), so a circuit that branches at every measurement costs
time, bounded by --max-job-time, not memory.
Stops gracefully on interrupt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.MaxBranches < 1 || o.MaxBranches > sim.MaxBranchesCap {
				return fmt.Errorf("serve qpu: --max-branches %d: want 1 to %d", o.MaxBranches, sim.MaxBranchesCap)
			}
			o.Token = os.Getenv(qpu.EnvToken)
			if tokenFile != "" {
				t, err := qpu.ReadTokenFile(tokenFile)
				if err != nil {
					return err
				}
				o.Token = t
			}
			if clientsFile != "" {
				c, err := qpu.ReadClientsFile(clientsFile)
				if err != nil {
					return err
				}
				o.Clients = c
			}
			if (tlsCert == "") != (tlsKey == "") {
				return errors.New("serve qpu: give both --tls-cert and --tls-key")
			}
			if tlsCert != "" {
				cert, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
				if err != nil {
					return fmt.Errorf("serve qpu: TLS certificate: %w", err)
				}
				o.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
			}
			o.Backend, o.Device, o.Insecure = backendFlag(cmd), device, insecure
			ctx := cmd.Context()
			srv, err := qpu.NewServer(ctx, o)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			if !srv.Authenticated() {
				fmt.Fprintln(stderr, "mec serve qpu: warning: no token set (--clients, --token-file or $"+qpu.EnvToken+"); anyone who can reach the port can submit jobs")
			}
			if insecure && (o.TLS == nil || !srv.Authenticated()) {
				fmt.Fprintln(stderr, "mec serve qpu: warning: --insecure: serving without TLS or without tokens; anyone on the network can read the traffic or submit jobs")
			}
			scheme := "http"
			if o.TLS != nil {
				scheme = "https"
			}
			err = srv.ListenAndServe(ctx, listen, func(a net.Addr) {
				fmt.Fprintf(cmd.OutOrStdout(), "mec serve qpu: device %s listening on %s://%s\n", srv.Device(), scheme, a)
			})
			if err != nil {
				srv.Close()
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8742", "address to listen on (host:port; port 0 picks a free one); not loopback needs TLS and tokens, or --insecure")
	f.StringVar(&tokenFile, "token-file", "", "file holding one shared bearer token (mode 0600), the client \"default\"; default $"+qpu.EnvToken)
	f.StringVar(&clientsFile, "clients", "", "file of \"NAME TOKEN\" lines (mode 0600): per-client tokens, each client sees only its own jobs")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with")
	f.StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	f.BoolVar(&insecure, "insecure", false, "allow an address that is not loopback without TLS or tokens")
	f.StringVar(&device, "device", "", "device name reported to clients (default mec-BACKEND)")
	f.IntVar(&o.QueueSize, "queue", qpu.DefaultQueueSize, "jobs that may wait to run; more are refused with 429")
	f.IntVar(&o.Workers, "workers", 1, "jobs run at once")
	f.IntVar(&o.MaxQubits, "max-qubits", qpu.DefaultMaxQubits, "largest circuit accepted, in qubits")
	f.IntVar(&o.MaxShots, "max-shots", qpu.DefaultMaxShots, "most shots per pub")
	f.IntVar(&o.MaxPubs, "max-pubs", qpu.DefaultMaxPubs, "most pubs per job")
	f.IntVar(&o.MaxOps, "max-ops", qpu.DefaultMaxOps, "most operations a job's circuits may expand to (all pubs)")
	f.Int64Var(&o.MaxShotQubits, "max-shot-qubits", qpu.DefaultMaxShotQubits, "most shots × qubits per job (all pubs)")
	f.Int64Var(&o.MaxResultBytes, "max-result-bytes", qpu.DefaultMaxResultBytes, "largest result document of a job, in bytes")
	f.Int64Var(&o.MaxRequestBytes, "max-request-bytes", qpu.DefaultMaxRequestBytes, "largest request body, in bytes")
	f.IntVar(&o.MaxJobs, "max-jobs", qpu.DefaultMaxJobs, "jobs remembered; the oldest finished are forgotten first")
	f.Int64Var(&o.MaxRetainedBytes, "max-retained-bytes", qpu.DefaultMaxRetainedBytes, "result bytes of the remembered jobs together")
	f.DurationVar(&o.MaxJobTime, "max-job-time", qpu.DefaultMaxJobTime, "wall time of one job, parsing and simulation")
	f.IntVar(&o.MaxConns, "max-conns", qpu.DefaultMaxConns, "connections open at once; more are closed at once")
	f.IntVar(&o.MaxBranches, "max-branches", qpu.DefaultMaxBranches, fmt.Sprintf("states one pub's shot run holds at once, 1 to %d (past it, shots replay their path group by group)", sim.MaxBranchesCap))
	f.DurationVar(&o.ReadHeaderTimeout, "header-timeout", qpu.DefaultReadHeaderTimeout, "time a connection has to send a request's headers")
	f.DurationVar(&o.ReadTimeout, "read-timeout", qpu.DefaultReadTimeout, "time a connection has to send a whole request")
	f.DurationVar(&o.WriteTimeout, "write-timeout", qpu.DefaultWriteTimeout, "time to write an answer")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", qpu.DefaultIdleTimeout, "time an idle keep-alive connection stays open")
	return cmd
}
