package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
)

var _ backend.Backend = (*Store)(nil)

// DefaultLease is the lease of a pending reservation when Options.Lease is
// zero.
const DefaultLease = 10 * time.Second

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Lease bounds how long a write that reserved a unique key but has not
	// yet confirmed it (see the package documentation) keeps other writers
	// of that key waiting. A writer that dies in between blocks the key
	// for this long; a live writer slower than this loses its reservation
	// and undoes its write. Zero means DefaultLease.
	Lease time.Duration
}

// ServerInfo is what Open and New learn about the server.
type ServerInfo struct {
	// Version is the MongoDB version the server reports (FerretDB reports
	// the MongoDB version it emulates).
	Version string
	// FerretDB is FerretDB's own version, or "" for any other server.
	// FerretDB evaluates $elemMatch over sub-documents wrongly, so value
	// filters on multi-valued attributes are pushed down as a superset
	// there (see the package documentation).
	FerretDB string
	// Transactions reports whether the server runs multi-document
	// transactions (a replica set member or a mongos). The store does not
	// need them: every write is correct with single-document atomicity, so
	// it behaves alike on every server; the field is informational.
	Transactions bool
	// ChangeStreams reports whether the server offers change streams (the
	// same servers as Transactions). The store does not use them, which is
	// why it reports Shared and the directory turns its cache off.
	ChangeStreams bool
}

// Store is a backend.Backend over a MongoDB (or FerretDB) database. It is
// safe for concurrent use. Make one with Open or New.
type Store struct {
	client *mongodrv.Client
	owned  bool // Close disconnects the client
	db     *mongodrv.Database
	lease  time.Duration
	server ServerInfo
	// tickets makes conditional writes take write tickets, for servers
	// whose guarded updates are not atomic (FerretDB; see ticket.go).
	tickets bool
	// locks queues this process's writes of one record, and reads
	// coalesces its concurrent reads of one record.
	locks recordLocks
	reads reads

	// defMu serializes Define; kinds is replaced wholesale so that every
	// other method reads the definitions without a lock.
	defMu sync.Mutex
	kinds atomic.Pointer[map[string]*kindDef]

	closed atomic.Bool
}

// Open connects to the server at uri and returns a store over database.
// Close disconnects the client Open made.
func Open(ctx context.Context, uri, database string, opts Options) (*Store, error) {
	if uri == "" {
		return nil, errors.New("mongo: open: empty URI")
	}
	client, err := mongodrv.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("mongo: open: %w", err)
	}
	s, err := newStore(ctx, client, database, opts)
	if err != nil {
		// The connect error, if any, is what matters; a failed disconnect
		// of a client that never worked adds nothing.
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	s.owned = true
	return s, nil
}

// New returns a store over database using a client the caller owns: Close
// does not disconnect it.
func New(ctx context.Context, client *mongodrv.Client, database string, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("mongo: new: nil client")
	}
	return newStore(ctx, client, database, opts)
}

func newStore(ctx context.Context, client *mongodrv.Client, database string, opts Options) (*Store, error) {
	if err := validDatabase(database); err != nil {
		return nil, err
	}
	if opts.Lease < 0 {
		return nil, fmt.Errorf("mongo: negative lease %v", opts.Lease)
	}
	s := &Store{client: client, db: client.Database(database), lease: opts.Lease}
	if s.lease == 0 {
		s.lease = DefaultLease
	}
	info, err := detect(ctx, s.db)
	if err != nil {
		return nil, err
	}
	s.server = info
	s.tickets = info.FerretDB != ""
	kinds := map[string]*kindDef{}
	s.kinds.Store(&kinds)
	return s, nil
}

// validDatabase checks the characters MongoDB refuses in database names,
// so that a bad name fails at open instead of at the first write.
func validDatabase(name string) error {
	switch {
	case name == "":
		return errors.New("mongo: empty database name")
	case len(name) > 63:
		return fmt.Errorf("mongo: database name %q longer than 63 bytes", name)
	case strings.ContainsAny(name, "/\\. \"$*<>:|?\x00"):
		return fmt.Errorf("mongo: database name %q has a character MongoDB refuses", name)
	}
	return nil
}

// detect asks the server what it is: hello tells a replica set or mongos
// (which run transactions and change streams) from a standalone server, and
// buildInfo carries FerretDB's version when the server is FerretDB. Both
// must answer, so a store never starts against a server it cannot reach.
func detect(ctx context.Context, db *mongodrv.Database) (ServerInfo, error) {
	var hello struct {
		SetName                      string `bson:"setName"`
		Msg                          string `bson:"msg"`
		LogicalSessionTimeoutMinutes *int64 `bson:"logicalSessionTimeoutMinutes"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return ServerInfo{}, fmt.Errorf("mongo: hello: %w", err)
	}
	var build struct {
		Version         string `bson:"version"`
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&build); err != nil {
		return ServerInfo{}, fmt.Errorf("mongo: buildInfo: %w", err)
	}
	info := ServerInfo{Version: build.Version, FerretDB: build.FerretDBVersion}
	replicated := hello.SetName != "" || hello.Msg == "isdbgrid"
	info.Transactions = replicated && hello.LogicalSessionTimeoutMinutes != nil && info.FerretDB == ""
	info.ChangeStreams = replicated && info.FerretDB == ""
	return info, nil
}

// Server returns what the store learned about the server when it opened.
func (s *Store) Server() ServerInfo { return s.server }

// Database returns the database the store keeps its collections in.
func (s *Store) Database() *mongodrv.Database { return s.db }

// Capabilities reports that the data is shared with other processes (the
// directory therefore keeps its query cache off by default) and durable.
func (s *Store) Capabilities() backend.Capabilities {
	return backend.Capabilities{Shared: true, Durable: true}
}

// Close releases the store, and disconnects the client when Open made it.
// Later calls fail with ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return &backend.Error{Op: "close", Err: backend.ErrClosed}
	}
	if !s.owned {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

// begin checks what every call checks first: the context, Close, and that
// the kind is defined.
func (s *Store) begin(ctx context.Context, op, kind, id string) (*kindDef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrClosed}
	}
	kd := (*s.kinds.Load())[kind]
	if kd == nil {
		return nil, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrUnsupported, Cause: errUndefinedKind}
	}
	return kd, nil
}

// errUndefinedKind is the cause reported for a kind that Define never
// declared: a programming error, kept apart from ErrNotFound so that it
// does not read as a missing record.
var errUndefinedKind = errors.New("mongo: kind not defined")
