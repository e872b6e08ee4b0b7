package plantest

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tafweej/tafweej/scheduler"
)

// The day's planning problem as a 0-1 integer program, for an exact solver
// to check the planner against (CBC in the scheduler's TestPlannerVsCBC
// and in tafweej bench; never a runtime dependency). The model is built
// from the scheduler.Instance, independently of the planner's own
// compilation:
//
//	maximise   Σ n_r x[r,o]
//	subject to Σ_o x[r,o] ≤ 1                      each request r
//	           Σ n_r x[r,o] ≤ room of the resource  each gate wave, its
//	             operators' part, each operator's wave and day, each zone
//	             bucket and its operators' part (a route counted as often as
//	             its stops cover the bucket, as the scheduler's State counts it)
//	           x binary; an option (slot, gate) that cannot hold the group
//	           on its own is left out.
//
// WriteLP writes it in the CPLEX LP format that CBC reads; LPValue checks a
// plan against it; ParseCBC reads what CBC proved from its output. Nothing
// here runs a solver or touches a file: the caller does.

// WriteLP writes inst as a 0-1 integer program in the CPLEX LP format:
// maximise the visitors placed subject to every capacity and share. The
// output depends only on the instance (requests are taken in id order), so
// a hash of it identifies the problem.
func WriteLP(w io.Writer, inst scheduler.Instance) error { return buildLP(inst).writeLP(w) }

// LPValue is the objective of res in inst's model, and an error if the plan
// breaks a row of the model or uses an option the model does not have.
func LPValue(inst scheduler.Instance, res scheduler.PlanResult) (int, error) {
	return buildLP(inst).value(res)
}

// CBCResult is what CBC reported for a model.
type CBCResult struct {
	Objective float64 `json:"objective"` // best integer solution found
	// Bound is the proven upper bound on the optimum: the objective when
	// CBC proved it optimal.
	Bound   float64 `json:"bound"`
	Status  string  `json:"status"` // CBC's "Result - ..." line
	Optimal bool    `json:"optimal"`
}

var (
	cbcObjective = regexp.MustCompile(`(?m)^Objective value:\s+(-?[0-9.e+]+)`)
	cbcBound     = regexp.MustCompile(`(?m)^(?:Upper|Lower) bound:\s+(-?[0-9.e+]+)`)
	cbcStatus    = regexp.MustCompile(`(?m)^Result - (.*)$`)
)

// ParseCBC reads the best solution, the bound and the status from the
// output of CBC (e.g. cbc model.lp sec 60 solve) on a model of WriteLP.
func ParseCBC(output string) (CBCResult, error) {
	var r CBCResult
	if mm := cbcStatus.FindStringSubmatch(output); mm != nil {
		r.Status = strings.TrimSpace(mm[1])
	}
	mm := cbcObjective.FindStringSubmatch(output)
	if mm == nil {
		return r, fmt.Errorf("cbc: no objective value in its output (status %q)", r.Status)
	}
	obj, err := strconv.ParseFloat(mm[1], 64)
	if err != nil {
		return r, fmt.Errorf("cbc: objective value %q is not a number", mm[1])
	}
	r.Objective = abs64(obj)
	r.Bound = r.Objective
	r.Optimal = strings.HasPrefix(r.Status, "Optimal")
	if mb := cbcBound.FindStringSubmatch(output); mb != nil && !r.Optimal {
		b, err := strconv.ParseFloat(mb[1], 64)
		if err != nil {
			return r, fmt.Errorf("cbc: bound %q is not a number", mb[1])
		}
		r.Bound = abs64(b)
	}
	return r, nil
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// lpModel is a 0-1 program: maximise Σ obj·x subject to rows ≤ rhs.
type lpModel struct {
	vars []lpVar
	rows []lpRow
}

type lpVar struct {
	req    string // request id
	minute int
	gate   string
	obj    int
}

type lpRow struct {
	name  string
	terms []lpTerm
	rhs   int
}

type lpTerm struct{ v, coef int }

// buildLP builds the model of an instance.
func buildLP(inst scheduler.Instance) lpModel {
	type resKey struct {
		kind, a, b string
		i          int
	}
	gates := map[string]scheduler.PlanGate{}
	for _, g := range inst.Gates {
		gates[g.ID] = g
	}
	zones := map[string]scheduler.PlanZone{}
	for _, z := range inst.Zones {
		zones[z.ID] = z
	}
	routes := map[string]scheduler.PlanRoute{}
	for _, r := range inst.Routes {
		routes[r.ID] = r
	}
	at := func(xs []int, i int) int {
		if i < len(xs) {
			return xs[i]
		}
		return 0
	}
	rhs := func(k resKey) int {
		switch k.kind {
		case "gate":
			return gates[k.a].Capacity - at(gates[k.a].Load, k.i)
		case "gate_op":
			return gates[k.a].OperatorCapacity - at(gates[k.a].OperatorLoad, k.i)
		case "wave":
			used := 0
			for _, w := range inst.OperatorWaveLoad {
				if w.Operator == k.b && w.Gate == k.a && w.Slot == k.i {
					used += w.Visitors
				}
			}
			return gates[k.a].OperatorWaveCapacity - used
		case "day":
			return inst.OperatorDayCapacity - inst.OperatorDayLoad[k.b]
		case "zone":
			return zones[k.a].Capacity - at(zones[k.a].Load, k.i)
		default: // zone_op
			return zones[k.a].OperatorCapacity - at(zones[k.a].OperatorLoad, k.i)
		}
	}
	reqs := slices.Clone(inst.Requests)
	slices.SortFunc(reqs, func(a, b scheduler.PlanRequest) int { return cmp.Compare(a.ID, b.ID) })
	var m lpModel
	rows := map[resKey]map[int]int{} // resource → var → coefficient
	var once []lpRow
	buckets := inst.Horizon / inst.Resolution
	for _, q := range reqs {
		r := routes[q.Route]
		walkIn := q.Operator == scheduler.WalkInOperator
		var mine []int
		for _, e := range r.Entries {
			if e < q.Window.From || e >= q.Window.To {
				continue
			}
			for _, g := range r.Gates {
				use := map[resKey]int{}
				slot := e / inst.SlotMinutes
				use[resKey{kind: "gate", a: g, i: slot}] += q.PartySize
				if !walkIn {
					use[resKey{kind: "gate_op", a: g, i: slot}] += q.PartySize
					use[resKey{kind: "wave", a: g, b: q.Operator, i: slot}] += q.PartySize
					use[resKey{kind: "day", b: q.Operator}] += q.PartySize
				}
				for _, st := range r.Stops {
					from := min((e+st.Arrive)/inst.Resolution, buckets)
					to := min((e+st.Arrive+st.Stay)/inst.Resolution, buckets)
					for b := from; b < to; b++ {
						use[resKey{kind: "zone", a: st.Zone, i: b}] += q.PartySize
						if !walkIn {
							use[resKey{kind: "zone_op", a: st.Zone, i: b}] += q.PartySize
						}
					}
				}
				fits := true
				for k, c := range use {
					if c > rhs(k) {
						fits = false
						break
					}
				}
				if !fits {
					continue
				}
				v := len(m.vars)
				m.vars = append(m.vars, lpVar{req: q.ID, minute: e, gate: g, obj: q.PartySize})
				mine = append(mine, v)
				for k, c := range use {
					if rows[k] == nil {
						rows[k] = map[int]int{}
					}
					rows[k][v] = c
				}
			}
		}
		if len(mine) > 1 {
			row := lpRow{name: "once_" + lpName(q.ID), rhs: 1}
			for _, v := range mine {
				row.terms = append(row.terms, lpTerm{v, 1})
			}
			once = append(once, row)
		}
	}
	// Resource rows that can bind, one per distinct left-hand side (the
	// tightest), in a stable order.
	keys := slices.SortedFunc(maps.Keys(rows), func(a, b resKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.a, b.a), cmp.Compare(a.b, b.b), cmp.Compare(a.i, b.i))
	})
	seen := map[string]int{}
	for _, k := range keys {
		total, limit := 0, rhs(k)
		var terms []lpTerm
		for _, v := range slices.Sorted(maps.Keys(rows[k])) {
			terms = append(terms, lpTerm{v, rows[k][v]})
			total += rows[k][v]
		}
		if total <= limit {
			continue
		}
		var sig strings.Builder
		for _, t := range terms {
			fmt.Fprintf(&sig, "%d:%d,", t.v, t.coef)
		}
		if i, ok := seen[sig.String()]; ok {
			m.rows[i].rhs = min(m.rows[i].rhs, limit)
			continue
		}
		seen[sig.String()] = len(m.rows)
		name := fmt.Sprintf("%s_%s_%s_%d", k.kind, lpName(k.a), lpName(k.b), k.i)
		m.rows = append(m.rows, lpRow{name: name, terms: terms, rhs: limit})
	}
	m.rows = append(once, m.rows...)
	return m
}

