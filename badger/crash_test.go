package badger

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/userdir/userdir/directory"
)

var crashRounds = flag.Int("crash.rounds", 5, "rounds of TestCrashRecovery (each kills a writer with SIGKILL)")

// The environment that turns TestCrashChild into the writer.
const (
	crashDirEnv   = "USERDIR_BADGER_CRASH_DIR"
	crashRoundEnv = "USERDIR_BADGER_CRASH_ROUND"
)

// TestCrashChild is the writer of TestCrashRecovery, run in a child
// process: it writes users through the directory for ever and prints each
// write after the call has returned, until it is killed. Run directly
// (without the environment), it does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDirEnv)
	if path == "" {
		return
	}
	round := os.Getenv(crashRoundEnv)
	ctx := context.Background()
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	dir, err := directory.New(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "directory:", err)
		os.Exit(2)
	}
	users := dir.Users("crash")
	var made []string
	for i := 0; ; i++ {
		if i%3 == 2 && len(made) > 0 {
			// Update an earlier user: the acknowledged version must
			// survive too.
			id := made[rand.IntN(len(made))]
			u, err := users.Update(ctx, id, func(u *directory.User) error {
				u.DisplayName = fmt.Sprintf("d%d", i)
				return nil
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, "update:", err)
				os.Exit(2)
			}
			fmt.Printf("upd %s %d %s\n", u.ID, u.Meta.Version, u.DisplayName)
			continue
		}
		name := fmt.Sprintf("r%s-u%d", round, i)
		u, err := users.Create(ctx, directory.User{
			UserName: name,
			Emails:   []directory.Email{{Value: name + "@crash.example"}},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "create:", err)
			os.Exit(2)
		}
		made = append(made, u.ID)
		fmt.Printf("new %s %s\n", u.ID, u.UserName)
	}
}

// acked is what the writer acknowledged for one user.
type acked struct {
	userName    string
	version     int64
	displayName string
}

// TestCrashRecovery kills a writer process with SIGKILL at a random
// moment, reopens its store and checks that every acknowledged write is
// there and that the indexes match the records. -crash.rounds sets the
// number of rounds.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := t.TempDir()
	all := map[string]*acked{}
	writes := 0
	for round := range *crashRounds {
		fresh := map[string]*acked{}
		n, err := crashRound(t, path, round, all, fresh)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		writes += n
		// Each round checks what its writer acknowledged, and the last
		// one everything: earlier rounds were checked when they ended.
		if round == *crashRounds-1 {
			fresh = all
		}
		checkAcked(t, path, fresh, round)
	}
	t.Logf("%d rounds, %d acknowledged writes (%d users), 0 lost", *crashRounds, writes, len(all))
}

// crashRound runs the writer, kills it 50–500 ms after its first
// acknowledged write, and records what it acknowledged in all and, for
// the users it wrote, in fresh.
func crashRound(t *testing.T, path string, round int, all, fresh map[string]*acked) (int, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var killed bool
	var kill <-chan time.Time
	startup := time.After(60 * time.Second)
	n := 0
	for line := range lines {
		if kill == nil {
			kill = time.After(50*time.Millisecond + rand.N(450*time.Millisecond))
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "new":
			all[f[1]] = &acked{userName: f[2], version: 1}
			fresh[f[1]] = all[f[1]]
			n++
		case len(f) == 4 && f[0] == "upd":
			v, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return n, fmt.Errorf("bad line %q", line)
			}
			a := all[f[1]]
			if a == nil {
				return n, fmt.Errorf("update of unknown user in %q", line)
			}
			a.version, a.displayName = v, f[3]
			fresh[f[1]] = a
			n++
		default:
			continue // the test framework's own output
		}
		select {
		case <-kill:
			if !killed {
				killed = true
				if err := cmd.Process.Kill(); err != nil {
					return n, err
				}
			}
		case <-startup:
			_ = cmd.Process.Kill()
			return n, fmt.Errorf("writer did not start; stderr: %s", stderr.String())
		default:
		}
	}
	err = cmd.Wait()
	if !killed {
		return n, fmt.Errorf("writer exited by itself (%v); stderr: %s", err, stderr.String())
	}
	return n, nil
}

// checkAcked reopens the store and checks every acknowledged write and
// the indexes.
func checkAcked(t *testing.T, path string, all map[string]*acked, round int) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	dir, err := directory.New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	users := dir.Users("crash")
	for id, a := range all {
		u, err := users.Get(ctx, id)
		if err != nil {
			t.Fatalf("round %d: acknowledged user %s lost: %v", round, id, err)
		}
		if u.UserName != a.userName || u.Meta.Version < a.version ||
			u.Meta.Version == a.version && u.DisplayName != a.displayName {
			t.Fatalf("round %d: user %s is %s v%d %q, acknowledged %s v%d %q", round, id,
				u.UserName, u.Meta.Version, u.DisplayName, a.userName, a.version, a.displayName)
		}
		// The unique indexes survived with the records.
		if n, err := users.Count(ctx, fmt.Sprintf("userName eq %q", a.userName)); err != nil || n != 1 {
			t.Fatalf("round %d: userName index for %s: %d, %v", round, a.userName, n, err)
		}
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("round %d: verify: %v", round, rep.Problems)
	}
}
