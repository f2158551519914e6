package mongo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// dumpTimeout bounds a Dump, which has no context of its own.
const dumpTimeout = 5 * time.Minute

// Dump writes every document of every collection in the store's database
// (records, reservations, write tickets), across all tenants: one line per
// document, as relaxed extended JSON, after a line naming its collection.
// A record's data (base64 in extended JSON) and its unique keys (which the
// store keeps as hex digits) are also written decoded, so that a search of
// the dump for a value finds it wherever the store holds it. It is for inspection and tests (it makes the store a
// conformance.Dumper, whose erasure check searches it for personal data).
func (s *Store) Dump(w io.Writer) error {
	if s.closed.Load() {
		return errors.New("mongo: dump: store closed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), dumpTimeout)
	defer cancel()
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mongo: dump: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := fmt.Fprintf(w, "# %s\n", name); err != nil {
			return err
		}
		c := collection{s.db.Collection(name)}
		cur, err := c.find(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("mongo: dump %s: %w", name, err)
		}
		for cur.Next(ctx) {
			if err := dumpDocument(w, cur.Current); err != nil {
				_ = cur.Close(ctx)
				return err
			}
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return fmt.Errorf("mongo: dump %s: %w", name, err)
		}
	}
	return nil
}

func dumpDocument(w io.Writer, raw bson.Raw) error {
	j, err := bson.MarshalExtJSON(raw, false, false)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n", j); err != nil {
		return err
	}
	// Extended JSON shows binary data as base64: the record's data is
	// written again as the bytes the codec made.
	if _, data, ok := raw.Lookup(fieldData).BinaryOK(); ok {
		if _, err := fmt.Fprintf(w, "  data: %s\n", data); err != nil {
			return err
		}
	}
	keys := uniqueKeys(raw)
	if k, ok := raw.Lookup(fieldKey).StringValueOK(); ok {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if !strings.Contains(k, "\x00") {
			continue
		}
		index, key := splitReservationKey(k)
		if _, err := fmt.Fprintf(w, "  key %s: %q\n", index, key); err != nil {
			return err
		}
	}
	return nil
}
