package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func Print(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "%s  (%s, %d CPUs, %.0fs)\n\n", rep.Command, rep.GoVersion, rep.CPUs, rep.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tTAFWEEJ\tP50/P99 MS\tRAW LIMIT\tP50/P99 MS\tRATIO\tN × REPS")
	lat := func(f Figure) string {
		if f.P50Ms == 0 && f.P99Ms == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f/%.2f", f.P50Ms, f.P99Ms)
	}
	for _, r := range rep.Rows {
		raw, rlat, ratio := "-", "-", "-"
		if r.Raw != nil {
			raw, rlat = fmt.Sprintf("%s %s", num(r.Raw.Value), r.Raw.Unit), lat(*r.Raw)
			ratio = fmt.Sprintf("%.1f%%", 100*r.Ratio)
			if r.Tafweej.Unit == "visitors" { // a share of an optimum's bound: two decimals
				ratio = fmt.Sprintf("%.2f%%", 100*r.Ratio)
			}
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\t%d × %d\n", r.Name, num(r.Tafweej.Value), r.Tafweej.Unit, lat(r.Tafweej), raw, rlat, ratio, r.Tafweej.N, r.Tafweej.Reps)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nWhat each figure measured:")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "  %s: %s", r.Name, r.Tafweej.What)
		if r.Raw != nil {
			fmt.Fprintf(w, "; limit: %s (N %d × %d, concurrency %d%s)", r.Raw.What, r.Raw.N, r.Raw.Reps, r.Raw.Concurrency, durable(*r.Raw))
		}
		fmt.Fprintln(w)
		if b := r.RawBare; b != nil {
			fmt.Fprintf(w, "    bare: %s %s, p50/p99 %s ms (ratio %.1f%%): %s (concurrency %d)\n", num(b.Value), b.Unit, lat(*b), 100*r.Tafweej.Value/b.Value, b.What, b.Concurrency)
		}
		if len(r.Extra) > 0 {
			var parts []string
			for _, k := range slices.Sorted(extraKeys(r.Extra)) {
				parts = append(parts, fmt.Sprintf("%s=%s", k, num(r.Extra[k])))
			}
			fmt.Fprintf(w, "    %s\n", strings.Join(parts, " "))
		}
		if r.Note != "" {
			fmt.Fprintf(w, "    %s\n", r.Note)
		}
	}
}

func durable(f Figure) string {
	if f.Durable {
		return ", durable"
	}
	return ""
}

func extraKeys(m map[string]float64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}
