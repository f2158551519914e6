package directory

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Directory is a multi-tenant user directory over a storage backend. All
// business rules (validation, lifecycle, uniqueness policy, cursors,
// caching) live here; the backend only stores and indexes. A Directory is
// safe for concurrent use.
type Directory struct {
	b      backend.Backend
	visit  backend.Visitor // b, when it runs queries without a sequence; nil otherwise
	caps   backend.Capabilities
	now    func() time.Time
	newID  func() string
	cursor cursorSigner
	limits query.Limits
	k      kinds
	cache  *queryCache
	// pagers holds the *pager of finished lists, for the next to reuse.
	pagers sync.Pool
	// deleted is the condition a users list adds for each DeletedMode;
	// made once, since its canonical form keys the plan cache.
	deleted [OnlyDeleted + 1]condition

	observers []Observer
	auditOn   bool
	inviteTTL time.Duration

	closeOnce sync.Once
	closeErr  error
}

type config struct {
	cursorKey    []byte
	now          func() time.Time
	newID        func() string
	uniqueEmails bool
	limits       query.Limits
	cacheSize    int
	cacheTTL     time.Duration
	cacheSet     bool
	observers    []Observer
	audit        bool
	inviteTTL    time.Duration
}

// Option configures a Directory.
type Option func(*config) error

// WithCursorKey sets the HMAC key that authenticates cursors. Without it
// New draws a random key, and cursors then do not outlive the process (nor
// work across processes): give every instance of a service the same key of
// at least 32 random bytes.
func WithCursorKey(key []byte) Option {
	return func(c *config) error {
		if len(key) < 16 {
			return fmt.Errorf("%w: cursor key shorter than 16 bytes", ErrInvalid)
		}
		c.cursorKey = append([]byte(nil), key...)
		return nil
	}
}

// WithClock sets the clock used for timestamps (tests pin time with it).
// Like every method of a Directory, it may be called from several
// goroutines at once (Users.Import reads it on the goroutine that stores a
// batch, too), so it must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalid)
		}
		c.now = now
		return nil
	}
}

// WithIDGenerator sets how new record ids are made. The default is UUIDv7,
// whose ids sort by creation time. newID must be safe for concurrent use,
// as WithClock's clock must.
func WithIDGenerator(newID func() string) Option {
	return func(c *config) error {
		if newID == nil {
			return fmt.Errorf("%w: nil id generator", ErrInvalid)
		}
		c.newID = newID
		return nil
	}
}

// WithUniqueEmails turns the per-tenant uniqueness of email addresses on
// (the default) or off. Uniqueness is case-insensitive and holds across
// every status but purged. It is decided when the backend is first
// defined: a durable backend keeps its indexes.
func WithUniqueEmails(on bool) Option {
	return func(c *config) error { c.uniqueEmails = on; return nil }
}

// WithQueryLimits bounds filter length, nesting depth and term count.
// The default is query.DefaultLimits.
func WithQueryLimits(l query.Limits) Option {
	return func(c *config) error {
		if l.MaxLength < 0 || l.MaxDepth < 0 || l.MaxTerms < 0 {
			return fmt.Errorf("%w: negative query limit", ErrInvalid)
		}
		c.limits = l
		return nil
	}
}

// WithCache sizes the query cache: up to size list and count results, each
// kept at most ttl (0: until evicted or invalidated). Size 0 turns the
// cache off. By default the cache holds 1024 results with no TTL, and is
// off when the backend is shared across processes (mongo), because writes
// by other processes cannot invalidate it; turning it on there with a short
// TTL bounds how stale a read may be.
func WithCache(size int, ttl time.Duration) Option {
	return func(c *config) error {
		if size < 0 || ttl < 0 {
			return fmt.Errorf("%w: negative cache size or TTL", ErrInvalid)
		}
		c.cacheSize, c.cacheTTL, c.cacheSet = size, ttl, true
		return nil
	}
}

// WithAudit turns the audit trail on (the default) or off. Off, writes
// record no audit entries: for bulk loads and benchmarks, not for a
// directory whose changes must be accountable.
func WithAudit(on bool) Option {
	return func(c *config) error { c.audit = on; return nil }
}

