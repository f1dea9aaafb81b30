package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/qsimfile"
	"github.com/prismai/mec/sim/host"
)

func newCircuitConvertCmd() *cobra.Command {
	var to string
	var qf qasmFlags
	cmd := &cobra.Command{
		Use:   "convert FILE.qasm|-",
		Short: "Convert an OpenQASM 2 or 3 circuit to OpenQASM 3 or 2",
		Long: `Convert an OpenQASM 2 or 3 circuit (user gates expanded, registers
flattened into q and c) to OpenQASM 3 (--to qasm3) or OpenQASM 2.0 (--to qasm2).
OpenQASM 2 has no modifiers and no global phase: modifiers, extra controls
and dense unitaries are decomposed into qelib1.inc gates and uncontrolled
phases are dropped.

` + qasmLimitsHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := qf.parse(cmd, args[0])
			if err != nil {
				return err
			}
			var out string
			switch to {
			case "qasm3", "3":
				out, err = qasm.Export3(c)
			case "qasm2", "2":
				out, err = qasm.Export2(c)
			default:
				return fmt.Errorf("--to %q: want qasm3 or qasm2", to)
			}
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), out)
			return err
		},
	}
	cmd.Flags().StringVar(&to, "to", "qasm3", "output language: qasm3 or qasm2")
	qf.register(cmd)
	return cmd
}

// qasmFlags are the flags of the commands that read OpenQASM: input
// values and notices of ignored constructs.
type qasmFlags struct {
	params     []string
	verbose    bool
	format     string
	externHost string
}

func (q *qasmFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&q.params, "param", nil, "value of an input of the program, NAME=VALUE (repeatable; VALUE is a number or an expression such as pi/4)")
	cmd.Flags().BoolVar(&q.verbose, "verbose", false, "report constructs read and ignored (#pragma, annotations) on standard error")
	cmd.Flags().StringVar(&q.format, "format", "auto", "input format: qasm (OpenQASM 2 or 3), qsim (qsim's circuit files) or auto (qsim when the first line is a number)")
	cmd.Flags().StringVar(&q.externHost, "extern-host", "", `program (and arguments, split on spaces) that serves the program's extern functions: one JSON line per call on its standard input, one answer line on its output (see the README's OpenQASM section)`)
}

// startHost starts the --extern-host program; stop ends it. Without the
// flag both are no-ops and host is nil.
func (q *qasmFlags) startHost(cmd *cobra.Command) (h circuit.Host, stop func(), err error) {
	if q.externHost == "" {
		return nil, func() {}, nil
	}
	p, err := host.Start(cmd.Context(), q.externHost)
	if err != nil {
		return nil, nil, err
	}
	return p, func() {
		if err := p.Close(); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "mec:", err)
		}
	}, nil
}

// parse reads the OpenQASM program at path ("-": standard input) with the
// flags' options.
func (q *qasmFlags) parse(cmd *cobra.Command, path string) (*circuit.Circuit, error) {
	opts, err := q.options(cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	h, stop, err := q.startHost(cmd)
	if err != nil {
		return nil, err
	}
	defer stop()
	opts.Host = h
	return q.parseWith(cmd, path, opts)
}

// parseWith reads the OpenQASM program at path ("-": standard input) with
// opts.
func (q *qasmFlags) parseWith(cmd *cobra.Command, path string, opts qasm.Options) (*circuit.Circuit, error) {
	lim, err := opts.Limits.Effective()
	if err != nil {
		return nil, err
	}
	if path == "-" {
		data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), lim.MaxFileBytes+1))
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return q.parseSource(cmd, "<stdin>", data, opts)
	}
	qsim := q.format == "qsim"
	switch q.format {
	case "qsim", "qasm":
	case "auto":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		head := make([]byte, 4096)
		k, _ := io.ReadFull(f, head)
		f.Close()
		qsim = qsimfile.Detect(string(head[:k]))
	default:
		return nil, fmt.Errorf("--format %q: want qasm, qsim or auto", q.format)
	}
	if !qsim {
		return qasm.ParseFileContext(cmd.Context(), path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return q.parseQsim(cmd, path, io.LimitReader(f, lim.MaxFileBytes), opts, lim)
}

// parseSource reads a program held in memory (standard input) in the
// flags' format.
func (q *qasmFlags) parseSource(cmd *cobra.Command, name string, data []byte, opts qasm.Options) (*circuit.Circuit, error) {
	lim, err := opts.Limits.Effective()
	if err != nil {
		return nil, err
	}
	switch q.format {
	case "qsim":
	case "auto":
		if !qsimfile.Detect(string(data[:min(len(data), 4096)])) {
			opts.File = name
			return qasm.ParseReaderContext(cmd.Context(), bytes.NewReader(data), opts)
		}
	case "qasm":
		opts.File = name
		return qasm.ParseReaderContext(cmd.Context(), bytes.NewReader(data), opts)
	default:
		return nil, fmt.Errorf("--format %q: want qasm, qsim or auto", q.format)
	}
	return q.parseQsim(cmd, name, bytes.NewReader(data), opts, lim)
}

// parseQsim reads a qsim circuit file (which has no inputs).
func (q *qasmFlags) parseQsim(cmd *cobra.Command, name string, r io.Reader, opts qasm.Options, lim qasm.Limits) (*circuit.Circuit, error) {
	if len(opts.Params) > 0 {
		return nil, fmt.Errorf("%s: a qsim circuit file has no inputs to bind", name)
	}
	return qsimfile.Parse(cmd.Context(), r, name, lim.MaxOps)
}

// options returns the parse options of the flags.
func (q *qasmFlags) options(errOut io.Writer) (qasm.Options, error) {
	var opts qasm.Options
	for _, kv := range q.params {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return opts, fmt.Errorf("--param %q: want NAME=VALUE", kv)
		}
		v, err := qasm.EvalConst(val)
		if err != nil {
			return opts, fmt.Errorf("--param %s: %w", name, err)
		}
		if opts.Params == nil {
			opts.Params = map[string]float64{}
		}
		if _, dup := opts.Params[name]; dup {
			return opts, fmt.Errorf("--param %s given twice", name)
		}
		opts.Params[name] = v
	}
	if q.verbose {
		opts.Notice = func(msg string) { fmt.Fprintln(errOut, msg) }
	}
	return opts, nil
}
