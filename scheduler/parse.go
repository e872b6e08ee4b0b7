package scheduler

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	// The site's zone (Asia/Amman) must resolve on any machine, with or
	// without a system zoneinfo database.
	_ "time/tzdata"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ConfigProblem is one thing wrong with a site configuration.
type ConfigProblem struct {
	// Path is the YAML field path, e.g. "routes[2].stops[1].zone"; empty
	// when the problem concerns the whole file.
	Path string
	// Line is the 1-based line of the file the problem points at, 0 when
	// unknown (e.g. a required field that is missing from the top level).
	Line    int
	Message string
}

// Error formats the problem as "line 12: routes[2].stops[1].zone: message".
func (p ConfigProblem) Error() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ConfigError is returned by ParseConfig for a configuration that cannot be
// used. It holds every problem found, in the order of the file.
type ConfigError struct {
	Problems []ConfigProblem
}

// Error lists every problem, one per line.
func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "scheduler: invalid config: " + e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "scheduler: invalid config (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so that errors.As can reach each one.
func (e *ConfigError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// ParseConfig decodes and validates a site configuration (YAML). It reads
// no files: the caller passes the bytes. Unknown fields are errors. On
// failure the error is a *ConfigError listing every problem found, each
// with its field path and line; on success the returned Config is complete
// and its lookups (Gate, Zone, Route, Sensor, Location) are ready.
func ParseConfig(data []byte) (*Config, error) {
	c, problems := parseConfig(data)
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
		return nil, &ConfigError{Problems: problems}
	}
	return c, nil
}

func parseConfig(data []byte) (c *Config, problems []ConfigProblem) {
	// goccy/go-yaml is a large parser fed with operator input; a panic in
	// it must become a config error, never take the service down.
	defer func() {
		if r := recover(); r != nil {
			c = nil
			problems = []ConfigProblem{{Message: fmt.Sprintf("yaml: internal error reading the file: %v", r)}}
		}
	}()

	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, []ConfigProblem{yamlProblem(err)}
	}
	var body ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			return nil, []ConfigProblem{{Line: nodeLine(doc.Body), Message: "a second YAML document (accepted: exactly one document)"}}
		}
		body = doc.Body
	}
	if body == nil {
		return nil, []ConfigProblem{{Message: "the config is empty (accepted: a mapping with site, time_zone, slot_minutes, seasons, gates, zones, routes, policy, ...)"}}
	}

	// Walk the document against the Config type first: it finds every
	// unknown field and wrongly typed value, with its line, where the
	// decoder would stop at the first.
	w := &walker{anchors: map[string]ast.Node{}, lines: map[string]int{}}
	ast.Walk(anchorCollector(w.anchors), body)
	w.walk(body, reflect.TypeOf(Config{}), "", 0, 0)
	problems = w.problems
	if w.fatal {
		return nil, problems
	}

	c = new(Config)
	err = yaml.UnmarshalWithOptions(data, c, yaml.Strict())
	var unknown *yaml.UnknownFieldError
	if errors.As(err, &unknown) && w.unknown {
		// Already reported, every one of them; decode leniently so that
		// the values can still be checked.
		*c = Config{}
		err = yaml.UnmarshalWithOptions(data, c)
	}
	if err != nil {
		return nil, append(problems, yamlProblem(err))
	}

	v := &validator{lines: w.lines, problems: problems}
	v.config(c)
	if len(v.problems) > 0 {
		return nil, v.problems
	}
	c.index()
	return c, nil
}

// yamlProblem turns an error of the YAML library into a problem with its
// line.
func yamlProblem(err error) ConfigProblem {
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		p := ConfigProblem{Message: "yaml: " + yerr.GetMessage()}
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
			p.Line = tk.Position.Line
		}
		return p
	}
	return ConfigProblem{Message: "yaml: " + err.Error()}
}

// index fills the derived lookups of a valid config.
func (c *Config) index() {
	c.loc, _ = time.LoadLocation(c.TimeZone)
	c.gates = make(map[string]*Gate, len(c.Gates))
	for i := range c.Gates {
		c.gates[c.Gates[i].ID] = &c.Gates[i]
	}
	c.zones = make(map[string]*Zone, len(c.Zones))
	for i := range c.Zones {
		c.zones[c.Zones[i].ID] = &c.Zones[i]
	}
	c.routes = make(map[string]*Route, len(c.Routes))
	for i := range c.Routes {
		c.routes[c.Routes[i].ID] = &c.Routes[i]
	}
	c.sensor = make(map[string]*Sensor, len(c.Sensors))
	for i := range c.Sensors {
		c.sensor[c.Sensors[i].ID] = &c.Sensors[i]
	}
}
