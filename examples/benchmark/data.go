package main

import (
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/userdir/userdir/directory"
)

// tenant is the tenant every benchmark dataset lives in.
const tenant = "bench"

// dataset generates the benchmark's users: deterministic for a seed, so
// every run, backend and baseline sees the same data, and generated on
// demand, so that a dataset need not be held in memory to be imported.
type dataset struct {
	seed  uint64
	n     int
	epoch time.Time     // meta.created of the first user
	step  time.Duration // meta.created advances this much per user
}

// newDataset returns the dataset of n users for seed. Creation times are
// spread evenly over three years, in id order (ids are UUIDv7-shaped, so
// they sort by creation time, as generated ids do).
func newDataset(seed uint64, n int) dataset {
	const span = 3 * 365 * 24 * time.Hour
	return dataset{
		seed:  seed,
		n:     n,
		epoch: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC),
		step:  span / time.Duration(max(n, 1)),
	}
}

var (
	givenNames = []string{
		"Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken",
		"Frances", "Edsger", "Radia", "Donald", "Katherine", "John", "Hedy", "Tim",
		"Shafi", "Leslie", "Sophie", "Niklaus", "Lynn", "Bjarne", "Anita", "Guido",
		"Joan", "Robert", "Karen", "Rob", "Mary", "Yukihiro", "Élodie", "Jürgen",
	}
	familyNames = []string{
		"Johnson", "Anderson", "Wilson", "Jackson", "Thompson", "Robinson", "Harrison", "Peterson",
		"Carlson", "Nelson", "Smith", "Garcia", "Miller", "Brown", "Davis", "Martinez",
		"Lopez", "Lee", "Walker", "Young", "King", "Wright", "Scott", "Green",
		"Baker", "Adams", "Hill", "Clark", "Lewis", "Hall", "Müller", "Moreau",
	}
	departments = []string{"engineering", "sales", "support", "finance", "marketing", "operations", "research", "legal"}
)

// user returns user i (0 <= i < n): a name and display name, one to three
// emails (each unique; the first is the primary work address), claims
// {level: i%10, department}, a status (one in fifty disabled) and creation
// and modification times, created in id order. The id is supplied, as an
// import does.
func (d dataset) user(i int) directory.User {
	r := rand.New(rand.NewPCG(d.seed, uint64(i)))
	given := givenNames[r.IntN(len(givenNames))]
	family := familyNames[r.IntN(len(familyNames))]
	created := d.epoch.Add(time.Duration(i) * d.step).Add(time.Duration(r.Int64N(int64(time.Second))))
	modified := created.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	handle := fmt.Sprintf("%s.%s.%d", asciiLower(given), asciiLower(family), i)
	u := directory.User{
		ID:          uuid7(created, r),
		UserName:    handle,
		Name:        directory.Name{GivenName: given, FamilyName: family},
		DisplayName: given + " " + family,
		Emails:      []directory.Email{{Value: handle + "@example.com", Type: "work", Primary: true, Verified: true}},
		Status:      directory.StatusActive,
		Claims: map[string]any{
			"level":      i % 10,
			"department": departments[r.IntN(len(departments))],
		},
		Meta: directory.Meta{Created: created, LastModified: modified},
	}
	switch r.IntN(3) {
	case 2:
		u.Emails = append(u.Emails, directory.Email{Value: fmt.Sprintf("u%d@alt.example.net", i), Type: "other"})
		fallthrough
	case 1:
		u.Emails = append(u.Emails, directory.Email{Value: fmt.Sprintf("%s%d@mail.example.org", asciiLower(given), i), Type: "home"})
	}
	if r.IntN(50) == 0 {
		u.Status = directory.StatusDisabled
	}
	return u
}

// all returns users lo to hi-1, generated in order.
func (d dataset) all(lo, hi int) iter.Seq[directory.User] {
	return func(yield func(directory.User) bool) {
		for i := lo; i < hi; i++ {
			if !yield(d.user(i)) {
				return
			}
		}
	}
}

// uuid7 formats a UUIDv7 from a time and random bits.
func uuid7(t time.Time, r *rand.Rand) string {
	ms := uint64(t.UnixMilli())
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-7%03x-%04x-%012x",
		ms>>16, ms&0xffff, a&0xfff, 0x8000|(a>>12)&0x3fff, b&0xffffffffffff)
}

// asciiLower lower-cases s and drops what is not a letter a–z, for the
// local parts of email addresses.
func asciiLower(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// stored returns u as the directory stores it after an import: version 1.
// Its JSON form is the compact encoding the size comparison uses.
func stored(u directory.User) directory.User {
	u.Meta.Version = 1
	return u
}

// jsonSize returns the size of u's compact JSON encoding.
func jsonSize(u directory.User) int {
	b, err := json.Marshal(stored(u))
	if err != nil {
		panic(err) // a generated user always encodes
	}
	return len(b)
}
