package main

import (
	"fmt"
	"time"
)

// clock reads a time that only moves forward: the wall clock, or the CPU
// time the whole process (every thread: the garbage collector and a
// store's background goroutines too) has used.
type clock struct {
	name string // "wall" or "cpu"
	now  func() time.Duration
}

// newClock returns the clock called name.
func newClock(name string) (clock, error) {
	switch name {
	case "wall":
		return wallClock(), nil
	case "cpu":
		if _, err := processCPU(); err != nil {
			return clock{}, fmt.Errorf("-clock cpu: %w", err)
		}
		return clock{name: "cpu", now: func() time.Duration {
			d, _ := processCPU() // it worked once: it keeps working
			return d
		}}, nil
	}
	return clock{}, fmt.Errorf("unknown clock %q (want wall or cpu)", name)
}

// wallClock returns the wall clock, as a duration since its creation.
func wallClock() clock {
	start := time.Now()
	return clock{name: "wall", now: func() time.Duration { return time.Since(start) }}
}

// time returns how long f took on c.
func (c clock) time(f func() error) (time.Duration, error) {
	start := c.now()
	err := f()
	return c.now() - start, err
}

// loop makes a timer of an operation that is timed as a whole batch.
// Calls cycle through their argument i, so that successive operations
// touch different records.
func (c clock) loop(op func(i int) error) timer {
	next := 0
	return func(n int) (time.Duration, error) {
		return c.time(func() error {
			for range n {
				if err := op(next); err != nil {
					return err
				}
				next++
			}
			return nil
		})
	}
}
