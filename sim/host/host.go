// Package host serves the extern functions of OpenQASM programs from a
// separate program: mec starts it once, sends it one JSON line per call
// on its standard input and reads one JSON line per answer from its
// standard output.
//
// A request is
//
//	{"name": "vote", "args": [{"type": "bit[3]", "value": "101"}], "returns": "bit"}
//
// ("returns" is absent for a function without a value) and an answer is
// {"value": V} or {"error": "why"}. Values are JSON numbers for int,
// uint, float and angle (an angle in radians), true or false for bool, and
// a string of 0s and 1s, most significant bit first, for bit[n]; an answer
// is converted to the declared return type as a cast would. The host
// program's standard error passes through to mec's. Calls are made one at
// a time, once per branch of a shot run (the shots of a branch share the
// call), so a host should compute a function of its arguments; it may
// record the calls it serves.
//
// The package imports only circuit: it is the run-time half of extern
// functions (qasm calls the host while a program is read when the
// arguments are known then).
package host

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/prismai/mec/circuit"
)

// DefaultTimeout bounds the wait for one answer.
const DefaultTimeout = 30 * time.Second

// maxLine bounds one answer line.
const maxLine = 1 << 20

// Process is a running host program.
type Process struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	lines   chan lineOrErr
	timeout time.Duration

	mu     sync.Mutex
	closed bool
	calls  int
}

type lineOrErr struct {
	line []byte
	err  error
}

// Start runs the host program command (split on spaces: the program and
// its arguments; no shell) with standard error passed through.
func Start(ctx context.Context, command string) (*Process, error) {
	f := strings.Fields(command)
	if len(f) == 0 {
		return nil, errors.New("host: empty command")
	}
	cmd := exec.CommandContext(ctx, f[0], f[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("host: start %q: %w", command, err)
	}
	p := &Process{cmd: cmd, in: in, lines: make(chan lineOrErr), timeout: DefaultTimeout}
	go func() {
		r := bufio.NewReaderSize(out, 64<<10)
		for {
			line, err := readLine(r)
			p.lines <- lineOrErr{line, err}
			if err != nil {
				close(p.lines)
				return
			}
		}
	}()
	return p, nil
}

// readLine reads one line of at most maxLine bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("an answer longer than %d bytes", maxLine)
		}
		if !isPrefix {
			return line, nil
		}
	}
}

type request struct {
	Name    string `json:"name"`
	Args    []arg  `json:"args"`
	Returns string `json:"returns,omitempty"`
}

type arg struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type answer struct {
	Value json.RawMessage `json:"value"`
	Error *string         `json:"error"`
}

// Call implements circuit.Host.
func (p *Process) Call(name string, args []circuit.Value, ret *circuit.ClassType) (circuit.Value, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return circuit.Value{}, errors.New("host: closed")
	}
	req := request{Name: name, Args: make([]arg, len(args))}
	for i, a := range args {
		req.Args[i] = arg{Type: a.Type.String(), Value: encode(a)}
	}
	if ret != nil {
		req.Returns = ret.String()
	}
	b, err := json.Marshal(req)
	if err != nil {
		return circuit.Value{}, fmt.Errorf("host: %w", err)
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return circuit.Value{}, fmt.Errorf("host: send %s: %w", name, err)
	}
	p.calls++
	var got lineOrErr
	select {
	case l, ok := <-p.lines:
		if !ok {
			return circuit.Value{}, fmt.Errorf("host: %s: the host program has exited", name)
		}
		got = l
	case <-time.After(p.timeout):
		// A late answer would be taken for the next call's: stop.
		p.closed = true
		_ = p.cmd.Process.Kill()
		return circuit.Value{}, fmt.Errorf("host: %s: no answer within %v", name, p.timeout)
	}
	if got.err != nil {
		if got.err == io.EOF {
			return circuit.Value{}, fmt.Errorf("host: %s: the host program closed its output", name)
		}
		return circuit.Value{}, fmt.Errorf("host: %s: %w", name, got.err)
	}
	return DecodeAnswer(name, got.line, ret)
}

// SetTimeout sets how long a call waits for its answer (DefaultTimeout
// unless set).
func (p *Process) SetTimeout(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timeout = d
}

// Calls returns how many calls the host has served.
func (p *Process) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// DecodeAnswer reads one answer line of a call of name that returns ret
// (nil: no value): the value converted to ret, or the host's error.
func DecodeAnswer(name string, line []byte, ret *circuit.ClassType) (circuit.Value, error) {
	var a answer
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return circuit.Value{}, fmt.Errorf("host: %s: malformed answer %q: %v", name, truncate(line), err)
	}
	if a.Error != nil {
		return circuit.Value{}, fmt.Errorf("host: %s: %s", name, *a.Error)
	}
	if ret == nil {
		return circuit.RealValue(0), nil
	}
	if a.Value == nil {
		return circuit.Value{}, fmt.Errorf("host: %s: the answer has no value (a %s is due)", name, ret)
	}
	v, err := DecodeValue(a.Value)
	if err != nil {
		return circuit.Value{}, fmt.Errorf("host: %s: %w", name, err)
	}
	return circuit.Convert(v, *ret)
}

// DecodeValue reads a JSON value: a number, a bool or a bit string.
func DecodeValue(raw json.RawMessage) (circuit.Value, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return circuit.Value{}, fmt.Errorf("malformed value %q: %v", truncate(raw), err)
	}
	switch x := x.(type) {
	case bool:
		return circuit.BoolValue(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return circuit.IntValue(circuit.ClassType{Kind: circuit.ClassInt, Width: 64}, i), nil
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return circuit.Value{}, fmt.Errorf("number %s out of range", x)
		}
		return circuit.RealValue(f), nil
	case string:
		if len(x) == 0 || len(x) > 64 || strings.Trim(x, "01") != "" {
			return circuit.Value{}, fmt.Errorf("bit string %q: 1 to 64 characters 0 and 1", x)
		}
		var u uint64
		for _, c := range x {
			u = u<<1 | uint64(c-'0')
		}
		return circuit.Value{Type: circuit.ClassType{Kind: circuit.ClassBit, Width: len(x)}, U: u}, nil
	}
	return circuit.Value{}, fmt.Errorf("value %s: want a number, a bool or a bit string", truncate(raw))
}

// encode gives a value its JSON form.
func encode(v circuit.Value) any {
	switch v.Type.Kind {
	case circuit.ClassBool:
		return v.U != 0
	case circuit.ClassBit:
		s := v.String()
		return s[1 : len(s)-1]
	case circuit.ClassInt:
		return v.Int()
	case circuit.ClassUint:
		return v.U
	}
	return v.Float()
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// Close ends the host program: its standard input is closed, and it is
// killed if it has not exited within a second.
func (p *Process) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	_ = p.in.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	go func() {
		for range p.lines { // let the reader finish
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("host: %w", err)
		}
		return nil
	case <-time.After(time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		return nil
	}
}
