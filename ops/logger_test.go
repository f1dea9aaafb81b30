package ops

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestLoggerFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		json   bool
	}{{"auto", true}, {"", true}, {"json", true}, {"JSON", true}, {"text", false}} {
		var buf bytes.Buffer
		log, err := NewLogger(&buf, tc.format, "info")
		if err != nil {
			t.Fatal(err)
		}
		log.Info("hello", "k", 1)
		var rec map[string]any
		isJSON := json.Unmarshal(buf.Bytes(), &rec) == nil
		if isJSON != tc.json {
			t.Errorf("format %q: %q, want JSON %v", tc.format, buf.String(), tc.json)
		}
		if !tc.json && !strings.Contains(buf.String(), "msg=hello k=1") {
			t.Errorf("text format: %q", buf.String())
		}
	}
}

func TestLoggerLevel(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "json", "WARN")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("quiet")
	log.Warn("loud")
	if s := buf.String(); strings.Contains(s, "quiet") || !strings.Contains(s, "loud") {
		t.Fatalf("level warn wrote %q", s)
	}
	if _, err := NewLogger(&buf, "xml", "info"); err == nil || !strings.Contains(err.Error(), `log format "xml"`) {
		t.Fatalf("bad format: %v", err)
	}
	if _, err := NewLogger(&buf, "json", "loud"); err == nil || !strings.Contains(err.Error(), `log level "loud"`) {
		t.Fatalf("bad level: %v", err)
	}
}

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("unlockpt: %v", e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func TestLoggerAutoOnATerminal(t *testing.T) {
	m, s := openPTY(t)
	log, err := NewLogger(s, "auto", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello")
	buf := make([]byte, 4096)
	n, err := m.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	out := string(buf[:n])
	if strings.HasPrefix(out, "{") || !strings.Contains(out, "msg=hello") {
		t.Fatalf("auto on a terminal wrote %q, want text", out)
	}
	// Forced JSON on the same terminal.
	log, err = NewLogger(s, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello")
	if n, err = m.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "{") {
		t.Fatalf("json on a terminal wrote %q (%v)", buf[:n], err)
	}
}
