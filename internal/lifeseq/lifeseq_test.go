package lifeseq

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/shrink"
	"github.com/bucketgrant/bucketgrant/internal/testrace"
	"github.com/bucketgrant/bucketgrant/internal/trust"
)

var (
	seqCount  = flag.Int("lifeseq.sequences", int(envInt("BUCKETGRANT_SEQUENCES", int64(defaultSequences))), "number of generated sequences in TestLifeSequences")
	seqSeed   = flag.Int64("lifeseq.seed", envInt("BUCKETGRANT_SEQUENCE_SEED", 1), "seed of TestLifeSequences")
	seqFirst  = flag.Int("lifeseq.first", 0, "index of the first sequence (to rerun one: -lifeseq.first=N -lifeseq.sequences=1)")
	seqSample = flag.Int("lifeseq.sample", 1, "how many passing requests of each property and step the oracle decides besides every failing one (-1: all)")
	seqShrink = flag.Bool("lifeseq.shrink", true, "shrink the first violation of each property")
	seqList   = flag.Bool("lifeseq.list", false, "log every violation, not only the first of each property")
	seqReplay = flag.String("lifeseq.replay", "", "run this one sequence (the JSON a violation prints) instead of generated ones")
	seqShow   = flag.Bool("lifeseq.show", false, "log each sequence and what each step did")
)

