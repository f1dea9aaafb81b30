// Command mec is the compute runtime of the Prism MEC platform. See README.md.
//
// Layer: commands. It may import only internal/cli.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/prismai/mec/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mec:", err)
		os.Exit(1)
	}
}
