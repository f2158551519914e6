package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Field names of a record document (see the package documentation).
const (
	fieldID      = "_id"
	fieldTenant  = "t"
	fieldRecID   = "i"
	fieldVersion = "v"
	fieldData    = "d"
	fieldShadow  = "x"
	fieldClaims  = "c"
	fieldUnique  = "u"
	fieldGen     = "g"
)

// Field names of a reservation document.
const (
	fieldKey    = "k" // the reservation key, also encoded in _id
	fieldOwner  = "o"
	fieldNonce  = "n"
	fieldState  = "s"
	fieldExpiry = "e"
)

// reservationSuffix names a kind's reservation collection: "users_unique".
const reservationSuffix = "_unique"

// kindDef is a defined kind: its collections, compiled indexes and the
// shadow layout derived from its schema. It is immutable.
type kindDef struct {
	kind backend.Kind
	coll collection // the records
	res  collection // the unique-key reservations
	tix  collection // write tickets (FerretDB only)
	// idOnly makes point filters {_id} alone, and guards of conditional
	// writes checked in Go under a write ticket: the server is FerretDB
	// (see ids.go and ticket.go).
	idOnly  bool
	indexes []backend.CompiledIndex
	unique  []backend.CompiledIndex

	tree   []*node          // the shadow document's top-level fields
	fields map[string]*node // scalar nodes by canonical attribute name
	groups map[string]*node // complex nodes by canonical attribute name
	free   map[string]bool  // free-form attributes (claims) by name
	sorted map[string]bool  // attributes a declared index sorts by
}

// node is one field of the shadow document "x": a scalar attribute whose
// values are stored in comparable form, or a complex attribute whose
// elements are sub-documents of their own scalar fields. The shadow mirrors
// the schema, so MongoDB's dotted paths ("x.emails.value") flatten arrays
// exactly as the evaluator does, and $elemMatch can tie conditions to one
// element.
type node struct {
	name     string           // the name looked up in the resource: a declared name, or an extension's URN
	key      string           // the BSON field name
	path     string           // dotted BSON path from the record root: "x.emails.value"
	attr     *query.Attribute // the resolved attribute
	typ      query.Type
	multi    bool // this attribute is multi-valued
	anyMulti bool // it or an ancestor is multi-valued
	kids     []*node
	prefix   []string // names from the resource root down to the parent element
}

// Define declares kinds and creates their collections' indexes. Defining a
// kind again is allowed (it takes the new schema and codec); indexes that
// already exist with another key fail with the server's error.
func (s *Store) Define(ctx context.Context, kinds ...backend.Kind) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return &backend.Error{Op: "define", Err: backend.ErrClosed}
	}
	s.defMu.Lock()
	defer s.defMu.Unlock()

	cur := *s.kinds.Load()
	next := make(map[string]*kindDef, len(cur)+len(kinds))
	for name, kd := range cur {
		next[name] = kd
	}
	seen := map[string]bool{}
	for _, k := range kinds {
		if seen[k.Name] {
			return fmt.Errorf("mongo: define: kind %s given twice", k.Name)
		}
		seen[k.Name] = true
		kd, err := s.compileKind(k)
		if err != nil {
			return fmt.Errorf("mongo: define: %w", err)
		}
		if err := kd.checkLayout(ctx); err != nil {
			return fmt.Errorf("mongo: define: kind %s: %w", k.Name, err)
		}
		if err := kd.createIndexes(ctx); err != nil {
			return fmt.Errorf("mongo: define: kind %s: %w", k.Name, err)
		}
		next[k.Name] = kd
	}
	s.kinds.Store(&next)
	return nil
}

// checkLayout refuses a kind whose records or reservations were written
// with an earlier layout, whose _id was a sub-document: this layout would
// not find them by _id, so reads would miss them and a reservation would
// not hold its key. Every document of a collection has one layout, so one
// document tells; an unfiltered, unsorted find of one is cheap on every
// server, FerretDB included.
func (kd *kindDef) checkLayout(ctx context.Context) error {
	for _, c := range []collection{kd.coll, kd.res} {
		raw, err := c.findOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: fieldID, Value: 1}}))
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return err
		}
		if id := raw.Lookup(fieldID); id.Type != bson.TypeString {
			return &backend.Error{Op: "define", Kind: kd.kind.Name, Err: backend.ErrUnsupported,
				Cause: fmt.Errorf("collection %s holds documents written with an earlier layout (an _id of BSON type %s, not a string); this version cannot read them", c.c.Name(), id.Type)}
		}
	}
	return nil
}

// compileKind checks a kind and derives its layout.
func (s *Store) compileKind(k backend.Kind) (*kindDef, error) {
	if err := validCollection(k.Name); err != nil {
		return nil, err
	}
	if k.Schema == nil {
		return nil, fmt.Errorf("kind %s has no schema", k.Name)
	}
	if k.Codec == nil {
		return nil, fmt.Errorf("kind %s has no codec: a durable backend stores encoded documents", k.Name)
	}
	compiled, err := backend.CompileIndexes(k)
	if err != nil {
		return nil, err
	}
	kd := &kindDef{
		kind:    k,
		coll:    collection{s.db.Collection(k.Name)},
		res:     collection{s.db.Collection(k.Name + reservationSuffix)},
		tix:     collection{s.db.Collection(k.Name + ticketsSuffix)},
		idOnly:  s.server.FerretDB != "",
		indexes: compiled,
		fields:  map[string]*node{},
		groups:  map[string]*node{},
		free:    map[string]bool{},
		sorted:  map[string]bool{},
	}
	names := map[string]bool{}
	for _, ix := range compiled {
		switch {
		case ix.Name == "" || strings.ContainsRune(ix.Name, 0):
			return nil, fmt.Errorf("kind %s: index on %s needs a name without NUL", k.Name, ix.Attr.Name)
		case names[ix.Name]:
			return nil, fmt.Errorf("kind %s: index %s declared twice", k.Name, ix.Name)
		case ix.Attr.Type == query.TypeComplex:
			return nil, fmt.Errorf("kind %s: index %s: attribute %s is complex, not a scalar", k.Name, ix.Name, ix.Attr.Name)
		}
		names[ix.Name] = true
		if ix.Unique {
			kd.unique = append(kd.unique, ix)
		}
	}
	kd.buildTree(k.Schema)
	for _, ix := range compiled {
		if n := kd.fields[ix.Attr.Name]; n != nil && !n.anyMulti && ix.Attr.Required {
			kd.sorted[ix.Attr.Name] = true
		}
	}
	return kd, nil
}

