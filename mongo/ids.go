package mongo

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Every document the store writes has a string _id that encodes the fields
// that identify it, which the document also keeps as fields of their own:
//
//	record       joinID(tenant, id)                            "4:acme:2b9f…"
//	reservation  joinID(tenant, "<index>\x00<key hex>")        "4:acme:userName\x00616461"
//	ticket       joinID(tenant, id, gen, "<v>:<attempt>")      "4:acme:5:ada-1:24:66f1…:7:0"
//
// A string, because FerretDB v1 (SQLite) pushes down exactly one kind of
// filter, {_id: <string or ObjectID>} alone; anything else reads and
// decodes the whole collection (see the package documentation).

// joinID encodes parts as one string: each part but the last as its
// length in bytes in decimal, a colon, the part and a colon, then the last
// part as it is. The lengths make the encoding injective for any strings
// (NUL and invalid UTF-8 included): the first part is read by its length,
// the next one after it, and so on. Strings that share all parts but the
// last share a prefix that no other choice of those parts starts with, so
// a tenant's records form one contiguous range of _id, ordered by the id's
// bytes.
func joinID(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i < len(parts)-1 {
			b.WriteString(strconv.Itoa(len(p)))
			b.WriteByte(':')
			b.WriteString(p)
			b.WriteByte(':')
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

// recordID is the _id of a record.
func recordID(tenant, id string) string { return joinID(tenant, id) }

// reservationID is the _id of a unique key's reservation; key is a
// reservationKey, which may hold any bytes.
func reservationID(tenant, key string) string { return joinID(tenant, key) }

// ticketID is the _id of one attempt at a record's transition to version
// v (see ticket.go). The generation is hex digits and the numbers are
// decimal, so the last part is unambiguous without a length of its own.
func ticketID(tenant, id, gen string, v, attempt int64) string {
	return joinID(tenant, id, gen, strconv.FormatInt(v, 10)+":"+strconv.FormatInt(attempt, 10))
}

// pointFilter selects the one document whose _id is the encoding of
// tenant and more. On FerretDB it is {_id} alone, the one filter FerretDB
// finds by its _id index. Elsewhere it leads with the tenant, {t, _id}, as
// every other filter of the store does: a collection sharded on the tenant
// (or on {t, i}, which the t_i index serves) then routes the operation to
// the tenant's shard instead of broadcasting it. The two select the same
// document, since _id determines t.
func (kd *kindDef) pointFilter(tenant, id string) bson.D {
	if kd.idOnly {
		return bson.D{{Key: fieldID, Value: id}}
	}
	return bson.D{{Key: fieldTenant, Value: tenant}, {Key: fieldID, Value: id}}
}

// recordFilter selects one record.
func (kd *kindDef) recordFilter(tenant, id string) bson.D {
	return kd.pointFilter(tenant, recordID(tenant, id))
}

// reservationFilter selects a key's reservation.
func (kd *kindDef) reservationFilter(tenant, key string) bson.D {
	return kd.pointFilter(tenant, reservationID(tenant, key))
}
