package badger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Key layout, format version 1.
//
// Every key starts with a keyspace byte and the format version byte. The
// string components (tenant, kind, index name, id) are escaped, 0x00
// becoming 0x00 0xFF, and terminated by 0x00 0x01, so each is prefix-free
// and the keys order by their components in turn. The value key is
// backend.CompiledIndex.Keys' encoding (query.AppendKey), which is already
// order-preserving and prefix-free, so it is used as it is.
//
//	record  02 01 | tenant | kind | id                          -> version (8 bytes, big-endian) + Codec bytes
//	entry   03 01 | tenant | kind | index | value key | id | n  -> empty
//	unique  04 01 | tenant | kind | index | value key           -> id
//	meta    01 01 | name [| arg]                                 -> meta value
//
// A non-unique index has one entry per (value, record); the id in the key
// keeps entries of one value distinct and in id order. The trailing n is
// the length of the escaped id as two big-endian bytes: the value key can
// only be split from the id by decoding it, and n lets a scan read the id
// from the end of the key instead. It never decides an order, since two
// entries differ before it.
//
// A unique index has one key per value with the owning id as its value, so
// that checking a value is a point read: a point read is in the reading
// transaction's conflict set, which makes two racing writers of one value
// conflict at commit.
//
// The tenant comes first, so one tenant's data is one contiguous range of
// each keyspace; no key is written or read without one.
const (
	spaceMeta   byte = 0x01
	spaceRecord byte = 0x02
	spaceEntry  byte = 0x03
	spaceUnique byte = 0x04

	formatVersion byte = 0x01
)

// versionLen is the length of the version that starts a record's value.
const versionLen = 8

// idTrailerLen is the length of the trailer of an entry key.
const idTrailerLen = 2

// errMalformedKey reports a key that does not follow the layout.
var errMalformedKey = errors.New("malformed key")

// appendString appends s escaped and terminated.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0, 1)
}

// escapedLen is the length of appendString(nil, s).
func escapedLen(s string) int {
	return len(s) + strings.Count(s, "\x00") + 2
}

// readString reads an escaped and terminated string from the start of b
// and returns it with the rest of b.
func readString(b []byte) (s string, rest []byte, err error) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case 1:
			out = append(out, b[:i]...)
			return string(out), b[i+2:], nil
		case 0xFF:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, errMalformedKey
		}
	}
	return "", nil, errMalformedKey
}

// recordPrefix is the prefix of the keys of every record of a kind in a
// tenant.
func recordPrefix(tenant, kind string) []byte {
	b := make([]byte, 0, 2+len(tenant)+len(kind)+4)
	b = append(b, spaceRecord, formatVersion)
	b = appendString(b, tenant)
	return appendString(b, kind)
}

// recordKey is the key of one record.
func recordKey(tenant, kind, id string) []byte {
	return appendString(recordPrefix(tenant, kind), id)
}

// indexPrefix is the prefix of every key of one index in a tenant: space
// is spaceEntry for a non-unique index and spaceUnique for a unique one.
func indexPrefix(space byte, tenant, kind, index string) []byte {
	return appendIndexPrefix(make([]byte, 0, 2+len(tenant)+len(kind)+len(index)+6+32), space, tenant, kind, index)
}

// appendIndexPrefix appends indexPrefix(space, tenant, kind, index) to b.
func appendIndexPrefix(b []byte, space byte, tenant, kind, index string) []byte {
	b = append(b, space, formatVersion)
	b = appendString(b, tenant)
	b = appendString(b, kind)
	return appendString(b, index)
}

// entryKey is the key of a non-unique index entry: the index prefix, the
// value key, the escaped id and the id's length.
func entryKey(prefix, vkey []byte, id string) ([]byte, error) {
	b := make([]byte, 0, len(prefix)+len(vkey)+len(id)+2+idTrailerLen)
	b = append(b, prefix...)
	b = append(b, vkey...)
	return appendEntryTrailer(b, id)
}

// appendEntryTrailer appends what follows the value key in an entry key:
// the escaped id and its length.
func appendEntryTrailer(b []byte, id string) ([]byte, error) {
	start := len(b)
	b = appendString(b, id)
	n := len(b) - start
	if n > 0xFFFF {
		return nil, fmt.Errorf("id of %d bytes is too long for an index entry", len(id))
	}
	return binary.BigEndian.AppendUint16(b, uint16(n)), nil
}

