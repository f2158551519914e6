package directory

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/userdir/userdir/backend"
)

// userCodec encodes stored users as JSON with the SCIM names, so a store's
// bytes are readable and claims numbers keep their exact text.
type userCodec struct{}

func (userCodec) Marshal(doc backend.Document) ([]byte, error) {
	d, ok := doc.(*userDoc)
	if !ok {
		return nil, fmt.Errorf("user codec: unexpected document type %T", doc)
	}
	return json.Marshal(d)
}

func (userCodec) Unmarshal(b []byte) (backend.Document, error) {
	d := new(userDoc)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("user codec: %w", err)
	}
	return d, nil
}
