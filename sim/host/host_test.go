package host_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim/host"
)

// TestMain lets the test binary serve as a host program: with
// MEC_TEST_HOST set it answers requests on standard input instead of
// running the tests.
func TestMain(m *testing.M) {
	switch os.Getenv("MEC_TEST_HOST") {
	case "":
		os.Exit(m.Run())
	case "serve":
		serve()
	case "garbage":
		fmt.Println("not json")
		time.Sleep(time.Hour)
	case "silent":
		time.Sleep(time.Hour)
	case "exit":
	}
	os.Exit(0)
}

// serve answers add(a, b) -> int, majority(bit[3]) -> bit, echo(x) and
// log(...) (no value), and an error for anything else.
func serve() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var req struct {
			Name string `json:"name"`
			Args []struct {
				Type  string `json:"type"`
				Value any    `json:"value"`
			} `json:"args"`
			Returns string `json:"returns"`
		}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Printf("{\"error\": %q}\n", err.Error())
			continue
		}
		switch req.Name {
		case "add":
			fmt.Printf("{\"value\": %v}\n", req.Args[0].Value.(float64)+req.Args[1].Value.(float64))
		case "majority":
			s := req.Args[0].Value.(string)
			v := "0"
			if strings.Count(s, "1")*2 > len(s) {
				v = "1"
			}
			fmt.Printf("{\"value\": %q}\n", v)
		case "echo":
			b, _ := json.Marshal(map[string]any{"value": req.Args[0].Value})
			fmt.Println(string(b))
		case "log":
			fmt.Println("{}")
		default:
			fmt.Printf("{\"error\": \"no function %s\"}\n", req.Name)
		}
	}
}

func start(t *testing.T, mode string) *host.Process {
	t.Helper()
	t.Setenv("MEC_TEST_HOST", mode)
	p, err := host.Start(t.Context(), os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestCalls(t *testing.T) {
	p := start(t, "serve")
	i32 := circuit.ClassType{Kind: circuit.ClassInt, Width: 32}
	v, err := p.Call("add", []circuit.Value{circuit.IntValue(i32, 40), circuit.IntValue(i32, 2)}, &i32)
	if err != nil || v.Int() != 42 || v.Type != i32 {
		t.Fatalf("add(40, 2) = %v, %v", v, err)
	}
	bit := circuit.ClassType{Kind: circuit.ClassBit, Width: 1}
	b3 := circuit.Value{Type: circuit.ClassType{Kind: circuit.ClassBit, Width: 3}, U: 0b101}
	if v, err := p.Call("majority", []circuit.Value{b3}, &bit); err != nil || v.U != 1 {
		t.Fatalf("majority(101) = %v, %v", v, err)
	}
	// Values keep their meaning through JSON: an angle goes as radians
	// and comes back to the same step; a bool stays a bool.
	a := circuit.ClassType{Kind: circuit.ClassAngle, Width: 10}
	if v, err := p.Call("echo", []circuit.Value{{Type: a, U: 333}}, &a); err != nil || v.U != 333 {
		t.Fatalf("echo(angle 333) = %v, %v", v, err)
	}
	if v, err := p.Call("echo", []circuit.Value{circuit.BoolValue(true)}, &circuit.Bool); err != nil || !v.Truth() {
		t.Fatalf("echo(true) = %v, %v", v, err)
	}
	if _, err := p.Call("log", []circuit.Value{circuit.BoolValue(true)}, nil); err != nil {
		t.Fatalf("log: %v", err)
	}
	if _, err := p.Call("nope", nil, &i32); err == nil || !strings.Contains(err.Error(), "no function nope") {
		t.Fatalf("an unknown function: %v", err)
	}
	if _, err := p.Call("log", nil, &i32); err == nil || !strings.Contains(err.Error(), "no value") {
		t.Fatalf("an answer without the value due: %v", err)
	}
	if p.Calls() != 7 {
		t.Errorf("%d calls counted, want 7", p.Calls())
	}
}

func TestBadHosts(t *testing.T) {
	i32 := circuit.ClassType{Kind: circuit.ClassInt, Width: 32}
	if _, err := start(t, "garbage").Call("f", nil, &i32); err == nil || !strings.Contains(err.Error(), "malformed answer") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := start(t, "exit").Call("f", nil, &i32); err == nil || !strings.Contains(err.Error(), "host") {
		t.Errorf("a host that exits: %v", err)
	}
	if _, err := host.Start(t.Context(), ""); err == nil {
		t.Error("an empty command starts")
	}
	if _, err := host.Start(t.Context(), "/nonexistent/host-program"); err == nil {
		t.Error("a missing program starts")
	}
	p := start(t, "silent")
	p.SetTimeout(200 * time.Millisecond)
	if _, err := p.Call("f", nil, &i32); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("a silent host: %v", err)
	}
	if _, err := p.Call("f", nil, &i32); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a host that timed out is closed: %v", err)
	}
}

func TestDecodeValue(t *testing.T) {
	for in, want := range map[string]string{`3`: "3", `-2`: "-2", `true`: "true", `"0110"`: `"0110"`, `2.5`: "2.5"} {
		v, err := host.DecodeValue(json.RawMessage(in))
		if err != nil || v.String() != want {
			t.Errorf("DecodeValue(%s) = %v, %v; want %s", in, v, err, want)
		}
	}
	for _, bad := range []string{`"012"`, `""`, `{}`, `[1]`, `1e999`, `nul`} {
		if _, err := host.DecodeValue(json.RawMessage(bad)); err == nil {
			t.Errorf("DecodeValue(%s): no error", bad)
		}
	}
}

// FuzzAnswer: any answer line decodes into a value of the declared type or
// an error, never a panic.
func FuzzAnswer(f *testing.F) {
	for _, s := range []string{`{"value": 3}`, `{"value": "0101"}`, `{"value": true}`, `{"error": "no"}`, `{}`, `{"value": 1e400}`, `not json`} {
		f.Add(s)
	}
	types := []circuit.ClassType{{Kind: circuit.ClassInt, Width: 8}, {Kind: circuit.ClassAngle, Width: 12}, circuit.Bool, circuit.Float64, {Kind: circuit.ClassBit, Width: 3}}
	f.Fuzz(func(t *testing.T, line string) {
		for _, ty := range types {
			v, err := host.DecodeAnswer("f", []byte(line), &ty)
			if err == nil && v.Type != ty {
				t.Fatalf("%q as %s gave a %s", line, ty, v.Type)
			}
		}
	})
}
