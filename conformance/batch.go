package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// The Batch group drives backend.Batcher directly, with a kind of its own:
// a batch's items are stored or refused one by one, as Create would, so
// the checks need documents the directory would never write (a nil one, a
// foreign one) and errors as the backend reports them.

// batchKindName is the kind the Batch group defines.
const batchKindName = "batchdocs"

// batchDoc is a document of the Batch group's kind: a folded unique name,
// folded unique emails (multi-valued) and a non-unique team.
type batchDoc struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Emails []string `json:"emails,omitempty"`
	Team   string   `json:"team,omitempty"`
}

// Attr exposes the document's attributes to the query package.
func (d *batchDoc) Attr(name string) any {
	switch name {
	case "id":
		return d.ID
	case "name":
		return d.Name
	case "emails":
		if len(d.Emails) == 0 {
			return nil
		}
		out := make([]any, len(d.Emails))
		for i, e := range d.Emails {
			out[i] = map[string]any{"value": e}
		}
		return out
	case "team":
		if d.Team == "" {
			return nil
		}
		return d.Team
	}
	return nil
}

// foreignDoc is a document of another type, which the kind's codec
// refuses.
type foreignDoc struct{}

func (foreignDoc) Attr(string) any { return nil }

type batchCodec struct{}

func (batchCodec) Marshal(doc backend.Document) ([]byte, error) {
	d, ok := doc.(*batchDoc)
	if !ok {
		return nil, fmt.Errorf("batch codec: unexpected document type %T", doc)
	}
	return json.Marshal(d)
}

func (batchCodec) Unmarshal(b []byte) (backend.Document, error) {
	d := new(batchDoc)
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("batch codec: %w", err)
	}
	return d, nil
}

var batchKind = backend.Kind{
	Name: batchKindName,
	Schema: query.NewSchema("urn:userdir:conformance:BatchDoc", []query.AttrDef{
		{Name: "id", Type: query.TypeString, CaseExact: true, Required: true},
		{Name: "name", Type: query.TypeString, Required: true},
		{Name: "emails", Type: query.TypeComplex, Multi: true, Sub: []query.AttrDef{{Name: "value", Type: query.TypeString}}},
		{Name: "team", Type: query.TypeString},
	}),
	Indexes: []backend.Index{
		{Name: "name", Attr: "name", Unique: true},
		{Name: "emails", Attr: "emails.value", Unique: true},
		{Name: "team", Attr: "team"},
	},
	Codec: batchCodec{},
}

// batchEnv is a fresh backend with the Batch group's kind defined.
type batchEnv struct {
	t *testing.T
	b backend.Backend
	w backend.Batcher
}

// newDocBackend makes a fresh backend with the Batch group's kind
// defined.
func (s *suite) newDocBackend(t *testing.T) backend.Backend {
	t.Helper()
	b := s.newBackend(t)
	require.NotNil(t, b, "the backend factory returned nil")
	require.NoError(t, b.Define(t.Context(), batchKind), "define the batch kind")
	return b
}

// newBatchEnv makes a fresh backend for the Batch group, skipping the
// test when the backend is no backend.Batcher.
func (s *suite) newBatchEnv(t *testing.T) *batchEnv {
	t.Helper()
	b := s.newDocBackend(t)
	w, ok := b.(backend.Batcher)
	if !ok {
		t.Skip("the backend is not a backend.Batcher")
	}
	return &batchEnv{t: t, b: b, w: w}
}

// records reads every record of the batch kind in tenant, by id.
func (e *batchEnv) records(tenant string) map[string]backend.Record {
	e.t.Helper()
	out := map[string]backend.Record{}
	for rec, err := range e.b.Query(e.t.Context(), tenant, backend.Query{Kind: batchKindName}) {
		require.NoError(e.t, err, "query every record")
		require.NotContainsf(e.t, out, rec.ID, "record %s returned twice", rec.ID)
		out[rec.ID] = rec
	}
	return out
}

// How a batch item ends, in the cases of testBatch; any other outcome is
// the name of the unique index that refuses it with ErrAlreadyExists.
const (
	batchStored  = ""    // stored
	batchIDTaken = "#id" // ErrAlreadyExists on the id
	batchBad     = "!"   // refused, but not as taken
)

