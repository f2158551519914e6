package main

import (
	"fmt"
	"runtime"
	"slices"
	"time"
)

// timer runs n operations and returns how long they took. It may do
// untimed work around them (a fresh store for an import), which it leaves
// out of the duration it returns.
type timer func(n int) (time.Duration, error)

// settings are the measurement parameters every row shares.
type settings struct {
	runs  int           // alternating runs of each side
	batch time.Duration // minimum duration of a timed batch
}

// series is one side's measurements: a value per run (ns per operation,
// or bytes per user for a size row).
type series []float64

func (s series) median() float64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// measurement is a row's outcome: both sides' per-run values and the
// per-run ratios, which are what the row reports.
type measurement struct {
	a, b   series // userdir side, baseline side
	ratios series
	unit   string // "op" or "B/user"
	nA, nB int    // operations per batch
}

// ratio returns the median per-run ratio and its spread.
func (m measurement) ratio() (median, lo, hi float64) {
	return m.ratios.median(), slices.Min(m.ratios), slices.Max(m.ratios)
}

// calibrate returns how many operations of t make a batch of at least d,
// running t with doubling counts (which also warms it up). It never
// returns less than 1, and stops growing once one batch would pass max
// operations.
func calibrate(t timer, d time.Duration, max int) (int, error) {
	n := 1
	for {
		el, err := t(n)
		if err != nil {
			return 0, err
		}
		if el >= d || n >= max {
			return n, nil
		}
		switch {
		case el <= 0:
			n *= 16
		case el < d/16:
			n *= 8
		default:
			// Aim a little past d, so that noise does not leave the
			// batch short.
			n = int(float64(n)*1.2*float64(d)/float64(el)) + 1
		}
		n = min(n, max)
	}
}

// compare measures a (userdir) against b (its baseline): it sizes a batch
// of each to at least s.batch and then alternates them (see alternate).
func compare(s settings, a, b timer, speedup bool) (measurement, error) {
	const maxBatch = 1 << 24
	runtime.GC()
	nA, err := calibrate(a, s.batch, maxBatch)
	if err != nil {
		return measurement{}, fmt.Errorf("userdir side: %w", err)
	}
	nB, err := calibrate(b, s.batch, maxBatch)
	if err != nil {
		return measurement{}, fmt.Errorf("baseline side: %w", err)
	}
	return alternate(s.runs, nA, nB, a, b, speedup)
}

// pieces is how many alternating pieces a round splits each side's batch
// into: A B A B ... within one round, so that a burst of load from another
// process lands on both sides alike instead of on one side's whole batch.
const pieces = 8

// alternate runs r rounds. A round times nA operations of a and nB of b,
// each cut into up to pieces parts that alternate, a first in even rounds
// and b first in odd ones, so that neither side is favoured by going
// first or by a drift in the machine's speed. The per-round ratio is a's
// time per operation over b's, or b's over a's when speedup is set (how
// many times faster a is).
func alternate(r, nA, nB int, a, b timer, speedup bool) (measurement, error) {
	m := measurement{unit: "op", nA: nA, nB: nB}
	k := max(1, min(pieces, nA, nB))
	for i := range r {
		// A collection that earlier work (or the benchmark's own data)
		// has made due would otherwise land in one side's batch.
		runtime.GC()
		var da, db time.Duration
		for j := range k {
			// The j-th piece of n operations.
			ca := nA*(j+1)/k - nA*j/k
			cb := nB*(j+1)/k - nB*j/k
			runA := func() error { d, err := a(ca); da += d; return err }
			runB := func() error { d, err := b(cb); db += d; return err }
			first, second := runA, runB
			if i%2 == 1 {
				first, second = runB, runA
			}
			if err := first(); err != nil {
				return m, err
			}
			if err := second(); err != nil {
				return m, err
			}
		}
		pa, pb := float64(da)/float64(nA), float64(db)/float64(nB)
		m.a, m.b = append(m.a, pa), append(m.b, pb)
		if speedup {
			m.ratios = append(m.ratios, pb/pa)
		} else {
			m.ratios = append(m.ratios, pa/pb)
		}
	}
	return m, nil
}

// fromRuns builds a measurement from values already taken per run.
func fromRuns(a, b series, unit string) measurement {
	m := measurement{a: a, b: b, unit: unit, nA: 1, nB: 1}
	for i := range a {
		m.ratios = append(m.ratios, a[i]/b[i])
	}
	return m
}
