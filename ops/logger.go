package ops

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"
)

// LogFormats lists the accepted log formats: "auto" (JSON unless the
// writer is a terminal, text on a terminal), "json" and "text".
func LogFormats() []string { return []string{"auto", "json", "text"} }

// ParseLogLevel parses a level name: debug, info, warn or error (any
// case; slog's offsets such as "info+2" too).
func ParseLogLevel(s string) (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return lv, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// NewLogger returns a structured logger writing to w: JSON lines when w
// is not a terminal and format is "auto" (or empty), text on a terminal;
// "json" and "text" force the format. level is a ParseLogLevel name
// (empty: info).
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	lv := slog.LevelInfo
	if level != "" {
		var err error
		if lv, err = ParseLogLevel(level); err != nil {
			return nil, fmt.Errorf("ops: %w", err)
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto", "":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("ops: log format %q: want auto, json or text", format)
}
