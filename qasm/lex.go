package qasm

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in the source: 1-based line and column (in characters).
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is a parse or elaboration error at a source position.
type Error struct {
	File string // empty for sources parsed from memory
	Pos  Pos
	Msg  string
	// Err is the cause, when there is one: a *LimitError, or the
	// context's error when parsing was cancelled.
	Err error
}

// Unwrap returns the cause (nil for plain syntax and semantic errors).
func (e *Error) Unwrap() error { return e.Err }

// Error formats the error as file:line:col: message.
func (e *Error) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%s: %s", e.File, e.Pos, e.Msg)
	}
	return fmt.Sprintf("qasm: %s: %s", e.Pos, e.Msg)
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tFloat
	tString
	tPunct    // operators and punctuation; text holds the symbol
	tDuration // a duration literal: 100ns, 1.5us, 2µs, 3ms, 1s, 10dt
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of file"
	case tIdent:
		return "identifier"
	case tInt:
		return "integer"
	case tFloat:
		return "number"
	case tString:
		return "string"
	case tDuration:
		return "duration"
	}
	return "symbol"
}

type token struct {
	kind tokKind
	text string
	pos  Pos
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits source text into tokens, skipping whitespace and comments.
type lexer struct {
	src  string
	off  int
	line int
	col  int
	file string
	// lineStart is set while only whitespace precedes the position on its
	// line; notice receives the directives skipped there.
	lineStart bool
	notice    func(msg string)
}

func newLexer(src, file string) *lexer {
	return &lexer{src: src, line: 1, col: 1, file: file, lineStart: true}
}

// skipDirective skips a #pragma or pragma line or an @annotation line at
// the start of a line (OpenQASM 3: a simulator may ignore both) and
// reports whether it did.
func (l *lexer) skipDirective() bool {
	rest := l.src[l.off:]
	var what string
	switch {
	case strings.HasPrefix(rest, "#pragma"):
		what = "#pragma"
	case strings.HasPrefix(rest, "pragma ") || strings.HasPrefix(rest, "pragma\t"):
		what = "pragma"
	case len(rest) > 1 && rest[0] == '@' && isIdentStart(rune(rest[1])):
		what = "annotation"
	default:
		return false
	}
	end := strings.IndexByte(rest, '\n')
	if end < 0 {
		end = len(rest)
	}
	if l.notice != nil {
		l.notice(fmt.Sprintf("%s:%d: %s ignored: %s", l.file, l.line, what, strings.TrimSpace(rest[:end])))
	}
	l.advance(end)
	return true
}

func (l *lexer) errf(p Pos, format string, a ...any) error {
	return &Error{File: l.file, Pos: p, Msg: fmt.Sprintf(format, a...)}
}

func (l *lexer) peekRune() (rune, int) {
	if l.off >= len(l.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(l.src[l.off:])
}

func (l *lexer) advance(n int) {
	for _, r := range l.src[l.off : l.off+n] {
		if r == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
	l.off += n
}

// three- and two-character symbols, longest first.
var symbols = []string{"**=", "<<=", ">>=", "**", "->", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "++",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "~="}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isIdentStart(r rune) bool { return r == '_' || r == '$' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return isIdentStart(r) || unicode.IsDigit(r) }

func (l *lexer) next() (token, error) {
	// skip whitespace and comments
	for {
		r, n := l.peekRune()
		switch {
		case r == utf8.RuneError && n == 1:
			return token{}, l.errf(Pos{l.line, l.col}, "invalid UTF-8 in source")
		case r == '\n':
			l.advance(n)
			l.lineStart = true
			continue
		case r == ' ' || r == '\t' || r == '\r' || r == '\f' || r == '\v':
			l.advance(n)
			continue
		case l.lineStart && l.skipDirective():
			continue
		case strings.HasPrefix(l.src[l.off:], "//"):
			end := strings.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				end = len(l.src) - l.off
			}
			l.advance(end)
			continue
		case strings.HasPrefix(l.src[l.off:], "/*"):
			p := Pos{l.line, l.col}
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return token{}, l.errf(p, "unterminated block comment")
			}
			l.advance(end + 4)
			continue
		}
		break
	}
	p := Pos{l.line, l.col}
	r, n := l.peekRune()
	if r < 0 {
		return token{kind: tEOF, pos: p}, nil
	}
	l.lineStart = false
	start := l.off
	switch {
	case isIdentStart(r):
		for {
			r, n := l.peekRune()
			if r < 0 || !isIdentPart(r) {
				break
			}
			l.advance(n)
		}
		return token{kind: tIdent, text: l.src[start:l.off], pos: p}, nil
	case r >= '0' && r <= '9' || r == '.' && l.off+1 < len(l.src) && l.src[l.off+1] >= '0' && l.src[l.off+1] <= '9':
		return l.number(p)
	case r == '"' || r == '\'':
		l.advance(1)
		end := strings.IndexAny(l.src[l.off:], string(r)+"\n")
		if end < 0 || l.src[l.off+end] == '\n' {
			return token{}, l.errf(p, "unterminated string")
		}
		s := l.src[l.off : l.off+end]
		l.advance(end + 1)
		return token{kind: tString, text: s, pos: p}, nil
	}
	for _, s := range symbols {
		if strings.HasPrefix(l.src[l.off:], s) {
			l.advance(len(s))
			return token{kind: tPunct, text: s, pos: p}, nil
		}
	}
	if r == '#' && strings.HasPrefix(l.src[l.off:], "#dim") {
		// array[T, #dim=k] in a subroutine parameter.
		l.advance(1)
		return token{kind: tPunct, text: "#", pos: p}, nil
	}
	if strings.ContainsRune(";,()[]{}@=+-*/^%:<>!~&|.", r) {
		l.advance(n)
		return token{kind: tPunct, text: string(r), pos: p}, nil
	}
	return token{}, l.errf(p, "unexpected character %q", r)
}

func (l *lexer) number(p Pos) (token, error) {
	start := l.off
	digits := func() int {
		c := 0
		for l.off < len(l.src) && (l.src[l.off] >= '0' && l.src[l.off] <= '9' || l.src[l.off] == '_' && c > 0) {
			l.advance(1)
			c++
		}
		return c
	}
	kind := tInt
	if l.off+1 < len(l.src) && l.src[l.off] == '0' && strings.ContainsRune("xXbBoO", rune(l.src[l.off+1])) {
		// 0x1f, 0b101, 0o17: integers in base 16, 2 and 8.
		l.advance(2)
		d := 0
		for l.off < len(l.src) && (isHexDigit(l.src[l.off]) || l.src[l.off] == '_' && d > 0) {
			l.advance(1)
			d++
		}
		text := strings.ReplaceAll(l.src[start:l.off], "_", "")
		v, err := strconv.ParseUint(text[2:], map[byte]int{'x': 16, 'X': 16, 'b': 2, 'B': 2, 'o': 8, 'O': 8}[text[1]], 64)
		if d == 0 || err != nil {
			return token{}, l.errf(p, "malformed number %q", l.src[start:l.off])
		}
		return token{kind: tInt, text: strconv.FormatUint(v, 10), pos: p}, nil
	}
	digits()
	if l.off < len(l.src) && l.src[l.off] == '.' {
		kind = tFloat
		l.advance(1)
		digits()
	}
	if l.off < len(l.src) && (l.src[l.off] == 'e' || l.src[l.off] == 'E') {
		kind = tFloat
		l.advance(1)
		if l.off < len(l.src) && (l.src[l.off] == '+' || l.src[l.off] == '-') {
			l.advance(1)
		}
		if digits() == 0 {
			return token{}, l.errf(p, "malformed number %q", l.src[start:l.off])
		}
	}
	for _, unit := range []string{"ns", "us", "µs", "ms", "dt", "s"} {
		if strings.HasPrefix(l.src[l.off:], unit) {
			rest := l.src[l.off+len(unit):]
			if r, _ := utf8.DecodeRuneInString(rest); rest == "" || !isIdentPart(r) {
				l.advance(len(unit))
				return token{kind: tDuration, text: strings.ReplaceAll(l.src[start:l.off], "_", ""), pos: p}, nil
			}
		}
	}
	if r, _ := l.peekRune(); r >= 0 && isIdentStart(r) {
		return token{}, l.errf(p, "malformed number %q", l.src[start:l.off+1])
	}
	return token{kind: kind, text: strings.ReplaceAll(l.src[start:l.off], "_", ""), pos: p}, nil
}