// testBatch checks backend.Batcher (a backend that lacks it skips the
// group): each item of a batch is stored with version 1 or refused on its
// own, as Create would, against stored records and the earlier items of
// the batch, a refused item changes nothing, and racing batches keep
// uniqueness.
func testBatch(t *testing.T, s *suite) {
	if _, ok := s.newBackend(t).(backend.Batcher); !ok {
		t.Skip("the backend is not a backend.Batcher")
	}
	doc := func(id, name string, emails ...string) *batchDoc {
		return &batchDoc{ID: id, Name: name, Emails: emails, Team: "t1"}
	}
	cases := []struct {
		name  string
		have  []*batchDoc        // created before the batch
		items []backend.Document // nil: a nil document
		want  []string           // per item: batchStored, batchIDTaken, batchBad or an index
		// probes are created after the batch and must be stored: the
		// values a refused item named and nothing else holds are free.
		probes []*batchDoc
	}{
		{name: "Empty"},
		{name: "AllNew",
			items: []backend.Document{doc("a", "Ann", "ann@example.com"), doc("b", "Bob"), doc("c", "Cy", "cy@example.com", "cy@example.org")},
			want:  []string{batchStored, batchStored, batchStored}},
		{name: "IDTakenInBatch",
			items:  []backend.Document{doc("a", "Ann"), doc("b", "Bob"), doc("a", "Another")},
			want:   []string{batchStored, batchStored, batchIDTaken},
			probes: []*batchDoc{doc("p", "another")}},
		{name: "NameTakenInBatch",
			items:  []backend.Document{doc("a", "Straße"), doc("b", "STRASSE", "b@example.com")},
			want:   []string{batchStored, "name"},
			probes: []*batchDoc{doc("b", "probe", "B@example.com")}},
		{name: "EmailTakenInBatch",
			items:  []backend.Document{doc("a", "Ann", "p@example.com", "q@example.com"), doc("b", "Bob", "r@example.com", "Q@EXAMPLE.com")},
			want:   []string{batchStored, "emails"},
			probes: []*batchDoc{doc("b", "bob", "r@example.com")}},
		{name: "OwnValuesTwice",
			items: []backend.Document{doc("a", "Ann", "a@example.com", "A@example.com")},
			want:  []string{batchStored}},
		{name: "TakenByStored",
			have: []*batchDoc{doc("s", "Sam", "sam@example.com")},
			items: []backend.Document{doc("s", "Other", "other@example.com"), doc("x", "SAM", "x@example.com"),
				doc("y", "Yan", "Sam@Example.com"), doc("z", "Zoe", "zoe@example.com")},
			want:   []string{batchIDTaken, "name", "emails", batchStored},
			probes: []*batchDoc{doc("p1", "other", "OTHER@example.com"), doc("x", "x", "x@example.com"), doc("y", "yan")}},
		{name: "BadAmongGood",
			items: []backend.Document{doc("a", "Ann"), nil, doc("b", "Bob"), foreignDoc{}, doc("c", "Cy")},
			want:  []string{batchStored, batchBad, batchStored, batchBad, batchStored}},
		{name: "RefusedLeavesNothing",
			items: []backend.Document{doc("a", "Ann", "ann@example.com"), doc("b", "Fresh", "fresh@example.com", "ANN@example.com"),
				doc("c", "fresh", "FRESH@example.com"), doc("b", "Bob")},
			want: []string{batchStored, "emails", batchStored, batchStored}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Len(t, c.want, len(c.items), "one outcome per item")
			e := s.newBatchEnv(t)
			ctx := t.Context()
			for _, d := range c.have {
				_, err := e.b.Create(ctx, tenant, batchKindName, d.ID, d)
				require.NoErrorf(t, err, "create %s", d.ID)
			}
			// An item is refused exactly when Create refuses it: a document
			// the kind's codec cannot encode is refused by a backend that
			// encodes documents and stored by one that keeps them as given
			// (memory). Create in another tenant tells which.
			outcomes := slices.Clone(c.want)
			for i, d := range c.items {
				if outcomes[i] != batchBad || d == nil {
					continue
				}
				if _, err := e.b.Create(ctx, tenant+"-probe", batchKindName, fmt.Sprintf("bad-%d", i), d); err == nil {
					outcomes[i] = batchStored
				}
			}
			items := make([]backend.BatchItem, len(c.items))
			for i, d := range c.items {
				items[i].Doc = d
				if bd, ok := d.(*batchDoc); ok {
					items[i].ID = bd.ID
				} else {
					items[i].ID = fmt.Sprintf("bad-%d", i)
				}
			}
			errs, err := e.w.CreateBatch(ctx, tenant, batchKindName, items)
			require.NoError(t, err)
			require.Len(t, errs, len(items), "one error per item")

			recs := e.records(tenant)
			want := len(c.have)
			for i, w := range outcomes {
				it := items[i]
				switch w {
				case batchStored:
					want++
					if assert.NoErrorf(t, errs[i], "item %d", i) {
						rec, err := e.b.Get(ctx, tenant, batchKindName, it.ID)
						if assert.NoErrorf(t, err, "item %d is stored", i) {
							assert.Equalf(t, int64(1), rec.Version, "item %d starts at version 1", i)
							assert.Equalf(t, it.Doc, rec.Doc, "item %d is stored as given", i)
						}
					}
				case batchBad:
					assert.Errorf(t, errs[i], "item %d is refused", i)
					assert.NotErrorIsf(t, errs[i], backend.ErrAlreadyExists, "item %d", i)
					assert.NotContainsf(t, recs, it.ID, "refused item %d is not stored", i)
				default:
					index := w
					if w == batchIDTaken {
						index = ""
					}
					var be *backend.Error
					if assert.ErrorIsf(t, errs[i], backend.ErrAlreadyExists, "item %d", i) &&
						assert.Truef(t, errors.As(errs[i], &be), "item %d: ErrAlreadyExists reaches a *backend.Error", i) {
						assert.Equalf(t, index, be.Index, "item %d: the error names the unique index", i)
						assert.Equalf(t, it.ID, be.ID, "item %d: the error names the item", i)
					}
					if rec, ok := recs[it.ID]; ok {
						assert.NotEqualf(t, it.Doc, rec.Doc, "refused item %d did not overwrite record %s", i, it.ID)
					}
				}
			}
			assert.Len(t, recs, want, "the stored records and the batch's stored items, and nothing else")
			for _, p := range c.probes {
				_, err := e.b.Create(ctx, tenant, batchKindName, p.ID, p)
				assert.NoErrorf(t, err, "probe %s: a refused item's values stay free", p.ID)
			}
		})
	}

	t.Run("Racing", func(t *testing.T) { testRacingBatches(t, s) })
}

