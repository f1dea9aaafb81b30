package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/qasm"
)

func newCircuitConvertCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "convert FILE.qasm",
		Short: "Convert an OpenQASM 2 or 3 circuit to OpenQASM 3 or 2",
		Long: `Convert an OpenQASM 2 or 3 circuit (user gates expanded, registers
flattened into q and c) to OpenQASM 3 (--to qasm3) or OpenQASM 2.0 (--to qasm2).
OpenQASM 2 has no modifiers and no global phase: modifiers, extra controls
and dense unitaries are decomposed into qelib1.inc gates and uncontrolled
phases are dropped.

` + qasmLimitsHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := qasm.ParseFileContext(cmd.Context(), args[0], qasm.Options{})
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
	return cmd
}
