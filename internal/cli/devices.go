package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/backend"
	_ "github.com/prismai/mec/backend/all" // register every backend
)

func init() { subcommands = append(subcommands, newDevicesCmd) }

func newDevicesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List every registered backend: loaded, skipped or failed, with the reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res := backend.Init()
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"backends": res, "default": defaultName(res)})
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "BACKEND\tPRIORITY\tSTATUS\tCAPABILITIES\tDEVICE / REASON")
			for _, r := range res {
				detail := r.Device
				if r.Status != backend.Loaded {
					detail = r.Reason
				}
				caps := strings.Join(r.Capabilities, ",")
				if caps == "" {
					caps = "-"
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", r.Name, r.Priority, r.Status, caps, detail)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "default: %s\n", defaultName(res))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func defaultName(res []backend.Result) string {
	b, err := backend.Select("")
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	return b.Name()
}

// backendFlag returns the --backend persistent flag's value.
func backendFlag(cmd *cobra.Command) string {
	v, _ := cmd.Flags().GetString("backend")
	return v
}
