package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/prismai/mec/devices/lava"
	"github.com/prismai/mec/engines/snn"
)

// Formats of mec snn convert --to.
const (
	snnFormatYAML    = "yaml"
	snnFormatJSON    = "json"
	snnFormatNIRJSON = "nir-json"
	snnFormatNIR     = "nir"
)

// encodeSNNNetwork encodes net in a format of mec snn convert.
func encodeSNNNetwork(net *snn.Network, format string) ([]byte, error) {
	switch format {
	case snnFormatYAML:
		return yaml.Marshal(net)
	case snnFormatJSON:
		b, err := json.MarshalIndent(net, "", "  ")
		return append(b, '\n'), err
	case snnFormatNIRJSON, snnFormatNIR:
		f, err := lava.ExportNIR(net)
		if err != nil {
			return nil, err
		}
		if format == snnFormatNIR {
			return lava.EncodeNIRHDF5(f)
		}
		return lava.MarshalNIR(f)
	}
	return nil, fmt.Errorf("--to %q: want %s, %s, %s or %s", format, snnFormatYAML, snnFormatJSON, snnFormatNIRJSON, snnFormatNIR)
}

func newSNNConvertCmd() *cobra.Command {
	var to, out string
	cmd := &cobra.Command{
		Use:   "convert NET --to yaml|json|nir-json|nir [-o FILE]",
		Short: "Convert a spiking network file between YAML, JSON and NIR",
		Long: `Read NET (as mec snn run does) and write it in another form: yaml or json
(mec's network schema), nir-json (NIR in mec's JSON form, *.nir.json), or nir
(a real .nir file: HDF5 in nir.write's layout, written in Go; -o is
required). Text forms go to stdout unless -o is given. NIR keeps what it can
say (see README "Spiking networks"); the monitors section is not carried
into NIR.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			net, err := loadSNNNetwork(args[0])
			if err != nil {
				return err
			}
			if (to == snnFormatNIR || to == snnFormatNIRJSON) && net.Monitors != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: NIR has no place for the monitors section; it is dropped")
			}
			if to == snnFormatNIR && out == "" {
				return errors.New("--to nir: -o FILE is required (the output is a binary HDF5 file)")
			}
			b, err := encodeSNNNetwork(net, to)
			if err != nil {
				return err
			}
			if out == "" {
				_, err := cmd.OutOrStdout().Write(b)
				return err
			}
			return writeFileWith(out, func(w io.Writer) error { _, err := w.Write(b); return err })
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "output form: yaml, json, nir-json or nir")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE (default: stdout; required for nir)")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
