package scheduler

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// The structural walk of a configuration's YAML: a generic walker over the
// YAML syntax tree, guided by the Go types of Config through reflection
// and their yaml tags, that reports unknown fields and values of the wrong
// type with their lines, and resolves aliases and merge keys.

type walker struct {
	anchors  map[string]ast.Node
	lines    map[string]int // field path -> line
	problems []ConfigProblem
	fatal    bool // a problem that makes decoding pointless (a wrong type)
	unknown  bool // at least one unknown field
}

type anchorCollector map[string]ast.Node

func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if an, ok := n.(*ast.AnchorNode); ok && an.Name != nil && an.Name.GetToken() != nil {
		a[an.Name.GetToken().Value] = an.Value
	}
	return a
}

func (w *walker) add(path string, line int, fatal bool, format string, args ...any) {
	w.problems = append(w.problems, ConfigProblem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
	if fatal {
		w.fatal = true
	}
}

// nodeLine is the line a node starts on, 0 if unknown.
func nodeLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 && m.Values[0].Key != nil {
		n = m.Values[0].Key
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// resolve follows anchors, aliases and tags to the node holding the value.
// On failure it returns the alias it could not resolve.
func (w *walker) resolve(n ast.Node) (ast.Node, bool) {
	for range 32 {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		case *ast.AliasNode:
			if x.Value == nil || x.Value.GetToken() == nil {
				return n, false
			}
			target, ok := w.anchors[x.Value.GetToken().Value]
			if !ok {
				return n, false
			}
			n = target
		default:
			return n, true
		}
	}
	return n, false
}

func describe(n ast.Node) string {
	switch x := n.(type) {
	case nil:
		return "of type null"
	case *ast.AliasNode:
		if x.Value != nil && x.Value.GetToken() != nil {
			return strconv.Quote("*" + x.Value.GetToken().Value)
		}
		return "of type alias"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "of type mapping"
	case *ast.SequenceNode:
		return "of type list"
	}
	if tk := n.GetToken(); tk != nil {
		return strconv.Quote(tk.Value)
	}
	return "of type " + n.Type().String()
}

func joinPath(path, key string) string {
	if !isToken(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields returns the yaml field names of a struct type, in order.
func yamlFields(t reflect.Type) (names []string, index map[string]int) {
	index = map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := k.(ast.ScalarNode); ok {
		if v := s.GetValue(); v != nil {
			return fmt.Sprint(v)
		}
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

// walk checks node n against Go type t at the given path. line is where
// the value is written (the key's line for a field); 0 means n's own.
func (w *walker) walk(n ast.Node, t reflect.Type, path string, line, depth int) {
	if line == 0 {
		line = nodeLine(n)
	}
	if _, seen := w.lines[path]; !seen {
		w.lines[path] = line
	}
	if depth > 16 {
		w.add(path, line, true, "nested too deeply")
		return
	}
	n, ok := w.resolve(n)
	if !ok {
		w.add(path, line, true, "unknown alias %s (accepted: an alias of an anchor defined in the file, e.g. *name for &name)", describe(n))
		return
	}
	if n == nil || n.Type() == ast.NullType {
		return // the zero value; required fields are checked later
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(n, t.Elem(), path, line, depth+1)
	case reflect.Struct:
		m, ok := n.(ast.MapNode)
		if !ok {
			names, _ := yamlFields(t)
			w.add(path, line, true, "invalid value %s (accepted: a mapping with %s)", describe(n), strings.Join(names, ", "))
			return
		}
		w.mapping(m, path, depth, func(key string, keyLine int, value ast.Node) {
			names, index := yamlFields(t)
			i, ok := index[key]
			if !ok {
				w.unknown = true
				w.add(joinPath(path, key), keyLine, false, "unknown field %q (accepted: %s)", key, strings.Join(names, ", "))
				return
			}
			w.walk(value, t.Field(i).Type, joinPath(path, key), keyLine, depth+1)
		}, func(merged ast.Node) { w.walk(merged, t, path, 0, depth+1) })
	case reflect.Map:
		m, ok := n.(ast.MapNode)
		if !ok {
			w.add(path, line, true, "invalid value %s (accepted: a mapping)", describe(n))
			return
		}
		w.mapping(m, path, depth, func(key string, keyLine int, value ast.Node) {
			w.walk(value, t.Elem(), joinPath(path, key), keyLine, depth+1)
		}, func(merged ast.Node) { w.walk(merged, t, path, 0, depth+1) })
	case reflect.Slice:
		s, ok := n.(*ast.SequenceNode)
		if !ok {
			w.add(path, line, true, "invalid value %s (accepted: a list)", describe(n))
			return
		}
		for i, item := range s.Values {
			w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), 0, depth+1)
		}
	case reflect.String:
		switch n.Type() {
		case ast.StringType, ast.LiteralType, ast.IntegerType, ast.FloatType, ast.BoolType:
		default:
			w.add(path, line, true, "invalid value %s (accepted: a string)", describe(n))
		}
	case reflect.Int:
		if n.Type() != ast.IntegerType {
			w.add(path, line, true, "invalid value %s (accepted: a whole number)", describe(n))
		}
	case reflect.Float64:
		if n.Type() != ast.IntegerType && n.Type() != ast.FloatType {
			w.add(path, line, true, "invalid value %s (accepted: a number)", describe(n))
		}
	case reflect.Bool:
		if n.Type() != ast.BoolType {
			w.add(path, line, true, "invalid value %s (accepted: true or false)", describe(n))
		}
	}
}

// mapping calls field for each key of m and merged for each "<<" merge.
func (w *walker) mapping(m ast.MapNode, path string, depth int, field func(key string, line int, value ast.Node), merged func(ast.Node)) {
	it := m.MapRange()
	for it.Next() {
		k := it.Key()
		if k == nil {
			continue
		}
		if k.IsMergeKey() {
			v, ok := w.resolve(it.Value())
			if s, isSeq := v.(*ast.SequenceNode); ok && isSeq {
				for _, item := range s.Values {
					merged(item)
				}
			} else {
				merged(it.Value())
			}
			continue
		}
		kn, ok := w.resolve(k)
		if !ok {
			w.add(path, nodeLine(k), true, "unknown alias %s as a key (accepted: a string)", describe(kn))
			continue
		}
		if _, isScalar := kn.(ast.ScalarNode); !isScalar {
			w.add(path, nodeLine(k), true, "invalid key %s (accepted: a string)", describe(kn))
			continue
		}
		field(keyString(kn.(ast.ScalarNode)), nodeLine(k), it.Value())
	}
}
