// Package sysinfo tells what the operating system says about this machine
// that mec records or keys caches on: the CPU's model name, and the size of
// a core's L2 cache (what the CPU backend sizes its cache blocking by).
//
// Layer: a shared leaf; it imports only the standard library.
package sysinfo

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
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

// L2Bytes returns the size in bytes of the level-2 cache of CPU 0 (on the
// CPUs mec runs on, one core's), as Linux's sysfs cache description says,
// or 0 where it does not tell.
func L2Bytes() int {
	dirs, err := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index*")
	if err != nil {
		return 0
	}
	for _, d := range dirs {
		level, _ := os.ReadFile(filepath.Join(d, "level"))
		typ, _ := os.ReadFile(filepath.Join(d, "type"))
		size, _ := os.ReadFile(filepath.Join(d, "size"))
		if strings.TrimSpace(string(level)) == "2" && strings.TrimSpace(string(typ)) != "Instruction" {
			return cacheSize(string(size))
		}
	}
	return 0
}

// cacheSize parses a sysfs cache size such as "2048K" or "1M" into bytes;
// 0 when it is not one.
func cacheSize(s string) int {
	s = strings.TrimSpace(s)
	mul := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mul, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1<<20 {
		return 0
	}
	return n * mul
}
