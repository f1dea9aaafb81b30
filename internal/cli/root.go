// Package cli implements the mec command line. cmd/mec is a thin main that
// calls Execute; every subcommand lives in its own file here and is added to
// the root in NewRoot.
//
// Layer: commands (the top). It may import any mec package; no mec package
// imports it but cmd/mec.
package cli

import (
	"context"
	"encoding/json"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// NewRoot builds the mec command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "mec",
		Short:         "mec — the compute runtime of the Prism MEC platform",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("mec {{.Version}}\n")
	root.PersistentFlags().String("backend", "", "backend to use (default: $MEC_BACKEND, else the highest-priority loaded backend)")
	root.PersistentFlags().String("device", "", "accelerator device: OpenCL \"P:D\", a device index or a name substring; CUDA a device index (sets $MEC_OPENCL_DEVICE and $MEC_CUDA_DEVICE)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		// Backends read their device choice when the registry first
		// initialises them, which happens after flag parsing.
		if d, _ := cmd.Flags().GetString("device"); d != "" {
			for _, env := range []string{"MEC_OPENCL_DEVICE", "MEC_CUDA_DEVICE"} {
				if err := os.Setenv(env, d); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands lists the constructors of the top-level subcommands. Each file
// of this package that defines a subcommand appends to it from an init
// function, so adding a command touches only its own file.
var subcommands []func() *cobra.Command

// Execute runs the command line with args and returns the error to report.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := NewRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
