// Package sysinfo tells what the operating system says about this machine
// that mec records or keys caches on: the CPU's model name.
//
// Layer: a shared leaf; it imports only the standard library.
package sysinfo

import (
	"bufio"
	"os"
	"strings"
)

// CPUModel returns the CPU's model name as the operating system reports it
// (the first "model name" line of Linux's /proc/cpuinfo), or "" where it
// does not tell.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	return modelName(bufio.NewScanner(f))
}

// modelName returns the value of the first "model name" line of sc.
func modelName(sc *bufio.Scanner) string {
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
