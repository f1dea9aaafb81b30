// Package sysinfo tells what the operating system says about this machine
// that mec records or keys caches on: the CPU's model name, and the size of
// a core's L2 cache (what the CPU backend sizes its cache blocking by).
//
// Layer: a shared leaf; it imports only the standard library.
package sysinfo

import (
	"bufio"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
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

// L2Bytes returns the share of one core in the level-2 cache of CPU 0, in
// bytes (the cache's size over the number of CPUs in its shared_cpu_list),
// as Linux's sysfs cache description says, or 0 where it does not tell.
// sysfs is read once per process.
func L2Bytes() int { return l2Bytes() }

var l2Bytes = sync.OnceValue(func() int { return l2From(os.DirFS("/sys/devices/system/cpu/cpu0/cache")) })

// l2From reads the level-2 data or unified cache's size and sharing from
// a sysfs cache directory (index0, index1, …); 0 where it does not tell.
func l2From(fsys fs.FS) int {
	dirs, err := fs.Glob(fsys, "index*")
	if err != nil {
		return 0
	}
	for _, d := range dirs {
		level, _ := fs.ReadFile(fsys, d+"/level")
		typ, _ := fs.ReadFile(fsys, d+"/type")
		if strings.TrimSpace(string(level)) != "2" || strings.TrimSpace(string(typ)) == "Instruction" {
			continue
		}
		size, _ := fs.ReadFile(fsys, d+"/size")
		b := cacheSize(string(size))
		shared, err := fs.ReadFile(fsys, d+"/shared_cpu_list")
		if n := cpuCount(string(shared)); err == nil && n > 1 {
			b /= n
		}
		return b
	}
	return 0
}

// cpuCount counts the CPUs of a sysfs CPU list such as "0-3,8" (0 when it
// is not one).
func cpuCount(s string) int {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a || b-a > 1<<16 {
			return 0
		}
		n += b - a + 1
	}
	return n
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