// entryIDPrefix is an entry key without its trailer: the position of the
// entry (value, id) in its index, for seeking.
func entryIDPrefix(prefix, vkey []byte, id string) []byte {
	b := make([]byte, 0, len(prefix)+len(vkey)+len(id)+2)
	b = append(b, prefix...)
	b = append(b, vkey...)
	return appendString(b, id)
}

// uniqueKey is the key of a unique index entry.
func uniqueKey(prefix, vkey []byte) []byte {
	b := make([]byte, 0, len(prefix)+len(vkey))
	b = append(b, prefix...)
	return append(b, vkey...)
}

// splitEntry splits the part of an entry key after its index prefix into
// the value key and the id.
func splitEntry(rest []byte) (vkey []byte, id string, err error) {
	if len(rest) < idTrailerLen {
		return nil, "", errMalformedKey
	}
	n := int(binary.BigEndian.Uint16(rest[len(rest)-idTrailerLen:]))
	body := rest[:len(rest)-idTrailerLen]
	if n < 2 || n > len(body) {
		return nil, "", errMalformedKey
	}
	id, tail, err := readString(body[len(body)-n:])
	if err != nil || len(tail) != 0 {
		return nil, "", errMalformedKey
	}
	return body[:len(body)-n], id, nil
}

// metaKey is the key of a piece of metadata.
func metaKey(name string, args ...string) []byte {
	b := append([]byte{spaceMeta, formatVersion}, appendString(nil, name)...)
	for _, a := range args {
		b = appendString(b, a)
	}
	return b
}

// Meta names.
const (
	metaFormat = "format" // no arg; value: the format version byte
	metaKind   = "kind"   // arg: kind name; value: kindMeta as JSON
)

// key is a parsed key.
type key struct {
	space  byte
	tenant string
	kind   string
	index  string // entry and unique keys
	vkey   []byte // entry and unique keys: the value key
	id     string // record and entry keys
	meta   []string
}

// parseKey parses any key of the layout. The value key of an entry or
// unique key aliases k.
func parseKey(k []byte) (key, error) {
	var p key
	if len(k) < 2 || k[1] != formatVersion {
		return p, errMalformedKey
	}
	p.space = k[0]
	rest := k[2:]
	var err error
	if p.space == spaceMeta {
		for len(rest) > 0 {
			var s string
			if s, rest, err = readString(rest); err != nil {
				return p, err
			}
			p.meta = append(p.meta, s)
		}
		if len(p.meta) == 0 {
			return p, errMalformedKey
		}
		return p, nil
	}
	if p.space != spaceRecord && p.space != spaceEntry && p.space != spaceUnique {
		return p, errMalformedKey
	}
	if p.tenant, rest, err = readString(rest); err != nil {
		return p, err
	}
	if p.kind, rest, err = readString(rest); err != nil {
		return p, err
	}
	switch p.space {
	case spaceRecord:
		var tail []byte
		if p.id, tail, err = readString(rest); err != nil {
			return p, err
		}
		if len(tail) != 0 {
			return p, errMalformedKey
		}
	case spaceEntry:
		if p.index, rest, err = readString(rest); err != nil {
			return p, err
		}
		if p.vkey, p.id, err = splitEntry(rest); err != nil {
			return p, err
		}
		if len(p.vkey) == 0 {
			return p, errMalformedKey
		}
	case spaceUnique:
		if p.index, p.vkey, err = readString(rest); err != nil {
			return p, err
		}
		if len(p.vkey) == 0 {
			return p, errMalformedKey
		}
	}
	return p, nil
}

// appendRecordValue appends a record's stored value: its version and its
// encoded document.
func appendRecordValue(dst []byte, version int64, doc []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(version))
	return append(dst, doc...)
}

// splitRecordValue splits a record's stored value into its version and its
// encoded document, which aliases v.
func splitRecordValue(v []byte) (int64, []byte, error) {
	if len(v) < versionLen {
		return 0, nil, errors.New("record value shorter than its version")
	}
	ver := int64(binary.BigEndian.Uint64(v))
	if ver < 1 {
		return 0, nil, fmt.Errorf("record version %d is not positive", ver)
	}
	return ver, v[versionLen:], nil
}