// testRacingBatches runs racers writers at once over one set of contested
// values: batches, and one writer using Create, each writing one record
// per contested value. Exactly one writer wins each value.
func testRacingBatches(t *testing.T, s *suite) {
	const per = 24
	contests := []struct {
		name  string
		index string
		doc   func(r, j int) *batchDoc
	}{
		{"Name", "name", func(r, j int) *batchDoc {
			return &batchDoc{ID: fmt.Sprintf("r%02d-%02d", r, j), Name: caseVariant(fmt.Sprintf("name-%02d", j), uint64(r)),
				Emails: []string{fmt.Sprintf("r%02d-%02d@example.com", r, j)}}
		}},
		{"Email", "emails", func(r, j int) *batchDoc {
			return &batchDoc{ID: fmt.Sprintf("r%02d-%02d", r, j), Name: fmt.Sprintf("r%02d-%02d", r, j),
				Emails: []string{fmt.Sprintf("own-%02d-%02d@example.com", r, j), caseVariant(fmt.Sprintf("shared-%02d@example.com", j), uint64(r))}}
		}},
		{"ID", "", func(r, j int) *batchDoc {
			return &batchDoc{ID: fmt.Sprintf("id-%02d", j), Name: fmt.Sprintf("r%02d-%02d", r, j)}
		}},
	}
	for _, c := range contests {
		t.Run(c.name, func(t *testing.T) {
			e := s.newBatchEnv(t)
			ctx := t.Context()
			errs := make([][]error, racers)
			failed := race(func(r int) error {
				items := make([]backend.BatchItem, per)
				for j := range items {
					// Racers go through the values in different orders.
					d := c.doc(r, (j+r)%per)
					items[j] = backend.BatchItem{ID: d.ID, Doc: d}
				}
				if r == 0 {
					errs[r] = make([]error, per)
					for j, it := range items {
						_, errs[r][j] = e.b.Create(ctx, tenant, batchKindName, it.ID, it.Doc)
					}
					return nil
				}
				var err error
				errs[r], err = e.w.CreateBatch(ctx, tenant, batchKindName, items)
				return err
			})
			for r, err := range failed {
				require.NoErrorf(t, err, "racer %d", r)
				require.Lenf(t, errs[r], per, "racer %d: one error per item", r)
			}
			winners := make([][]int, per)
			for r := range racers {
				for j, err := range errs[r] {
					v := (j + r) % per
					if err == nil {
						winners[v] = append(winners[v], r)
						continue
					}
					var be *backend.Error
					if assert.ErrorIsf(t, err, backend.ErrAlreadyExists, "racer %d, value %d", r, v) &&
						assert.Truef(t, errors.As(err, &be), "racer %d, value %d", r, v) {
						assert.Equalf(t, c.index, be.Index, "racer %d, value %d: the error names the index", r, v)
					}
				}
			}
			recs := e.records(tenant)
			assert.Len(t, recs, per, "one record per contested value")
			for v, w := range winners {
				if !assert.Lenf(t, w, 1, "value %d has exactly one winner", v) {
					continue
				}
				want := c.doc(w[0], v)
				if rec, ok := recs[want.ID]; assert.Truef(t, ok, "the winner of value %d is stored", v) {
					assert.Equal(t, want, rec.Doc, "value %d is held by its winner's record", v)
				}
			}
		})
	}
}