// WithInvitationTTL sets how long a new invitation stays valid when
// InviteOptions.TTL is zero. The default is DefaultInvitationTTL.
func WithInvitationTTL(ttl time.Duration) Option {
	return func(c *config) error {
		if ttl <= 0 {
			return fmt.Errorf("%w: invitation TTL must be positive", ErrInvalid)
		}
		c.inviteTTL = ttl
		return nil
	}
}

// New returns a Directory storing its data in b. It declares the
// directory's kinds and indexes to the backend and fails if the backend
// cannot create them.
func New(b backend.Backend, opts ...Option) (*Directory, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: nil backend", ErrInvalid)
	}
	cfg := config{
		now:          time.Now,
		uniqueEmails: true,
		limits:       query.DefaultLimits(),
		cacheSize:    1024,
		audit:        true,
		inviteTTL:    DefaultInvitationTTL,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.newID == nil {
		cfg.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if cfg.cursorKey == nil {
		cfg.cursorKey = make([]byte, 32)
		if _, err := rand.Read(cfg.cursorKey); err != nil {
			return nil, fmt.Errorf("directory: cursor key: %w", err)
		}
	}
	caps := b.Capabilities()
	if caps.Shared && !cfg.cacheSet {
		cfg.cacheSize = 0
	}
	visit, _ := b.(backend.Visitor)
	d := &Directory{
		b:       b,
		visit:   visit,
		caps:    caps,
		now:     cfg.now,
		newID:   cfg.newID,
		cursor:  cursorSigner{key: cfg.cursorKey},
		limits:  cfg.limits,
		k:       newKinds(cfg.uniqueEmails),
		cache:   newQueryCache(cfg.cacheSize, cfg.cacheTTL),
		deleted: deletedConditions(userSchema),

		observers: cfg.observers,
		auditOn:   cfg.audit,
		inviteTTL: cfg.inviteTTL,
	}
	if err := b.Define(context.Background(), d.k.all()...); err != nil {
		return nil, fmt.Errorf("directory: define kinds: %w", err)
	}
	return d, nil
}

// Close closes the backend. Further calls fail.
func (d *Directory) Close() error {
	d.closeOnce.Do(func() {
		d.cache.clear()
		d.closeErr = d.b.Close()
	})
	return d.closeErr
}

// ClearCache empties the query cache.
func (d *Directory) ClearCache() { d.cache.clear() }

// Backend returns the directory's storage backend.
func (d *Directory) Backend() backend.Backend { return d.b }

// Users returns the handle for the users of one tenant. The tenant is
// checked on each call (1–64 characters of [A-Za-z0-9._-], and not the
// reserved GlobalTenant).
func (d *Directory) Users(tenant string) *Users {
	return &Users{d: d, tenant: tenant}
}

// userSchema is the immutable user catalogue, shared by every Directory.
var userSchema = query.UserSchema()

func usersKind(uniqueEmails bool) backend.Kind {
	return backend.Kind{
		Name:   usersKindName,
		Schema: userSchema,
		Codec:  userCodec{name: "user"},
		Indexes: []backend.Index{
			{Name: "userName", Attr: "userName", Unique: true},
			{Name: "emails", Attr: "emails.value", Unique: uniqueEmails},
			{Name: "subject", Attr: "subject"},
			{Name: "externalId", Attr: "externalId"},
			{Name: "status", Attr: "status"},
			{Name: "created", Attr: "meta.created"},
			{Name: "lastModified", Attr: "meta.lastModified"},
		},
	}
}

// translate adds context to a backend error: the field a unique index
// guards, so callers see which value clashed.
func translate(err error) error {
	var be *backend.Error
	if errors.As(err, &be) && errors.Is(err, backend.ErrAlreadyExists) && be.Index != "" {
		return fmt.Errorf("%s already taken: %w", indexField(be.Index), err)
	}
	return err
}

func indexField(index string) string {
	switch index {
	case "emails":
		return "emails.value"
	default:
		return index
	}
}
