package qasm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Limits bound the work of parsing untrusted OpenQASM: the bytes read, the
// operations that expanding user gates may create, and the wall time of
// parsing and expansion. A zero field takes the value of its environment
// variable when that is set, and otherwise its default:
//
//	field              environment variable         default
//	MaxFileBytes       MEC_QASM_MAX_FILE_BYTES      64 MiB (DefaultMaxFileBytes)
//	MaxIncludeBytes    MEC_QASM_MAX_INCLUDE_BYTES   16 MiB (DefaultMaxIncludeBytes)
//	MaxOps             MEC_QASM_MAX_OPS             10,000,000 (DefaultMaxOps)
//	MaxExpandDuration  MEC_QASM_EXPAND_TIMEOUT      60s (DefaultMaxExpandDuration)
//	MaxWhile           MEC_QASM_MAX_WHILE           100 (DefaultMaxWhile)
//
// Sizes are plain byte counts; the timeout is a Go duration ("90s", "5m").
// Input beyond a limit fails with a *LimitError (errors.Is(err, ErrLimit)),
// at the line and column of the statement that crossed it where there is
// one, naming the limit and its environment variable.
type Limits struct {
	// MaxFileBytes bounds the main source: the file ParseFile reads (it
	// stops reading one byte past the limit, so /dev/zero fails at once)
	// or the string Parse is given.
	MaxFileBytes int64
	// MaxIncludeBytes bounds the bytes of all included files together.
	MaxIncludeBytes int64
	// MaxOps bounds the operations of the circuit and, separately, the
	// operations that expanding one statement creates on the way (a
	// non-integer power of a user gate first expands its body). It is
	// checked before anything is expanded: the nested-definition bomb
	// `gate gN a { gN-1 a; gN-1 a; }` fails at its call without expanding.
	MaxOps int
	// MaxExpandDuration bounds the wall time of parsing and expanding one
	// program; the context passed to ParseContext can stop it earlier.
	MaxExpandDuration time.Duration
	// MaxWhile bounds the iterations of each while loop: a loop is
	// unrolled this many times, and a shot whose loop would run again
	// stops the run with an error that names the loop and the limit.
	MaxWhile int
}

// Defaults of Limits.
const (
	DefaultMaxFileBytes      = 64 << 20
	DefaultMaxIncludeBytes   = 16 << 20
	DefaultMaxOps            = 10_000_000
	DefaultMaxExpandDuration = 60 * time.Second
	DefaultMaxWhile          = 100
)

// Environment variables that set Limits fields left zero.
const (
	EnvMaxFileBytes      = "MEC_QASM_MAX_FILE_BYTES"
	EnvMaxIncludeBytes   = "MEC_QASM_MAX_INCLUDE_BYTES"
	EnvMaxOps            = "MEC_QASM_MAX_OPS"
	EnvMaxExpandDuration = "MEC_QASM_EXPAND_TIMEOUT"
	EnvMaxWhile          = "MEC_QASM_MAX_WHILE"
)

// DefaultLimits returns the built-in limits (environment variables not
// consulted).
func DefaultLimits() Limits {
	return Limits{MaxFileBytes: DefaultMaxFileBytes, MaxIncludeBytes: DefaultMaxIncludeBytes,
		MaxOps: DefaultMaxOps, MaxExpandDuration: DefaultMaxExpandDuration, MaxWhile: DefaultMaxWhile}
}

// Effective returns l with every zero field filled from its environment
// variable or default. Negative fields and malformed environment values
// are errors.
func (l Limits) Effective() (Limits, error) {
	d := DefaultLimits()
	var err error
	if l.MaxFileBytes, err = effInt(l.MaxFileBytes, EnvMaxFileBytes, "MaxFileBytes", d.MaxFileBytes); err != nil {
		return Limits{}, err
	}
	if l.MaxIncludeBytes, err = effInt(l.MaxIncludeBytes, EnvMaxIncludeBytes, "MaxIncludeBytes", d.MaxIncludeBytes); err != nil {
		return Limits{}, err
	}
	ops, err := effInt(int64(l.MaxOps), EnvMaxOps, "MaxOps", int64(d.MaxOps))
	if err != nil {
		return Limits{}, err
	}
	if ops > 1<<40 {
		ops = 1 << 40
	}
	l.MaxOps = int(ops)
	w, err := effInt(int64(l.MaxWhile), EnvMaxWhile, "MaxWhile", int64(d.MaxWhile))
	if err != nil {
		return Limits{}, err
	}
	l.MaxWhile = int(min(w, 1<<20))
	switch {
	case l.MaxExpandDuration < 0:
		return Limits{}, fmt.Errorf("qasm: Limits.MaxExpandDuration %v: want a positive duration", l.MaxExpandDuration)
	case l.MaxExpandDuration == 0:
		l.MaxExpandDuration = d.MaxExpandDuration
		if s := os.Getenv(EnvMaxExpandDuration); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v <= 0 {
				return Limits{}, fmt.Errorf("qasm: %s=%q: want a positive duration such as 90s", EnvMaxExpandDuration, s)
			}
			l.MaxExpandDuration = v
		}
	}
	return l, nil
}

func effInt(v int64, env, field string, def int64) (int64, error) {
	switch {
	case v < 0:
		return 0, fmt.Errorf("qasm: Limits.%s %d: want a positive number", field, v)
	case v > 0:
		return v, nil
	}
	s := os.Getenv(env)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("qasm: %s=%q: want a positive integer", env, s)
	}
	return n, nil
}

// ErrLimit is matched (errors.Is) by every error that reports input beyond
// one of the Limits.
var ErrLimit = errors.New("qasm: input exceeds a limit")

// LimitError reports input beyond one of the Limits. Inside a program it is
// wrapped in an *Error that gives the position.
type LimitError struct {
	// What exceeded the limit, e.g. `gate "g30" expands to 1073741824 operations`.
	What string
	// Limit is the Limits field ("MaxOps"), Env its environment variable.
	Limit, Env string
	// Max is the limit's value with its unit ("10000000 operations").
	Max string
}

// Error says what exceeded which limit and how to raise it.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: more than the limit of %s (qasm Limits.%s; raise it with %s)", e.What, e.Max, e.Limit, e.Env)
}

// Is reports whether target is ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

func fileLimitError(what string, max int64) *LimitError {
	return &LimitError{What: what, Limit: "MaxFileBytes", Env: EnvMaxFileBytes, Max: fmt.Sprintf("%d bytes", max)}
}

func includeLimitError(what string, max int64) *LimitError {
	return &LimitError{What: what, Limit: "MaxIncludeBytes", Env: EnvMaxIncludeBytes, Max: fmt.Sprintf("%d bytes", max)}
}

func opsLimitError(what string, max int) *LimitError {
	return &LimitError{What: what, Limit: "MaxOps", Env: EnvMaxOps, Max: fmt.Sprintf("%d operations", max)}
}

func durationLimitError(max time.Duration) *LimitError {
	return &LimitError{What: "parsing and expanding the program took too long", Limit: "MaxExpandDuration",
		Env: EnvMaxExpandDuration, Max: max.String()}
}

// readAtMost reads the file at path, but never more than max+1 bytes, so
// that a file longer than max (or a device such as /dev/zero) is detected
// without reading it all.
func readAtMost(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}
