package sysinfo

import (
	"bufio"
	"strings"
	"testing"
)

func TestModelName(t *testing.T) {
	in := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nmodel name\t: other\n"
	if got, want := modelName(bufio.NewScanner(strings.NewReader(in))), "Intel(R) Xeon(R) CPU @ 2.20GHz"; got != want {
		t.Fatalf("modelName = %q, want %q", got, want)
	}
	if got := modelName(bufio.NewScanner(strings.NewReader("processor: 0\n"))); got != "" {
		t.Fatalf("modelName without the line = %q, want \"\"", got)
	}
}
