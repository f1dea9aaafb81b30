package ops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// MaxConfigBytes bounds a configuration file.
const MaxConfigBytes = 1 << 20

// OriginKind says which layer set a configuration value.
type OriginKind int

// The layers, lowest precedence first.
const (
	OriginDefault OriginKind = iota // the program's default
	OriginFile                      // the YAML file
	OriginEnv                       // an environment variable
	OriginFlag                      // a command-line flag
)

// Origin is where a configuration value came from.
type Origin struct {
	Kind OriginKind
	// File, Line and Column locate a value from the file.
	File         string
	Line, Column int
	// Name is the environment variable or the flag (without dashes).
	Name string
}

// String writes the origin as "node.yaml:12:7", "env MEC_NODE_DATA",
// "--data" or "default".
func (o Origin) String() string {
	switch o.Kind {
	case OriginFile:
		if o.Column > 0 {
			return fmt.Sprintf("%s:%d:%d", o.File, o.Line, o.Column)
		}
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	case OriginEnv:
		return "env " + o.Name
	case OriginFlag:
		return "--" + o.Name
	}
	return "default"
}

// Origins maps each key (its dotted YAML path, e.g. "http.listen") to
// where its value came from; keys left at their defaults are absent.
type Origins map[string]Origin

// Of returns the origin of key (OriginDefault when it was not set).
func (o Origins) Of(key string) Origin { return o[key] }

// Set reports whether key was set by a file, the environment or a flag.
func (o Origins) Set(key string) bool {
	_, ok := o[key]
	return ok
}

// FieldError is a configuration error about one key: it names the key
// and where its value came from.
type FieldError struct {
	Key    string
	Origin Origin
	Err    error
}

// Error writes "ORIGIN: KEY: problem" ("KEY (default): problem" for a
// default value).
func (e *FieldError) Error() string {
	if e.Origin.Kind == OriginDefault {
		return fmt.Sprintf("%s (default): %v", e.Key, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Origin, e.Key, e.Err)
}

// Unwrap returns the problem.
func (e *FieldError) Unwrap() error { return e.Err }

// Layers are the sources Load reads, in increasing precedence: a YAML
// file, the environment, then command-line flags.
type Layers struct {
	// File names the YAML file ("" for none). Its contents are Data when
	// Data is not nil, else read from the path.
	File string
	Data []byte
	// LookupEnv reads the environment (os.LookupEnv; nil: no
	// environment layer). Empty variables count as unset.
	LookupEnv func(string) (string, bool)
	// Flags are the flags given on the command line, by name without
	// dashes (ChangedFlags of a pflag.FlagSet). Flags that set no
	// configuration key (--config itself, --backend, …) are ignored.
	Flags map[string]string
}

// ChangedFlags returns the flags of fs that were set on the command line,
// for Layers.Flags. Slice flags are joined with commas.
func ChangedFlags(fs *pflag.FlagSet) map[string]string {
	out := map[string]string{}
	if fs == nil {
		return out
	}
	fs.Visit(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			out[f.Name] = strings.Join(sv.GetSlice(), ",")
			return
		}
		out[f.Name] = f.Value.String()
	})
	return out
}

// field is one settable leaf of a configuration struct.
type field struct {
	key       string // dotted YAML path
	index     []int  // reflect field index path
	env, flag string
	typ       reflect.Type
}

var durationType = reflect.TypeFor[time.Duration]()

// leafKind reports whether t is a supported leaf type.
func leafKind(t reflect.Type) bool {
	if t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// yamlName returns a field's YAML key ("" to skip the field).
func yamlName(sf reflect.StructField) string {
	tag, ok := sf.Tag.Lookup("yaml")
	if !ok || !sf.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	return name
}

// Fields lists the settable keys of a configuration struct type with
// their environment variables and flags (for documentation and tests):
// exported fields with a `yaml:"key"` tag, nested structs as
// "outer.inner", leaves of type string, bool, int, int64, uint64,
// float64, time.Duration or []string with optional `env:"VAR"` and
// `flag:"name"` tags.
func Fields(cfg any) ([]FieldInfo, error) {
	t := reflect.TypeOf(cfg)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("ops: config: %T is not a struct", cfg)
	}
	fs, err := fieldsOf(t, "", nil)
	if err != nil {
		return nil, err
	}
	out := make([]FieldInfo, len(fs))
	for i, f := range fs {
		out[i] = FieldInfo{Key: f.key, Env: f.env, Flag: f.flag, Type: f.typ.String()}
	}
	return out, nil
}

