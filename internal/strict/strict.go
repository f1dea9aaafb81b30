// Package strict decodes configuration and input documents strictly:
// unknown keys are errors, so are trailing data and a second document, and
// every error names the line (and, for JSON, the column) where it was
// found. Every configuration and input file mec reads goes through it.
//
// Layer: shared leaf. It imports no other mec package.
package strict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrEmpty is returned (wrapped) by YAML for a document with no content;
// callers that take an empty file as "no changes" test for it.
var ErrEmpty = errors.New("empty document")

// JSON decodes one JSON value into v. Unknown object keys, trailing data
// and syntax or type errors are errors of the form "line L, column C: …".
func JSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("empty JSON document")
		case errors.As(err, &se):
			off = se.Offset - 1 // the offending character
		case errors.As(err, &te):
			off = te.Offset - 1 // the value's last character
			if te.Field != "" {
				err = fmt.Errorf("key %q: %s value where %s is expected", te.Field, te.Value, te.Type)
			}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			// The decoder reports no offset: point at the key's first
			// occurrence.
			key := strings.TrimPrefix(err.Error(), "json: unknown field ")
			if i := bytes.Index(data, []byte(key)); i >= 0 {
				off = int64(i)
			}
		}
		return fmt.Errorf("%s: %w", position(data, off), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: data after the JSON value", position(data, dec.InputOffset()-1))
	}
	return nil
}

// YAML decodes one YAML document into v. Unknown keys and a second
// document are errors (yaml's messages name the line); a document with no
// content returns an error wrapping ErrEmpty and leaves v unchanged.
func YAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("YAML: %w", ErrEmpty)
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return err
		}
		return fmt.Errorf("line %d: a second YAML document (a file holds one)", extra.Line)
	}
	return nil
}

// position formats a byte offset of data as "line L, column C" (1-based,
// columns in bytes).
func position(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("line %d, column %d", line, col)
}
