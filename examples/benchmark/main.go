// Command benchmark measures userdir against the raw stores under it and
// against a peer SCIM filter parser, side by side.
//
// Every figure it reports is a ratio measured in the same run: userdir
// doing an operation against a baseline doing the same work (the raw store
// handing back the same record, a hand-written Go loop over the same data,
// a raw batch write of the same bytes, another SCIM filter parser). Each
// row sizes a batch of each side to last at least -batch, then runs -runs
// rounds; a round cuts both batches into pieces that alternate, after a
// full garbage collection, and yields one ratio. A row reports the median
// of its rounds' ratios and their spread, because shared machines are
// noisy; -clock cpu times the process's CPU time instead of the wall
// clock, which the other processes on a busy machine do not inflate.
//
// It is its own module, so that the peer parser it compares against never
// enters userdir's go.mod. From this directory:
//
//	go run . -users 100000 -backends memory,badger -out RESULTS.md
//	go run . -users 100000 -backends mongo -mongo-uri mongodb://127.0.0.1:27017/
//	go run . -quick                      # a smoke run of a few seconds
//
// It prints a markdown table and, with -out, writes it to a file. The rows
// (P1 to P10) are described in RESULTS.md and in the doc comments of the
// functions that measure them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
)

// config is what the command line asks for.
type config struct {
	users      int
	backends   []string
	mongoURI   string
	out        string
	runs       int
	importRuns int
	batch      time.Duration
	seed       uint64
	rows       []string // the rows to run; empty: all
	dir        string   // where badger stores go
	quick      bool
	audit      bool
	clock      string
	cpuprofile string
	profileDir string
	memprofile string
	args       []string // the command line, for the report
}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("benchmark: ")
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		log.Fatal(err)
	}
	if err := run(context.Background(), cfg, os.Stdout, log.Default()); err != nil {
		log.Fatal(err)
	}
}

// parseFlags reads the command line.
func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("benchmark", flag.ContinueOnError)
	var (
		cfg      config
		backends string
		rows     string
	)
	fs.IntVar(&cfg.users, "users", 100_000, "`N`, the number of users in each dataset")
	fs.StringVar(&backends, "backends", "memory,badger", "comma-separated backends: memory, badger, mongo")
	fs.StringVar(&cfg.mongoURI, "mongo-uri", os.Getenv("MONGODB_URI"), "MongoDB `URI` for the mongo backend (default $MONGODB_URI)")
	fs.StringVar(&cfg.out, "out", "", "write the results table to `file` too")
	fs.IntVar(&cfg.runs, "runs", 7, "alternating rounds per row (at least 5)")
	fs.IntVar(&cfg.importRuns, "import-runs", 5, "rounds of the import and heap rows P7 and P8, which import N users each time (at least 5)")
	fs.DurationVar(&cfg.batch, "batch", 25*time.Millisecond, "minimum duration of a timed batch")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated users")
	fs.StringVar(&rows, "rows", "", "comma-separated rows to run, e.g. P1,P4 (default all)")
	fs.StringVar(&cfg.dir, "dir", "", "directory for the badger stores (default a new temporary directory)")
	fs.BoolVar(&cfg.audit, "audit", false, "keep the directory's audit trail on, so that every write also stores an audit entry (off by default: the rows compare user records)")
	fs.StringVar(&cfg.clock, "clock", "wall", "what times an operation: `wall` time, or the process's cpu time, which other processes on the machine do not inflate (P7 badger, P9 and the mongo rows always use wall time)")
	fs.BoolVar(&cfg.quick, "quick", false, "smoke run: 2,000 users (unless -users is given), 3 rounds, 2ms batches")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to `file`")
	fs.StringVar(&cfg.memprofile, "memprofile", "", "write a heap profile of the memory directory after the last P7 import (what P8 weighs) to `file`")
	fs.StringVar(&cfg.profileDir, "profiles", "", "write a CPU profile of each row's measurement (both sides, no setup) into `dir` (not with -cpuprofile)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick {
		if !set["users"] {
			cfg.users = 2000
		}
		if !set["runs"] {
			cfg.runs = 3
		}
		if !set["import-runs"] {
			cfg.importRuns = 3
		}
		if !set["batch"] {
			cfg.batch = 2 * time.Millisecond
		}
	} else if cfg.runs < 5 || cfg.importRuns < 5 {
		return cfg, errors.New("-runs and -import-runs must be at least 5 (use -quick for a smoke run)")
	}
	if cfg.users < 1000 {
		return cfg, errors.New("-users must be at least 1000")
	}
	if cfg.runs < 1 || cfg.importRuns < 1 || cfg.batch <= 0 {
		return cfg, errors.New("-runs, -import-runs and -batch must be positive")
	}
	for _, b := range strings.Split(backends, ",") {
		b = strings.TrimSpace(b)
		switch b {
		case "memory", "badger", "mongo":
			if !slices.Contains(cfg.backends, b) {
				cfg.backends = append(cfg.backends, b)
			}
		case "":
		default:
			return cfg, fmt.Errorf("unknown backend %q (want memory, badger or mongo)", b)
		}
	}
	if slices.Contains(cfg.backends, "mongo") && cfg.mongoURI == "" {
		return cfg, errors.New("the mongo backend needs -mongo-uri (from the repository root: uri=$(bash scripts/mongo-test-server.sh | tail -n1))")
	}
	for _, r := range strings.Split(rows, ",") {
		if r = strings.ToUpper(strings.TrimSpace(r)); r != "" {
			cfg.rows = append(cfg.rows, r)
		}
	}
	if cfg.cpuprofile != "" && cfg.profileDir != "" {
		return cfg, errors.New("-cpuprofile and -profiles cannot be combined")
	}
	cfg.args = args
	return cfg, nil
}

