package memory

import (
	"fmt"
	"io"

	"github.com/userdir/userdir/backend"
)

// Dump writes everything the store holds now, for a byte search that
// checks erased data is gone: for every tenant and kind, each record's id
// and document encoded with the kind's Codec, then the raw bytes of every
// key of every index tree. The format is for searching, not for loading back.
//
// Only the current snapshots are written: an overwritten document is
// unreachable once no Query still iterates a snapshot holding it, so the
// store has nothing to compact (it implements no backend.Compactor).
func (s *Store) Dump(w io.Writer) error {
	kinds := *s.kinds.Load()
	var err error
	write := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	s.tenants.Load().Ascend(func(it tenantItem) bool {
		snap := it.t.snap.Load()
		for name, kd := range kinds {
			tb := snap.table(kd)
			if tb == nil {
				continue
			}
			write("tenant %q kind %q\n", it.name, name)
			tb.primary.Ascend(func(ri rowItem) bool {
				write("record %q version %d: ", ri.id, ri.r.rec.Version)
				if err == nil {
					err = dumpDoc(w, kd.kind, ri.r.rec.Doc)
				}
				write("\n")
				return err == nil
			})
			for i, ix := range tb.indexes {
				ix.Ascend(func(e entry) bool {
					write("index %s: %s %q\n", kd.indexes[i].Name, e.key, e.r.rec.ID)
					return err == nil
				})
			}
		}
		return err == nil
	})
	return err
}

// dumpDoc writes doc encoded with its kind's codec, or in Go syntax when
// the kind has none.
func dumpDoc(w io.Writer, k backend.Kind, doc backend.Document) error {
	if k.Codec == nil {
		_, err := fmt.Fprintf(w, "%+v", doc)
		return err
	}
	b, err := k.Codec.Marshal(doc)
	if err != nil {
		return fmt.Errorf("memory: dump %s: %w", k.Name, err)
	}
	_, err = w.Write(b)
	return err
}
