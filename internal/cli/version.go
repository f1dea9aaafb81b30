package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version describes the running binary from its build information: the
// module version (or "devel" for a build from a source tree), the commit
// and its time when the build recorded them, "+dirty" for a build from a
// modified tree, and the Go version.
func version() string {
	v, rev, at, dirty := "devel", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " " + rev
		if dirty {
			v += "+dirty"
		}
		if at != "" {
			v += " " + at
		}
	}
	return fmt.Sprintf("%s (%s, %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
