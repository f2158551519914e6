package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// caseVariant upper-cases the letters of s whose position (counting
// letters only) is a set bit of mask, so distinct masks below 2^letters
// give distinct spellings that fold alike.
func caseVariant(s string, mask uint64) string {
	var b strings.Builder
	bit := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if mask&(1<<bit) != 0 {
				r = unicode.ToUpper(r)
			}
			bit++
		}
		b.WriteRune(r)
	}
	return b.String()
}

// racers is how many goroutines race to create conflicting users.
const racers = 64

// race runs create(i) for i in [0, racers) in as many goroutines, all
// released at once, and returns their errors.
func race(create func(i int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = create(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// testRacingCreates checks that of many concurrent creates that clash on a
// unique value, exactly one wins (DESIGN §4: atomically, under any
// concurrency).
func testRacingCreates(t *testing.T, s *suite) {
	cases := []struct {
		name  string
		index string
		user  func(i int) directory.User
		probe string // a filter that finds the winner
	}{
		{"Email", "emails", func(i int) directory.User {
			return directory.User{
				UserName: fmt.Sprintf("racer-%02d", i),
				Emails:   []directory.Email{{Value: fmt.Sprintf("own-%02d@example.com", i)}, {Value: caseVariant("racer@example.com", uint64(i))}},
			}
		}, `emails.value eq "RACER@example.com"`},
		{"UserName", "userName", func(i int) directory.User {
			return directory.User{
				UserName: caseVariant("racing.user", uint64(i)),
				Emails:   []directory.Email{{Value: fmt.Sprintf("own-%02d@example.com", i)}},
			}
		}, `userName eq "Racing.User"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := s.newEnv(t)
			seen := map[string]bool{}
			for i := range racers {
				u := c.user(i)
				key := u.UserName + "|" + u.Emails[len(u.Emails)-1].Value
				require.False(t, seen[key], "case variants must differ")
				seen[key] = true
			}
			errs := race(func(i int) error {
				_, err := e.users.Create(e.ctx, c.user(i))
				return err
			})
			won, lost := 0, 0
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					won++
					winner = i
				case errors.Is(err, directory.ErrAlreadyExists):
					lost++
					assertTaken(t, err, c.index)
				default:
					assert.NoErrorf(t, err, "racer %d failed with an unexpected error", i)
				}
			}
			t.Logf("%d racing creates of one %s: %d succeeded, %d got ErrAlreadyExists", racers, c.name, won, lost)
			assert.Equal(t, 1, won, "exactly one racing create succeeds")
			assert.Equal(t, racers-1, lost, "every other racing create gets ErrAlreadyExists")

			found := listAll(t, e.ctx, e.users, directory.ListOptions{Filter: c.probe, Deleted: directory.IncludeDeleted})
			if assert.Len(t, found, 1, "exactly one user holds the value") && winner >= 0 {
				assert.Equal(t, c.user(winner).UserName, found[0].UserName, "and it is the winner")
			}
			n, err := e.users.Count(e.ctx, "")
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the losers stored nothing")
			// The losers' own emails are free: nothing of theirs was kept.
			for i := range racers {
				if i == winner {
					continue
				}
				e.create(e.users, directory.User{UserName: fmt.Sprintf("later-%02d", i), Emails: []directory.Email{{Value: fmt.Sprintf("own-%02d@example.com", i)}}})
			}
		})
	}
}

// counter reads the claims counter of u.
func counter(u *directory.User) (int64, error) {
	n, ok := u.Claims["counter"].(json.Number)
	if !ok {
		return 0, fmt.Errorf("claims.counter is %T %v, not a json.Number", u.Claims["counter"], u.Claims["counter"])
	}
	return n.Int64()
}

func increment(u *directory.User) error {
	n, err := counter(u)
	if err != nil {
		return err
	}
	u.Claims["counter"] = n + 1
	return nil
}

// testLostUpdates is dex's concurrency test: many goroutines increment one
// counter; no increment may be lost and every one is exactly one version.
func testLostUpdates(t *testing.T, s *suite) {
	const goroutines, increments = 100, 100
	variants := []struct {
		name string
		inc  func(e *env, id string) (conflicts int, err error)
	}{
		{"Update", func(e *env, id string) (int, error) {
			_, err := e.users.Update(e.ctx, id, increment)
			return 0, err
		}},
		{"ReadThenIfVersion", func(e *env, id string) (int, error) {
			conflicts := 0
			for {
				u, err := e.users.Get(e.ctx, id)
				if err != nil {
					return conflicts, err
				}
				_, err = e.users.Update(e.ctx, id, increment, directory.IfVersion(u.Meta.Version))
				if !errors.Is(err, directory.ErrConflict) {
					return conflicts, err
				}
				conflicts++
			}
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			e := s.newEnv(t)
			u := e.create(e.users, directory.User{UserName: "counter", Claims: map[string]any{"counter": 0}})
			began := time.Now()
			var conflicts atomic.Int64
			var failed atomic.Int64
			var (
				errOnce  sync.Once
				firstErr error
			)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for range increments {
						c, err := v.inc(e, u.ID)
						conflicts.Add(int64(c))
						if err != nil {
							failed.Add(1)
							errOnce.Do(func() { firstErr = err })
							return
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			t.Logf("%d goroutines x %d increments: %d conflicts retried by the caller, %v",
				goroutines, increments, conflicts.Load(), time.Since(began).Round(time.Millisecond))
			require.Zero(t, failed.Load(), "increments failed: %v", firstErr)
			got := e.get(e.users, u.ID)
			n, err := counter(&got)
			require.NoError(t, err)
			assert.Equal(t, int64(goroutines*increments), n, "no increment is lost")
			assert.Equal(t, int64(goroutines*increments+1), got.Meta.Version, "every increment is exactly one version")
			c, err := e.users.Count(e.ctx, fmt.Sprintf("claims.counter eq %d and meta.version eq %d", goroutines*increments, goroutines*increments+1))
			require.NoError(t, err)
			assert.Equal(t, 1, c, "the stored counter is what filters see")
		})
	}
}