// FieldInfo describes one configuration key.
type FieldInfo struct {
	Key, Env, Flag, Type string
}

func fieldsOf(t reflect.Type, prefix string, index []int) ([]field, error) {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name := yamlName(sf)
		if name == "" {
			continue
		}
		key := prefix + name
		idx := append(slices.Clone(index), i)
		switch {
		case leafKind(sf.Type):
			out = append(out, field{key: key, index: idx, env: sf.Tag.Get("env"), flag: sf.Tag.Get("flag"), typ: sf.Type})
		case sf.Type.Kind() == reflect.Struct:
			sub, err := fieldsOf(sf.Type, key+".", idx)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		default:
			return nil, fmt.Errorf("ops: config: key %s: unsupported type %v", key, sf.Type)
		}
	}
	return out, nil
}

// Load fills the struct that cfg points to from the layers: the YAML file
// first, then the environment, then the flags (flags > env > file);
// what no layer sets keeps the value cfg had (the defaults). The file is
// decoded strictly: an unknown or repeated key, a value of the wrong
// type, or a second document is an error naming the key and its line.
// Every error is a *FieldError (or several, joined) or names the file.
// Load returns where each key that was set came from.
func Load(cfg any, l Layers) (Origins, error) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("ops: config: Load needs a pointer to a struct, not %T", cfg)
	}
	fields, err := fieldsOf(v.Elem().Type(), "", nil)
	if err != nil {
		return nil, err
	}
	origins := Origins{}
	if l.File != "" || l.Data != nil {
		data := l.Data
		name := l.File
		if name == "" {
			name = "config"
		}
		if data == nil {
			if data, err = readConfigFile(l.File); err != nil {
				return nil, err
			}
		}
		if err := decodeFile(v.Elem(), name, data, origins); err != nil {
			return nil, err
		}
	}
	var errs []error
	if l.LookupEnv != nil {
		for _, f := range fields {
			if f.env == "" {
				continue
			}
			s, ok := l.LookupEnv(f.env)
			if !ok || s == "" {
				continue
			}
			o := Origin{Kind: OriginEnv, Name: f.env}
			if err := setString(v.Elem().FieldByIndex(f.index), s); err != nil {
				errs = append(errs, &FieldError{Key: f.key, Origin: o, Err: err})
				continue
			}
			origins[f.key] = o
		}
	}
	for _, f := range fields {
		if f.flag == "" {
			continue
		}
		s, ok := l.Flags[f.flag]
		if !ok {
			continue
		}
		o := Origin{Kind: OriginFlag, Name: f.flag}
		if err := setString(v.Elem().FieldByIndex(f.index), s); err != nil {
			errs = append(errs, &FieldError{Key: f.key, Origin: o, Err: err})
			continue
		}
		origins[f.key] = o
	}
	if len(errs) > 0 {
		return origins, errors.Join(errs...)
	}
	return origins, nil
}

// readConfigFile reads at most MaxConfigBytes of path.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ops: config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ops: config: reading %s: %w", path, err)
	}
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("ops: config: %s is larger than %d bytes", path, MaxConfigBytes)
	}
	return data, nil
}

