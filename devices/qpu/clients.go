package qpu

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// MinTokenLength is the shortest bearer token a clients file may give.
const MinTokenLength = 16

// ReadClientsFile reads the clients of `mec serve qpu --clients FILE`: one
// client per line, its name and its bearer token separated by white space;
// blank lines and lines starting with # are ignored:
//
//	# name   token
//	alice    3f9c0a7e5b1d4c2a8e6f0b9d7c5a3e1f
//	lab-pc   b8e2d4f6a0c1e3b5d7f9a2c4e6b8d0f1
//
// Names are 1 to 64 of [A-Za-z0-9._-]; tokens at least MinTokenLength
// characters without white space; both unique. Like a token file, the file
// must be readable by its owner only (chmod 600); tokens never appear in
// errors. A job belongs to the client whose token created it.
func ReadClientsFile(path string) (map[string]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("qpu: clients file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("qpu: clients file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("qpu: clients file %s has permissions %#o; refusing it: make it readable by its owner only (chmod 600)", path, perm)
	}
	if st.Size() > 1<<20 {
		return nil, fmt.Errorf("qpu: clients file %s is larger than 1 MiB", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("qpu: clients file: %w", err)
	}
	clients := map[string]string{}
	byToken := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("qpu: clients file %s line %d: want NAME TOKEN (%d fields)", path, n, len(f))
		}
		name, tok := f[0], f[1]
		if err := checkClient(name, tok); err != nil {
			return nil, fmt.Errorf("qpu: clients file %s line %d: %w", path, n, err)
		}
		if _, dup := clients[name]; dup {
			return nil, fmt.Errorf("qpu: clients file %s line %d: client %q listed twice", path, n, name)
		}
		if other, dup := byToken[tok]; dup {
			return nil, fmt.Errorf("qpu: clients file %s line %d: client %q has the same token as %q", path, n, name, other)
		}
		clients[name], byToken[tok] = tok, name
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("qpu: clients file %s: %w", path, err)
	}
	if len(clients) == 0 {
		return nil, fmt.Errorf("qpu: clients file %s lists no client", path)
	}
	return clients, nil
}

// checkClient checks a client name and token (the token is never shown).
func checkClient(name, token string) error {
	if name == "" || len(name) > 64 || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
		return fmt.Errorf("client name %q: want 1 to 64 of A-Z a-z 0-9 . _ -", truncate(name, 64))
	}
	if len(token) < MinTokenLength || strings.ContainsAny(token, " \t\r\n") {
		return fmt.Errorf("client %q: the token must be at least %d characters without white space", name, MinTokenLength)
	}
	return nil
}