// validCollection checks a kind name against MongoDB's collection naming
// rules.
func validCollection(name string) error {
	switch {
	case name == "":
		return errors.New("kind with empty name")
	case strings.ContainsAny(name, "$\x00"):
		return fmt.Errorf("kind %q: name contains '$' or NUL", name)
	case strings.HasPrefix(name, "system."):
		return fmt.Errorf("kind %q: names starting with system. are reserved", name)
	}
	return nil
}

// validKey reports whether name can be a BSON field name that dotted paths
// reach unambiguously.
func validKey(name string) bool {
	return name != "" && name[0] != '$' && !strings.ContainsAny(name, ".\x00")
}

// buildTree derives the shadow layout from the schema: one node per
// attribute, an extension's attributes under a node named for its URN
// (with the URN's dots replaced, since a dot would split the path).
// Attributes whose names cannot be field names are left out: filters on
// them are evaluated in Go.
func (kd *kindDef) buildTree(s *query.Schema) {
	used := map[string]bool{fieldShadow: true}
	for i := range s.Attrs() {
		def := &s.Attrs()[i]
		if def.Free {
			if validKey(def.Name) {
				kd.free[def.Name] = true
			}
			continue
		}
		if n := kd.attrNode(s, def, def.Name, nil, "x", false); n != nil && !used[n.key] {
			used[n.key] = true
			kd.tree = append(kd.tree, n)
		}
	}
	for _, ext := range s.Extensions() {
		key := strings.ReplaceAll(ext.URN, ".", "_")
		if !validKey(key) || used[key] {
			continue
		}
		a, err := s.Resolve(ext.URN)
		if err != nil {
			continue
		}
		n := &node{name: ext.URN, key: key, path: "x." + key, attr: a, typ: query.TypeComplex}
		for j := range ext.Attrs {
			def := &ext.Attrs[j]
			if def.Free {
				continue
			}
			if kid := kd.attrNode(s, def, ext.URN+":"+def.Name, []string{ext.URN}, n.path, false); kid != nil {
				n.kids = append(n.kids, kid)
			}
		}
		used[key] = true
		kd.groups[a.Name] = n
		kd.tree = append(kd.tree, n)
	}
}

// attrNode builds the node of def, whose resolvable path is resolve, below
// the element reached by prefix, at BSON path parent.
func (kd *kindDef) attrNode(s *query.Schema, def *query.AttrDef, resolve string, prefix []string, parent string, multiAbove bool) *node {
	if !validKey(def.Name) {
		return nil
	}
	a, err := s.Resolve(resolve)
	if err != nil {
		return nil
	}
	n := &node{
		name:     def.Name,
		key:      def.Name,
		path:     parent + "." + def.Name,
		attr:     a,
		typ:      def.Type,
		multi:    def.Multi,
		anyMulti: multiAbove || def.Multi,
		prefix:   prefix,
	}
	if def.Type != query.TypeComplex {
		if def.Free {
			return nil
		}
		kd.fields[a.Name] = n
		return n
	}
	kidPrefix := append(append([]string(nil), prefix...), def.Name)
	for j := range def.Sub {
		sub := &def.Sub[j]
		if sub.Free {
			continue
		}
		if kid := kd.attrNode(s, sub, resolve+"."+sub.Name, kidPrefix, n.path, n.anyMulti); kid != nil {
			n.kids = append(n.kids, kid)
		}
	}
	kd.groups[a.Name] = n
	return n
}

// createIndexes creates the indexes of a kind. Every index starts with the
// tenant and ends with the record id, so a tenant's records come out of
// any of them in (value, id) order, which is what keyset paging needs.
func (kd *kindDef) createIndexes(ctx context.Context) error {
	records := []mongodrv.IndexModel{index("t_i", fieldTenant, fieldRecID)}
	for _, ix := range kd.indexes {
		if n := kd.fields[ix.Attr.Name]; n != nil {
			records = append(records, index("t_"+ix.Name, fieldTenant, n.path, fieldRecID))
		}
		// A claims path has no index of its own: the claims index serves it.
	}
	if len(kd.free) > 0 {
		records = append(records, index("t_c", fieldTenant, fieldClaims))
	}
	if err := kd.coll.ensureIndexes(ctx, records); err != nil {
		return err
	}
	if len(kd.unique) == 0 {
		return nil
	}
	// Reservations are found by _id; this index lists an owner's, and
	// creates the collection so that Verify finds it before any write.
	return kd.res.ensureIndexes(ctx, []mongodrv.IndexModel{index("t_o", fieldTenant, fieldOwner)})
}

// index is an ascending index on keys.
func index(name string, keys ...string) mongodrv.IndexModel {
	d := make(bson.D, len(keys))
	for i, k := range keys {
		d[i] = bson.E{Key: k, Value: 1}
	}
	return mongodrv.IndexModel{Keys: d, Options: options.Index().SetName(name)}
}
