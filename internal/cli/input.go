package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// DefaultMaxInputBytes bounds every configuration and input file the
// commands read (scenario and fusion configs, evolve specs) other than
// OpenQASM, which has its own limits (qasm.Limits, MEC_QASM_*).
const DefaultMaxInputBytes = 64 << 20

// EnvMaxInputBytes raises (or lowers) DefaultMaxInputBytes.
const EnvMaxInputBytes = "MEC_MAX_INPUT_BYTES"

// maxInputBytes returns the input file limit: $MEC_MAX_INPUT_BYTES when
// set, else DefaultMaxInputBytes.
func maxInputBytes() (int64, error) {
	s := os.Getenv(EnvMaxInputBytes)
	if s == "" {
		return DefaultMaxInputBytes, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number of bytes", EnvMaxInputBytes, s)
	}
	return n, nil
}

// readInput reads a configuration or input file, but never more than the
// input limit plus one byte: a longer file, or an endless one such as
// /dev/zero, fails at once with an error naming the limit and how to
// raise it.
func readInput(what, path string) ([]byte, error) {
	max, err := maxInputBytes()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s %s: more than the limit of %d bytes (raise it with %s)", what, path, max, EnvMaxInputBytes)
	}
	return b, nil
}
