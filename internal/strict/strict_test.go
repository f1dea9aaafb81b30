package strict_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/prismai/mec/internal/strict"
)

type doc struct {
	Name  string `json:"name" yaml:"name"`
	Count int    `json:"count" yaml:"count"`
	Inner struct {
		On bool `json:"on" yaml:"on"`
	} `json:"inner" yaml:"inner"`
}

// TestJSON: good documents decode; unknown keys, type errors, syntax
// errors and trailing data are errors naming the line and column.
func TestJSON(t *testing.T) {
	var d doc
	if err := strict.JSON([]byte(`{"name": "a", "count": 2, "inner": {"on": true}}`), &d); err != nil || d.Count != 2 || !d.Inner.On {
		t.Fatalf("good document: %+v, %v", d, err)
	}
	for src, want := range map[string]string{
		"{\n  \"name\": \"a\",\n  \"colour\": 1\n}": `line 3, column 3: json: unknown field "colour"`,
		"{\n  \"inner\": {\"off\": 1}\n}":           `unknown field "off"`,
		"{\n  \"count\": \"many\"\n}":               `line 2, column 17: key "count": string value where int is expected`,
		"{\n  \"count\": 1,,\n}":                    "line 2, column 14: invalid character ','",
		`{"count": 1} {"count": 2}`:                 "line 1, column 14: data after the JSON value",
		"":                                          "empty JSON document",
	} {
		err := strict.JSON([]byte(src), &doc{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}

// TestYAML: unknown keys name their line; a second document is an error;
// an empty document wraps ErrEmpty.
func TestYAML(t *testing.T) {
	var d doc
	if err := strict.YAML([]byte("name: a\ncount: 3\ninner:\n  on: true\n"), &d); err != nil || d.Count != 3 || !d.Inner.On {
		t.Fatalf("good document: %+v, %v", d, err)
	}
	for src, want := range map[string]string{
		"name: a\ncolour: red\n":  "line 2: field colour not found",
		"count: x\n":              "line 1: cannot unmarshal",
		"name: a\n---\nname: b\n": "line 2: a second YAML document",
	} {
		err := strict.YAML([]byte(src), &doc{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	if err := strict.YAML([]byte("# nothing\n"), &d); !errors.Is(err, strict.ErrEmpty) {
		t.Errorf("empty document: %v", err)
	}
}
