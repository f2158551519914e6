package directory

// userCodec encodes stored users as JSON with the SCIM names, so a store's
// bytes are readable and claims numbers keep their exact text.
type userCodec = jsonCodec[userDoc, *userDoc]
