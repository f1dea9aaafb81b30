package spinnaker

import (
	"errors"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
)

func TestDriver(t *testing.T) {
	t.Setenv(EnvHost, "")
	_, err := driver{}.Init()
	if !errors.Is(err, backend.ErrSkip) || !strings.Contains(err.Error(), EnvHost) {
		t.Fatalf("unset: %v", err)
	}
	t.Setenv(EnvHost, "127.0.0.1")
	b, err := driver{}.Init()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sb := b.(*Backend)
	if sb.Addr().Port != SCAMPPort || !strings.Contains(b.Device(), "127.0.0.1:17893") || b.Name() != Name {
		t.Fatalf("backend %q %v", b.Device(), sb.Addr())
	}
	if c := backend.Capabilities(b); len(c) != 0 {
		t.Fatalf("capabilities %v, want none (spike I/O is the package's API, not a capability)", c)
	}
	t.Setenv(EnvHost, "127.0.0.1:4000")
	if b, err := (driver{}).Init(); err != nil || b.(*Backend).Addr().Port != 4000 {
		t.Fatalf("explicit port: %v", err)
	}
	t.Setenv(EnvHost, "127.0.0.1:notaport")
	if _, err := (driver{}).Init(); err == nil || errors.Is(err, backend.ErrSkip) {
		t.Fatalf("bad port should fail, not skip: %v", err)
	}
}
