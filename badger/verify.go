package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

// Report is the outcome of Verify.
type Report struct {
	Records int // records checked
	Entries int // index entries checked
	// Skipped counts the records and entries of kinds this Store has not
	// defined, whose indexes it does not know and so cannot check.
	Skipped  int
	Problems []Problem
	// Truncated is set when there were more than MaxProblems problems;
	// only the first are listed.
	Truncated bool
}

// MaxProblems bounds the problems a Report lists.
const MaxProblems = 1000

// OK reports whether Verify found nothing wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 && !r.Truncated }

// Problem is one mismatch between the records and the index entries.
type Problem struct {
	Kind   ProblemKind
	Tenant string
	Type   string // the kind of record ("users")
	Index  string // the index, for index problems
	ID     string // the record concerned, when known
	Key    []byte // the stored key at fault, or the key that is missing
	Detail string
}

// String describes the problem on one line.
func (p Problem) String() string {
	s := fmt.Sprintf("%s: tenant %q %s %q", p.Kind, p.Tenant, p.Type, p.ID)
	if p.Index != "" {
		s += " index " + p.Index
	}
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// ProblemKind classifies a Problem.
type ProblemKind uint8

// The problems Verify reports.
const (
	// OrphanEntry is an index entry whose record is missing, or whose
	// record does not have the entry's value.
	OrphanEntry ProblemKind = iota + 1
	// MissingEntry is a value of a record's indexed attribute with no
	// index entry: queries through the index miss the record.
	MissingEntry
	// WrongUnique is a unique index entry that names another record than
	// the one holding its value.
	WrongUnique
	// UndecodableRecord is a record whose value is not a version and a
	// document its kind's Codec decodes.
	UndecodableRecord
	// MissingRequired is a record without a value at an indexed attribute
	// the schema marks Required: sorted scans of that index skip it.
	MissingRequired
	// MalformedKey is a key that does not follow the store's layout.
	MalformedKey
	// UnknownIndex is an entry of an index the kind does not declare, or
	// in the keyspace of the other uniqueness.
	UnknownIndex
)

var problemNames = [...]string{
	OrphanEntry:       "orphan index entry",
	MissingEntry:      "missing index entry",
	WrongUnique:       "wrong unique mapping",
	UndecodableRecord: "undecodable record",
	MissingRequired:   "missing required value",
	MalformedKey:      "malformed key",
	UnknownIndex:      "entry of unknown index",
}

// String names the kind of problem.
func (k ProblemKind) String() string {
	if k == 0 || int(k) >= len(problemNames) {
		return "problem?"
	}
	return problemNames[k]
}

// group is one index of one kind in one tenant: the unit whose entries
// Verify counts.
type group struct {
	tenant, kind string
	ix           int
}

// verifier is the state of one Verify run.
type verifier struct {
	s     *Store
	ctx   context.Context
	txn   *badgerdb.Txn
	kinds map[string]*kindDef
	rep   Report
	// expected and actual count the entries per group that the records
	// call for and that are stored; dirty marks the groups where an
	// expected entry was missing or wrong.
	expected, actual map[group]int
	dirty            map[group]bool
	undecodable      map[string]bool // record keys
	n                int
}

// Verify checks, in one snapshot, that the index entries match the
// records: every value of an indexed attribute of every record has its
// entry (a unique one naming the record), and every entry belongs to a
// record with its value. It also reports records that do not decode,
// records lacking a required indexed value, and keys that do not parse.
//
// It reads every record once, with a point read per expected entry, and
// every entry key once; entries are matched back to their records only in
// the indexes whose entry count differs from what the records call for,
// so a consistent store is verified in time linear in its size and in
// memory proportional to the number of indexes and tenants.
func (s *Store) Verify(ctx context.Context) (Report, error) {
	if err := s.enter("verify", "", ""); err != nil {
		return Report{}, err
	}
	defer s.leave()
	v := &verifier{
		s:           s,
		ctx:         ctx,
		kinds:       *s.kinds.Load(),
		expected:    map[group]int{},
		actual:      map[group]int{},
		dirty:       map[group]bool{},
		undecodable: map[string]bool{},
	}
	err := s.db.View(func(txn *badgerdb.Txn) error {
		v.txn = txn
		if err := v.records(); err != nil {
			return err
		}
		if err := v.entries(); err != nil {
			return err
		}
		return v.orphans()
	})
	if err != nil {
		return v.rep, fmt.Errorf("badger: verify: %w", err)
	}
	return v.rep, nil
}

func (v *verifier) add(p Problem) {
	if len(v.rep.Problems) >= MaxProblems {
		v.rep.Truncated = true
		return
	}
	v.rep.Problems = append(v.rep.Problems, p)
}

// tick checks the context every so many steps.
func (v *verifier) tick() error {
	if v.n++; v.n%1024 == 0 {
		return v.ctx.Err()
	}
	return nil
}

// records checks that every record decodes and has its index entries.
func (v *verifier) records() error {
	prefix := []byte{spaceRecord, formatVersion}
	it := v.txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Seek(prefix); it.Valid(); it.Next() {
		if err := v.tick(); err != nil {
			return err
		}
		item := it.Item()
		k := item.KeyCopy(nil)
		p, err := parseKey(k)
		if err != nil {
			v.add(Problem{Kind: MalformedKey, Key: k, Detail: err.Error()})
			continue
		}
		kd := v.kinds[p.kind]
		if kd == nil {
			v.rep.Skipped++
			continue
		}
		v.rep.Records++
		_, doc, err := decodeItem(kd, item)
		if err != nil {
			v.undecodable[string(k)] = true
			v.add(Problem{Kind: UndecodableRecord, Tenant: p.tenant, Type: p.kind, ID: p.id, Key: k, Detail: err.Error()})
			continue
		}
		keys, err := kd.rowKeys(p.tenant, p.id, doc)
		if err != nil {
			v.add(Problem{Kind: MalformedKey, Tenant: p.tenant, Type: p.kind, ID: p.id, Key: k, Detail: err.Error()})
			continue
		}
		for i, ks := range keys {
			ix := kd.indexes[i]
			g := group{p.tenant, p.kind, i}
			v.expected[g] += len(ks)
			if len(ks) == 0 && ix.Attr.Required {
				v.add(Problem{Kind: MissingRequired, Tenant: p.tenant, Type: p.kind, Index: ix.Name, ID: p.id, Key: k,
					Detail: "no value at " + ix.Attr.Name})
			}
			for _, ek := range ks {
				if err := v.checkEntry(kd, g, ek, p.id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkEntry checks that the entry k that record id calls for is stored.
func (v *verifier) checkEntry(kd *kindDef, g group, k []byte, id string) error {
	ix := kd.indexes[g.ix]
	item, err := v.txn.Get(k)
	if errors.Is(err, badgerdb.ErrKeyNotFound) {
		v.dirty[g] = true
		v.add(Problem{Kind: MissingEntry, Tenant: g.tenant, Type: g.kind, Index: ix.Name, ID: id, Key: k})
		return nil
	}
	if err != nil || !ix.Unique {
		return err
	}
	owner, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	if string(owner) != id {
		v.dirty[g] = true
		v.add(Problem{Kind: WrongUnique, Tenant: g.tenant, Type: g.kind, Index: ix.Name, ID: id, Key: k,
			Detail: fmt.Sprintf("the entry names %q", owner)})
	}
	return nil
}

// entries counts the stored entries per group and reports those that
// belong to no declared index.
func (v *verifier) entries() error {
	for _, space := range []byte{spaceEntry, spaceUnique} {
		prefix := []byte{space, formatVersion}
		it := v.txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix})
		for it.Seek(prefix); it.Valid(); it.Next() {
			if err := v.tick(); err != nil {
				it.Close()
				return err
			}
			k := it.Item().KeyCopy(nil)
			p, err := parseKey(k)
			if err != nil {
				v.add(Problem{Kind: MalformedKey, Key: k, Detail: err.Error()})
				continue
			}
			kd := v.kinds[p.kind]
			if kd == nil {
				v.rep.Skipped++
				continue
			}
			v.rep.Entries++
			i := slices.IndexFunc(kd.indexes, func(ix backend.CompiledIndex) bool { return ix.Name == p.index })
			if i < 0 || kd.spaces[i] != space {
				v.add(Problem{Kind: UnknownIndex, Tenant: p.tenant, Type: p.kind, Index: p.index, ID: p.id, Key: k})
				continue
			}
			v.actual[group{p.tenant, p.kind, i}]++
		}
		it.Close()
	}
	return nil
}

// orphans finds the entries that no record calls for, in the groups where
// the counts show there must be some, or where the records' check found
// something amiss and the counts prove nothing.
func (v *verifier) orphans() error {
	suspect := map[group]bool{}
	for g, n := range v.actual {
		if n != v.expected[g] || v.dirty[g] {
			suspect[g] = true
		}
	}
	for g := range v.dirty {
		if v.actual[g] > 0 {
			suspect[g] = true
		}
	}
	for g := range suspect {
		if err := v.orphansIn(g); err != nil {
			return err
		}
	}
	return nil
}

// orphansIn matches every entry of a group with its record.
func (v *verifier) orphansIn(g group) error {
	kd := v.kinds[g.kind]
	ix := kd.indexes[g.ix]
	prefix := indexPrefix(kd.spaces[g.ix], g.tenant, g.kind, ix.Name)
	it := v.txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.Valid(); it.Next() {
		if err := v.tick(); err != nil {
			return err
		}
		item := it.Item()
		k := item.KeyCopy(nil)
		id, err := entryID(item, prefix, ix.Unique)
		if err != nil {
			continue // entries reported it
		}
		rk := recordKey(g.tenant, g.kind, id)
		if v.undecodable[string(rk)] {
			continue // reported; its entries cannot be judged
		}
		rec, err := v.txn.Get(rk)
		if errors.Is(err, badgerdb.ErrKeyNotFound) {
			v.add(Problem{Kind: OrphanEntry, Tenant: g.tenant, Type: g.kind, Index: ix.Name, ID: id, Key: k, Detail: "no such record"})
			continue
		}
		if err != nil {
			return err
		}
		_, doc, err := decodeItem(kd, rec)
		if err != nil {
			continue
		}
		keys, err := kd.rowKeys(g.tenant, id, doc)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(keys[g.ix], func(ek []byte) bool { return bytes.Equal(ek, k) }) {
			v.add(Problem{Kind: OrphanEntry, Tenant: g.tenant, Type: g.kind, Index: ix.Name, ID: id, Key: k, Detail: "the record does not have this value"})
		}
	}
	return nil
}
