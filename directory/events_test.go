package directory_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/memory"
)

// recorder is an observer that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []directory.Event
}

func (r *recorder) Observe(_ context.Context, e directory.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) take() []directory.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// fullRecorder asks for full payloads.
type fullRecorder struct{ recorder }

func (r *fullRecorder) FullPayload() bool { return true }

func TestEvents(t *testing.T) {
	ctx := t.Context()
	ids := &recorder{}
	full := &fullRecorder{}
	dir, err := directory.New(memory.New(), directory.WithObserver(ids), directory.WithObserver(full))
	require.NoError(t, err)
	users := dir.Users("acme")

	u, err := users.Create(ctx, directory.User{UserName: "ada", Emails: []directory.Email{{Value: "ada@example.com"}}})
	require.NoError(t, err)
	_, err = users.Create(ctx, directory.User{UserName: "bob", Emails: []directory.Email{{Value: "not-an-email@"}}})
	require.Error(t, err)
	_, err = users.Get(ctx, "missing")
	require.ErrorIs(t, err, directory.ErrNotFound)

	cases := []struct {
		name string
		obs  *recorder
		full bool
	}{{"IDsOnly", ids, false}, {"FullPayload", &full.recorder, true}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := c.obs.take()
			require.Len(t, ev, 6, "START then SUCCESS or FAIL for each of three calls")
			phases := []directory.Phase{ev[0].Phase, ev[1].Phase, ev[2].Phase, ev[3].Phase, ev[4].Phase, ev[5].Phase}
			assert.Equal(t, []directory.Phase{
				directory.PhaseStart, directory.PhaseSuccess, directory.PhaseStart, directory.PhaseFail, directory.PhaseStart, directory.PhaseFail,
			}, phases)
			for _, e := range ev {
				assert.Equal(t, "acme", e.Tenant)
			}
			assert.Equal(t, directory.OpUserCreate, ev[1].Op)
			assert.Equal(t, u.ID, ev[1].ID, "a create's success names the new id")
			assert.Equal(t, directory.OpUserGet, ev[5].Op)
			assert.Equal(t, "missing", ev[4].ID, "a get's start names the id asked for")
			assert.ErrorIs(t, ev[3].Err, directory.ErrInvalid, "a redacted error still matches its sentinel")
			assert.ErrorIs(t, ev[5].Err, directory.ErrNotFound)
			if c.full {
				got, ok := ev[1].Data.(directory.User)
				require.True(t, ok, "full payload: the result")
				assert.Equal(t, "ada", got.UserName)
				assert.Contains(t, ev[3].Err.Error(), "not-an-email@", "full payload: the error as is")
				return
			}
			assert.Nil(t, ev[1].Data, "no payload unless asked for")
			assert.Equal(t, "invalid emails[0].value", ev[3].Err.Error(), "the field, not the value")
			var fe *directory.FieldError
			assert.False(t, errors.As(ev[3].Err, &fe), "no detail type (and its values) leaks")
		})
	}
}

func TestSlogObserver(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir, err := directory.New(memory.New(), directory.WithObserver(directory.NewSlogObserver(log)))
	require.NoError(t, err)
	u, err := dir.Users("acme").Create(t.Context(), directory.User{UserName: "grace", Emails: []directory.Email{{Value: "grace@example.com"}}})
	require.NoError(t, err)
	_, err = dir.Users("acme").Create(t.Context(), directory.User{UserName: "grace"})
	require.ErrorIs(t, err, directory.ErrAlreadyExists)

	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4)
	assert.Contains(t, lines[0], "level=DEBUG")
	assert.Contains(t, lines[0], "phase=start")
	assert.Contains(t, lines[1], "level=INFO")
	assert.Contains(t, lines[1], "op=users.create")
	assert.Contains(t, lines[1], "id="+u.ID)
	assert.Contains(t, lines[3], "level=WARN")
	assert.Contains(t, lines[3], `error="already exists"`)
	assert.NotContains(t, out, "grace", "ids only: no userName, no email")
}

func TestActor(t *testing.T) {
	ctx := t.Context()
	assert.Equal(t, "", directory.ActorFrom(ctx))
	ctx = directory.WithActor(ctx, "svc-billing")
	assert.Equal(t, "svc-billing", directory.ActorFrom(ctx))
	assert.Equal(t, "svc-2", directory.ActorFrom(directory.WithActor(ctx, "svc-2")), "the innermost actor wins")

	dir, err := directory.New(memory.New())
	require.NoError(t, err)
	u, err := dir.Users("acme").Create(ctx, directory.User{UserName: "x"})
	require.NoError(t, err)
	page, err := dir.Audit("acme").ForUser(t.Context(), u.ID, directory.ListOptions{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "svc-billing", page.Items[0].Actor)

	off, err := directory.New(memory.New(), directory.WithAudit(false))
	require.NoError(t, err)
	u, err = off.Users("acme").Create(ctx, directory.User{UserName: "x"})
	require.NoError(t, err)
	page, err = off.Audit("acme").ForUser(ctx, u.ID, directory.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "WithAudit(false) records nothing")
}

func TestObserverOption(t *testing.T) {
	_, err := directory.New(memory.New(), directory.WithObserver(nil))
	assert.ErrorIs(t, err, directory.ErrInvalid)
	_, err = directory.New(memory.New(), directory.WithInvitationTTL(0))
	assert.ErrorIs(t, err, directory.ErrInvalid)
}