// decodeFile applies a YAML document to the struct v.
func decodeFile(v reflect.Value, file string, data []byte, origins Origins) error {
	if len(data) > MaxConfigBytes {
		return fmt.Errorf("ops: config: %s is larger than %d bytes", file, MaxConfigBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file sets nothing
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return fmt.Errorf("%s:%d: a second YAML document: the configuration is one document", file, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d:%d: the configuration must be a mapping of keys, not %s", file, root.Line, root.Column, kindName(root))
	}
	var errs []error
	walkMapping(v, root, file, "", origins, &errs)
	return errors.Join(errs...)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// walkMapping applies the mapping node m to the struct v (key prefix p).
func walkMapping(v reflect.Value, m *yaml.Node, file, p string, origins Origins, errs *[]error) {
	t := v.Type()
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, val := m.Content[i], m.Content[i+1]
		at := Origin{Kind: OriginFile, File: file, Line: k.Line, Column: k.Column}
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			*errs = append(*errs, fmt.Errorf("%s: keys must be plain names (no merge keys or complex keys)", at))
			continue
		}
		key := p + k.Value
		if line, dup := seen[k.Value]; dup {
			*errs = append(*errs, fmt.Errorf("%s: key %q repeated (first at line %d)", at, key, line))
			continue
		}
		seen[k.Value] = k.Line
		idx := -1
		for j := range t.NumField() {
			if yamlName(t.Field(j)) == k.Value {
				idx = j
				break
			}
		}
		if idx < 0 {
			*errs = append(*errs, fmt.Errorf("%s: unknown key %q (known%s: %s)", at, key, inWhat(p), strings.Join(knownKeys(t), ", ")))
			continue
		}
		if val.Kind == yaml.AliasNode && val.Alias != nil {
			val = val.Alias
		}
		if isNull(val) {
			continue
		}
		fv := v.Field(idx)
		if !leafKind(fv.Type()) {
			if val.Kind != yaml.MappingNode {
				*errs = append(*errs, &FieldError{Key: key, Origin: at, Err: fmt.Errorf("want a mapping, not %s", kindName(val))})
				continue
			}
			walkMapping(fv, val, file, key+".", origins, errs)
			continue
		}
		vo := Origin{Kind: OriginFile, File: file, Line: val.Line, Column: val.Column}
		if err := setNode(fv, val); err != nil {
			*errs = append(*errs, &FieldError{Key: key, Origin: vo, Err: err})
			continue
		}
		origins[key] = vo
	}
}

func inWhat(p string) string {
	if p == "" {
		return ""
	}
	return " in " + strings.TrimSuffix(p, ".")
}

func knownKeys(t reflect.Type) []string {
	var ks []string
	for j := range t.NumField() {
		if n := yamlName(t.Field(j)); n != "" {
			ks = append(ks, n)
		}
	}
	return ks
}

// setNode sets a leaf from a YAML node: a scalar, or for []string a list
// of scalars (or one comma-separated scalar).
func setNode(fv reflect.Value, n *yaml.Node) error {
	if fv.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode {
		items := make([]string, 0, len(n.Content))
		for _, it := range n.Content {
			if it.Kind == yaml.AliasNode && it.Alias != nil {
				it = it.Alias
			}
			if it.Kind != yaml.ScalarNode || isNull(it) {
				return fmt.Errorf("line %d: list items must be strings, not %s", it.Line, kindName(it))
			}
			items = append(items, strings.TrimSpace(it.Value))
		}
		fv.Set(reflect.ValueOf(items))
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want %s, not %s", typeName(fv.Type()), kindName(n))
	}
	if fv.Kind() == reflect.String && n.Tag != "!!str" {
		// A number or boolean where a string is wanted is taken as written.
		fv.SetString(n.Value)
		return nil
	}
	return setString(fv, n.Value)
}

func typeName(t reflect.Type) string {
	if t == durationType {
		return "a duration (e.g. 1.5s)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Uint64:
		return "an integer ≥ 0"
	case reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list of strings"
	}
	return t.String()
}

// setString parses s into the leaf fv (the environment and flag syntax:
// lists are comma-separated).
func setString(fv reflect.Value, s string) error {
	bad := func() error { return fmt.Errorf("want %s, not %q", typeName(fv.Type()), s) }
	if fv.Type() == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return bad()
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return bad()
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, fv.Type().Bits())
		if err != nil {
			return bad()
		}
		fv.SetInt(i)
	case reflect.Uint64:
		u, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return bad()
		}
		fv.SetUint(u)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return bad()
		}
		fv.SetFloat(f)
	case reflect.Slice:
		var items []string
		for it := range strings.SplitSeq(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		fv.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %v", fv.Type())
	}
	return nil
}