var lpBad = regexp.MustCompile(`[^A-Za-z0-9_]`)

func lpName(s string) string { return lpBad.ReplaceAllString(s, "_") }

// writeLP writes the model in the CPLEX LP format that CBC reads.
func (m lpModel) writeLP(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "\\ tafweej day plan: %d groups' options, %d rows\nMaximize\n obj:", len(m.vars), len(m.rows))
	for i, v := range m.vars {
		if i > 0 && i%8 == 0 {
			bw.WriteString("\n ")
		}
		fmt.Fprintf(bw, " + %d x%d", v.obj, i)
	}
	if len(m.vars) == 0 {
		bw.WriteString(" 0 x0")
	}
	bw.WriteString("\nSubject To\n")
	for _, r := range m.rows {
		fmt.Fprintf(bw, " %s:", r.name)
		for i, t := range r.terms {
			if i > 0 && i%8 == 0 {
				bw.WriteString("\n ")
			}
			fmt.Fprintf(bw, " + %d x%d", t.coef, t.v)
		}
		fmt.Fprintf(bw, " <= %d\n", r.rhs)
	}
	bw.WriteString("Binary\n")
	for i := range max(len(m.vars), 1) {
		fmt.Fprintf(bw, " x%d\n", i)
	}
	bw.WriteString("End\n")
	return bw.Flush()
}

// value is the objective of a plan in the model, and an error if the plan
// breaks a row or uses an option the model does not have: a check of the
// planner against this independent formulation.
func (m lpModel) value(res scheduler.PlanResult) (int, error) {
	type opt struct {
		req    string
		minute int
		gate   string
	}
	index := map[opt]int{}
	for i, v := range m.vars {
		index[opt{v.req, v.minute, v.gate}] = i
	}
	x := make([]int, len(m.vars))
	obj := 0
	for _, p := range res.Placed {
		i, ok := index[opt{p.ID, p.Minute, p.Gate}]
		if !ok {
			return 0, fmt.Errorf("placement %s at %s gate %s is not an option of the model", p.ID, scheduler.FormatClock(p.Minute), p.Gate)
		}
		x[i] = 1
		obj += m.vars[i].obj
	}
	for _, r := range m.rows {
		sum := 0
		for _, t := range r.terms {
			sum += t.coef * x[t.v]
		}
		if sum > r.rhs {
			return 0, fmt.Errorf("row %s: %d > %d", r.name, sum, r.rhs)
		}
	}
	return obj, nil
}
