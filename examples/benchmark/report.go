package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// target is a row's acceptance bound on its median ratio.
type target struct {
	atLeast bool    // the ratio must be at least value (else at most)
	value   float64 // zero: the row is informational
	faster  bool    // the ratio reads "times faster"
}

func (t target) String() string {
	switch {
	case t.value == 0:
		return "—"
	case t.atLeast && t.faster:
		return fmt.Sprintf("≥ %s× faster", trimFloat(t.value))
	case t.atLeast:
		return fmt.Sprintf("≥ %s×", trimFloat(t.value))
	}
	return fmt.Sprintf("≤ %s×", trimFloat(t.value))
}

// met reports whether a median ratio meets the target.
func (t target) met(r float64) bool {
	if t.atLeast {
		return r >= t.value
	}
	return r <= t.value
}

// row is one line of the results table.
type row struct {
	id       string // "P1"
	backend  string // "memory", "badger", "mongo", or "—"
	what     string // what userdir does
	baseline string // what the baseline does
	target   target
	clock    string // what measured it: "wall", "cpu" or "heap"
	m        measurement
	err      error // the row could not be measured
}

// writeTable writes the rows as a markdown table, ordered by row number
// and then backend (memory, badger, mongo), in the order measured within.
func writeTable(w io.Writer, rows []row) {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b row) int {
		if c := cmp.Compare(rowNumber(a.id), rowNumber(b.id)); c != 0 {
			return c
		}
		return cmp.Compare(backendRank(a.backend), backendRank(b.backend))
	})
	fmt.Fprintln(w, "| Row | Backend | userdir | baseline | userdir | baseline | clock | ratio (median) | spread (min–max) | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|--:|--:|---|--:|--:|---|---|")
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(w, "| %s | %s | %s | %s | — | — | %s | — | — | %s | error: %s |\n",
				r.id, r.backend, r.what, r.baseline, r.clock, r.target, cell(r.err.Error()))
			continue
		}
		med, lo, hi := r.m.ratio()
		met := "—"
		if r.target.value != 0 {
			met = "no"
			if r.target.met(med) {
				met = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s× | %s–%s× | %s | %s |\n",
			r.id, r.backend, r.what, r.baseline,
			formatValue(r.m.a.median(), r.m.unit), formatValue(r.m.b.median(), r.m.unit), r.clock,
			formatRatio(med), formatRatio(lo), formatRatio(hi), r.target, met)
	}
}

// rowNumber returns n for the row id "Pn".
func rowNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "P"))
	return n
}

// backendRank orders backends as the program runs them.
func backendRank(b string) int {
	return slices.Index([]string{"—", "memory", "badger", "mongo"}, b)
}

// cell makes s safe inside a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// formatValue formats a per-run value: a time per operation or a size.
func formatValue(v float64, unit string) string {
	if unit != "op" {
		return fmt.Sprintf("%s %s", group(int64(math.Round(v))), unit)
	}
	switch {
	case v < 1e3:
		return fmt.Sprintf("%.0f ns", v)
	case v < 1e6:
		return fmt.Sprintf("%.3g µs", v/1e3)
	case v < 1e9:
		return fmt.Sprintf("%.3g ms", v/1e6)
	}
	return fmt.Sprintf("%.3g s", v/1e9)
}

// formatRatio formats a ratio with three significant digits.
func formatRatio(r float64) string {
	switch {
	case r >= 1000:
		return group(int64(math.Round(r)))
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// group formats n with thousands separators.
func group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}