// bench is one run of the program.
type bench struct {
	cfg  config
	set  settings
	ds   dataset
	log  *log.Logger
	rows []row
	clk  clock  // times the rows that do not need the wall clock
	load string // the load average when the run started
}

// directory returns a directory over st with a query cache of cacheSize
// results (0: off) and the audit trail as -audit says.
func (b *bench) directory(st backend.Backend, cacheSize int) (*directory.Directory, error) {
	return directory.New(st, directory.WithCache(cacheSize, 0), directory.WithAudit(b.cfg.audit))
}

// want reports whether the row id was asked for.
func (b *bench) want(id string) bool {
	return len(b.cfg.rows) == 0 || slices.Contains(b.cfg.rows, id)
}

// compare measures a row (see compare), profiled under name with
// -profiles.
func (b *bench) compare(name string, a, base timer, speedup bool) (measurement, error) {
	return b.profile(name, func() (measurement, error) { return compare(b.set, a, base, speedup) })
}

// profile runs a measurement, under a CPU profile written to
// <-profiles>/<name>.prof when -profiles is set.
func (b *bench) profile(name string, measure func() (measurement, error)) (measurement, error) {
	if b.cfg.profileDir == "" {
		return measure()
	}
	if err := os.MkdirAll(b.cfg.profileDir, 0o755); err != nil {
		return measurement{}, err
	}
	f, err := os.Create(filepath.Join(b.cfg.profileDir, name+".prof"))
	if err != nil {
		return measurement{}, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return measurement{}, err
	}
	defer pprof.StopCPUProfile()
	return measure()
}

// add records a row's outcome and logs it.
func (b *bench) add(r row) {
	b.rows = append(b.rows, r)
	if r.err != nil {
		b.log.Printf("%s %s: error: %v", r.id, r.backend, r.err)
		return
	}
	med, lo, hi := r.m.ratio()
	b.log.Printf("%s %s: %s vs %s: %s× (%s–%s×), target %s",
		r.id, r.backend, formatValue(r.m.a.median(), r.m.unit), formatValue(r.m.b.median(), r.m.unit),
		formatRatio(med), formatRatio(lo), formatRatio(hi), r.target)
}

// run runs every asked-for row and writes the report to w (and -out).
func run(ctx context.Context, cfg config, w io.Writer, lg *log.Logger) error {
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	clk, err := newClock(cfg.clock)
	if err != nil {
		return err
	}
	b := &bench{
		clk:  clk,
		cfg:  cfg,
		set:  settings{runs: cfg.runs, batch: cfg.batch},
		ds:   newDataset(cfg.seed, cfg.users),
		log:  lg,
		load: loadAverage(),
	}
	start := time.Now()
	if b.want("P6") {
		b.parseRows()
	}
	for _, name := range cfg.backends {
		lg.Printf("backend %s: %d users", name, cfg.users)
		var err error
		switch name {
		case "memory":
			err = b.memoryRows(ctx)
		case "badger":
			err = b.badgerRows(ctx)
		case "mongo":
			err = b.mongoRows(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	var sb strings.Builder
	b.writeReport(&sb, time.Since(start))
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return err
	}
	if cfg.out != "" {
		return os.WriteFile(cfg.out, []byte(sb.String()), 0o644)
	}
	return nil
}

// writeReport writes the machine, the command and the table.
func (b *bench) writeReport(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "Command: `go run . %s` (in examples/benchmark)\n\n", strings.Join(b.cfg.args, " "))
	limit := ""
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		limit = ", GOMEMLIMIT " + v
	}
	fmt.Fprintf(w, "Machine: %s, %s/%s, %d CPUs (GOMAXPROCS %d%s)%s; %s\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), limit, cpuModel(),
		time.Now().UTC().Format("2006-01-02 15:04 MST"))
	if b.load != "" {
		fmt.Fprintf(w, "Load average (1, 5, 15 min) at the start: %s; at the end: %s. Other processes share these cores: ratios, measured side by side, hold up better than absolute times.\n\n", b.load, loadAverage())
	}
	audit := "off"
	if b.cfg.audit {
		audit = "on"
	}
	fmt.Fprintf(w, "Users: %s per dataset (P10 also %s); %d rounds per row (%d for P7 and P8), batches of at least %v; audit trail %s; total %v.\n\n",
		group(int64(b.cfg.users)), group(int64(b.cfg.users/10)), b.cfg.runs, b.cfg.importRuns, b.cfg.batch, audit, took.Round(time.Second))
	writeTable(w, b.rows)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratio: userdir's time per operation over the baseline's (P8: heap bytes over JSON bytes; P10: at N over at N/10), so lower is better;")
	fmt.Fprintln(w, "for P5 and P6 the baseline's time over userdir's (how many times faster userdir is), and for P9 the throughput with 2 goroutines over 1, so higher is better.")
	fmt.Fprintln(w, "Each row is the median of the per-round ratios, the spread their minimum and maximum; the times are the medians of each side.")
	fmt.Fprintln(w, "Clock: `wall` is elapsed time; `cpu` is the CPU time of the whole process (every thread, the garbage collector's and the stores' background goroutines included, user + system), which other processes do not inflate; `heap` is live heap bytes after a full GC.")
}

// loadAverage returns the system's load averages, or "".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// cpuModel returns ", <model name>" from /proc/cpuinfo, or "".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return ", " + strings.TrimSpace(v)
		}
	}
	return ""
}