// defaultSequences is how many sequences TestLifeSequences runs: 1,000,
// and 5 under the race detector, which slows planning several times over
// (make test runs the full count in a job without it; make test-race runs
// it under the detector).
var defaultSequences = func() int {
	if testrace.Reduced() {
		return 5
	}
	return 1000
}()

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// TestLifeSequences generates random sequences of apply, revoke, rollback,
// sync (with and without --prune, narrowing) and re-keying over small
// worlds (package doc) and checks every step. `make test` runs 1,000
// sequences without the race detector (20 under it); `make
// test-sequences` runs SEQUENCES of them. Each sequence has 3 to 5 steps. A violation is shrunk and printed
// with the JSON that replays it (-lifeseq.replay).
func TestLifeSequences(t *testing.T) {
	o, err := oracle.Start()
	if err != nil {
		t.Fatalf("%v (%s)", err, oracle.InstallHint)
	}
	t.Cleanup(func() { o.Close() })
	var seqs []Sequence
	if *seqReplay != "" {
		var s Sequence
		if err := json.Unmarshal([]byte(*seqReplay), &s); err != nil {
			t.Fatalf("-lifeseq.replay: %v", err)
		}
		seqs = append(seqs, s)
	} else {
		for i := *seqFirst; i < *seqFirst+*seqCount; i++ {
			seqs = append(seqs, Generate(*seqSeed, i))
		}
	}
	// The sequences allocate a lot and keep little: collecting less often
	// saves a good part of the CPU the suite costs in `make test`.
	testrace.CollectLess(t)
	start := time.Now()
	cpu0, ocpu0 := cpuTime(), childrenCPU()
	workers := runtime.GOMAXPROCS(0)
	scratch := scratchDir(t)
	jobs := make(chan int)
	results := make(chan *Run, 64)
	var wg sync.WaitGroup
	var runErr error
	var errOnce sync.Once
	for w := 0; w < workers; w++ {
		r, err := NewRunner(filepath.Join(scratch, strconv.Itoa(w)))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := trust.NewGoDecider()
			for i := range jobs {
				g.Reset()
				run, err := Execute(context.Background(), seqs[i], r, g, *seqSample)
				if err != nil {
					errOnce.Do(func() { runErr = fmt.Errorf("sequence %d: %w", seqs[i].Index, err) })
					continue
				}
				results <- run
			}
		}()
	}
	go func() {
		for i := range seqs {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	// Batches of runs go to the oracle from their own goroutine, so the
	// workers go on while it decides.
	st := newStats()
	var oracleTime time.Duration
	var oracleErr error
	batches := make(chan []*Run, 1)
	judged := make(chan struct{})
	go func() {
		defer close(judged)
		for batch := range batches {
			t0 := time.Now()
			if err := decide(o, batch); err != nil && oracleErr == nil {
				oracleErr = err
			}
			oracleTime += time.Since(t0)
			for _, r := range batch {
				st.add(r)
			}
		}
	}()
	var batch []*Run
	for r := range results {
		if *seqShow {
			t.Logf("%s", describeRun(r))
		}
		batch = append(batch, r)
		if len(batch) >= 50 {
			batches <- batch
			batch = nil
		}
	}
	batches <- batch
	close(batches)
	<-judged
	if runErr != nil {
		t.Fatal(runErr)
	}
	if oracleErr != nil {
		t.Fatal(oracleErr)
	}
	elapsed, cpu, ocpu := time.Since(start), cpuTime()-cpu0, childrenCPU()-ocpu0
	st.report(t, len(seqs), elapsed, cpu, ocpu, oracleTime)
	for _, prop := range sortedKeys(st.first) {
		f := st.first[prop]
		seq := st.seqs[prop]
		t.Errorf("%s: %d violations; first in sequence %d (seed %d), step %d: %s", prop, st.violations[prop], seq.Index, seq.Seed, f.Step, f.Msg)
		if *seqShrink {
			shrunk, msg := shrinkSequence(t, o, seq, prop)
			t.Errorf("%s, shrunk: %s\n%s\nreplay: go test ./internal/lifeseq -run '^TestLifeSequences$' -lifeseq.replay '%s'", prop, msg, shrunk, shrunk.JSON())
		}
	}
	if len(st.disagreements) > 0 {
		t.Errorf("the Go evaluator and the oracle disagree on %d requests; first: %s", len(st.disagreements), st.disagreements[0])
	}
}

// scratchDir is a directory for the sequences' snapshot files and backups,
// removed at the end: in memory (/dev/shm) where there is one, as every
// write of a snapshot or a backup is synced to its disk, which costs a
// third of the suite's CPU on a disk; else the test's temporary directory.
func scratchDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "bucketgrant-lifeseq-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// decide sends the oracle the points it decides, then judges every run.
func decide(o *oracle.Oracle, runs []*Run) error {
	var cases []oracle.Case
	var owners []*Point
	for _, r := range runs {
		for _, p := range r.Oracle {
			cases = append(cases, p.Cases...)
			owners = append(owners, p)
		}
	}
	res, err := o.SimulateBatch(cases)
	if err != nil {
		return err
	}
	i := 0
	for _, p := range owners {
		p.OrDec = make([]string, len(p.Cases))
		for j := range p.Cases {
			if res[i].Error != "" {
				b, _ := json.Marshal(p.Cases[j])
				return fmt.Errorf("oracle failed on %s: %s", b, res[i].Error)
			}
			p.OrDec[j] = res[i].Decision
			i++
		}
	}
	for _, r := range runs {
		r.Judge()
	}
	return nil
}

// shrinkSequence makes a violating sequence smaller while the property
// still fails, every request decided by the oracle.
func shrinkSequence(t *testing.T, o *oracle.Oracle, seq Sequence, prop string) (Sequence, string) {
	r, err := NewRunner(filepath.Join(scratchDir(t), "shrink"))
	if err != nil {
		return seq, err.Error()
	}
	g := trust.NewGoDecider()
	fails := func(s Sequence) string {
		g.Reset()
		run, err := Execute(context.Background(), s, r, g, -1)
		if err != nil {
			return ""
		}
		if err := decide(o, []*Run{run}); err != nil {
			return ""
		}
		for _, v := range run.Violations {
			if v.Prop == prop {
				return fmt.Sprintf("step %d: %s", v.Step, v.Msg)
			}
		}
		return ""
	}
	msg := fails(seq)
	if msg == "" {
		return seq, "(the violation does not reproduce with every request decided by the oracle)"
	}
	return shrink.Greedy(seq, msg, fails, Sequence.Shrinks, 300)
}

func describeRun(r *Run) string {
	var b strings.Builder
	b.WriteString(r.Seq.String())
	for i, res := range r.Results {
		fmt.Fprintf(&b, "  step %d: %s %s\n", i, res.Outcome, res.Detail)
	}
	return b.String()
}

type stats struct {
	violations    map[string]int
	first         map[string]Found
	seqs          map[string]Sequence
	outcomes      map[string]int
	blockers      map[string]int
	seen          map[string]int
	ops           map[string]int
	disagreements []string
	steps         int
	points        int
	oracleCases   int
	plans         int
}

func newStats() *stats {
	return &stats{violations: map[string]int{}, first: map[string]Found{}, seqs: map[string]Sequence{}, outcomes: map[string]int{}, blockers: map[string]int{}, seen: map[string]int{}, ops: map[string]int{}}
}

func (s *stats) add(r *Run) {
	s.steps += len(r.Results)
	s.plans += r.Plans
	for i, res := range r.Results {
		s.ops[r.Seq.Steps[i].Op]++
		s.outcomes[r.Seq.Steps[i].Op+" "+res.Outcome]++
		for _, b := range res.Blockers {
			s.blockers[b]++
		}
	}
	for k, v := range r.Seen {
		s.seen[k] += v
	}
	for _, p := range r.Points {
		s.points += len(p.Cases)
	}
	for _, p := range r.Oracle {
		s.oracleCases += len(p.Cases)
	}
	for _, v := range r.Violations {
		s.violations[v.Prop]++
		// The lowest sequence index, whatever order the workers finish in.
		if seq, ok := s.seqs[v.Prop]; !ok || r.Seq.Index < seq.Index {
			s.first[v.Prop], s.seqs[v.Prop] = v, r.Seq
		}
		if *seqList {
			fmt.Fprintf(os.Stderr, "sequence %d step %d: %s: %s\n", r.Seq.Index, v.Step, v.Prop, v.Msg)
		}
	}
	s.disagreements = append(s.disagreements, r.Disagreements...)
}

func (s *stats) report(t *testing.T, n int, elapsed, cpu, ocpu, oracleTime time.Duration) {
	t.Logf("%d sequences (seed %d), %d steps, in %v wall; CPU %v in Go, %v in the oracle; %d standing grants planned again; the Go evaluator decided %d cases, the oracle %d (%v wall)",
		n, *seqSeed, s.steps, elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), ocpu.Round(10*time.Millisecond), s.plans, s.points, s.oracleCases, oracleTime.Round(time.Millisecond))
	t.Logf("outcomes: %s; blockers of apply, revoke and rollback: %s", counts(s.outcomes), counts(s.blockers))
	t.Logf("after a step (steps, or grants times steps): %s", counts(s.seen))
	total := 0
	for _, v := range s.violations {
		total += v
	}
	t.Logf("violations: %d %s; evaluator disagreements: %d", total, counts(s.violations), len(s.disagreements))
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
