package ops_test

import (
	"testing"

	"github.com/prismai/mec/internal/cli"
	"github.com/prismai/mec/ops"
)

// TestNodeFlagsMatchNodeConfig: once `mec node` reads its settings
// through ops.NodeConfig (it has --config), each NodeConfig flag must be
// one of its flags, so that ChangedFlags hands Load every flag given.
func TestNodeFlagsMatchNodeConfig(t *testing.T) {
	node, _, err := cli.NewRoot().Find([]string{"node"})
	if err != nil || node == nil || node.Name() != "node" {
		t.Skipf("no `mec node` command: %v", err)
	}
	if node.Flags().Lookup("config") == nil {
		t.Skip("`mec node` has no --config yet: it does not read ops.NodeConfig")
	}
	fields, err := ops.Fields(&ops.NodeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if f.Flag != "" && node.Flags().Lookup(f.Flag) == nil {
			t.Errorf("key %s: `mec node` has no --%s", f.Key, f.Flag)
		}
	}
}
