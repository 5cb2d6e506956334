package integration

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/integration/fixture"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The benchmark's organisation: 3 accounts, 200 roles, 50 keys, 100
// buckets, 1,000 grants, every call answered after 20 ms.
const (
	benchAccounts   = 3
	benchPrincipals = 200
	benchKeys       = 50
	benchBuckets    = 100
	benchGrants     = 1000
	benchLatency    = 20 * time.Millisecond
)

func benchAccount(i int) string { return fmt.Sprintf("%012d", 100000000001+i) }

// benchOrg builds the organisation and its grants. Principal i, bucket i
// and key i live in account i mod 3; bucket b uses a key of its own
// account; each principal gets five buckets, a third of them in its own
// account. Roles, not users: five inline grant policies fit a role's
// 10,240-character budget, where a user's 2,048 would push the grants into
// managed policies.
func benchOrg() (*state.State, *grantsync.File) {
	return scaledOrg(benchGrants)
}

// scaledOrg is benchOrg's organisation for any number of grants, with
// principals, buckets and keys in the same proportion (a fifth, a tenth
// and a twentieth of the grants).
func scaledOrg(grants int) (*state.State, *grantsync.File) {
	benchPrincipals, benchBuckets, benchKeys := max(1, grants/5), max(1, grants/10), max(1, grants/20)
	benchGrants := grants
	st := &state.State{}
	for i := range benchKeys {
		acct := benchAccount(i % benchAccounts)
		st.Keys = append(st.Keys, state.Key{
			ARN:        fmt.Sprintf("arn:aws:kms:us-east-1:%s:key/%08d-0000-4000-8000-%012d", acct, i, i),
			KeyManager: "CUSTOMER", KeyState: "Enabled", Region: "us-east-1", Aliases: []string{},
			Policy: state.NewDoc(`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`),
		})
	}
	for b := range benchBuckets {
		// Keys of account a are a, a+3, a+6, …: bucket b takes one of them.
		a := b % benchAccounts
		perAccount := (benchKeys - a + benchAccounts - 1) / benchAccounts
		key := st.Keys[a+benchAccounts*((b/benchAccounts)%perAccount)]
		st.Buckets = append(st.Buckets, state.Bucket{
			Name: fmt.Sprintf("bench-bucket-%03d", b), Account: benchAccount(a), Region: "us-east-1",
			Encryption:      &state.Encryption{SSEAlgorithm: "aws:kms", KMSMasterKeyID: key.ARN},
			ObjectOwnership: "BucketOwnerEnforced",
		})
	}
	for p := range benchPrincipals {
		st.Principals = append(st.Principals, state.Principal{
			ARN: fmt.Sprintf("arn:aws:iam::%s:role/bench-role-%03d", benchAccount(p%benchAccounts), p), Kind: state.KindRole,
		})
	}
	f := &grantsync.File{Name: "bench.yaml", Buckets: map[string]grantsync.BucketInfo{}, Credentials: grantsync.Credentials{Accounts: map[string]grantsync.Account{}}}
	for _, b := range st.Buckets {
		f.Buckets[b.Name] = grantsync.BucketInfo{Account: b.Account}
	}
	for i := range benchGrants {
		p, k := i%benchPrincipals, i/benchPrincipals
		b := (p*13 + k*37) % benchBuckets // five distinct buckets per principal
		g := grantsync.Grant{Principal: st.Principals[p].ARN, Bucket: st.Buckets[b].Name, Access: []diff.Level{diff.Read, diff.Write}, Line: i + 1}
		f.Grants = append(f.Grants, g)
	}
	return st, f
}

// BenchmarkSync measures one sync of the whole organisation against the
// test server with 20 ms per call: API calls per grant (reads and writes)
// against the minimum, and the wall time against the floor that the call
// count and --parallel set. The test server has no quotas, so the first two
// runs lift the client-side rate limits (the floor is about calls and
// parallelism); the third keeps sync's default limits, to show what they
// cost. Run it with
//
//	go test ./integration -run '^$' -bench 'Sync$' -benchtime 1x
func BenchmarkSync(b *testing.B) {
	for _, run := range []struct {
		name     string
		parallel int
		limits   awsstate.RateLimits
	}{
		{"parallel=8", 8, awsstate.NoRateLimits()},
		{"parallel=32", 32, awsstate.NoRateLimits()},
		{"parallel=32,default-rate-limits", 32, awsstate.DefaultRateLimits()},
	} {
		b.Run(run.name, func(b *testing.B) {
			for range b.N {
				benchSyncOnce(b, run.parallel, run.limits)
			}
		})
	}
}

func benchSyncOnce(b *testing.B, parallel int, limits awsstate.RateLimits) {
	b.StopTimer()
	ctx := context.Background()
	srv := awsfake.Start(b)
	st, f := benchOrg()
	// Seeding through the SDK at 20 ms per call would take minutes: the
	// latency is set only for the measured run.
	env, err := fixture.Load(ctx, srv, st)
	if err != nil {
		b.Fatal(err)
	}
	flight := &inFlight{}
	accounts := &grantsync.Accounts{RateLimits: limits, Load: func(ctx context.Context, account string, _ grantsync.Account) (aws.Config, string, error) {
		cfg, err := env.Config(ctx, account, "")
		flight.watch(&cfg)
		return cfg, "admin of " + account, err
	}}
	var logged strings.Builder
	cfg := grantsync.Config{File: f, Accounts: accounts, Parallel: parallel, BackupDir: b.TempDir(), ToolVersion: "bench",
		Log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	srv.ResetCalls()
	srv.SetLatency(awsfake.AnyOp, benchLatency)
	b.StartTimer()
	cpu0 := cpuTime()
	start := time.Now()
	flight.start(start)
	phaseStart, phase := start, ""
	cfg.Progress = func(p string, done, total int) {
		if p != phase {
			if phase != "" {
				b.Logf("%s: %s", phase, time.Since(phaseStart).Round(time.Millisecond))
			}
			phase, phaseStart = p, time.Now()
		}
	}
	rep, err := grantsync.Sync(ctx, cfg)
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	idle, meanCall := flight.stop(time.Now())
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if phase != "" {
		b.Logf("%s: %s", phase, time.Since(phaseStart).Round(time.Millisecond))
	}
	if rep.Summary.Fixed != benchGrants {
		b.Fatalf("%d of %d grants fixed: %+v", rep.Summary.Fixed, benchGrants, rep.Summary)
	}
	counts := srv.CallCounts()
	w := total(writes(counts))
	r := total(counts) - w
	docs := rep.Summary.Written

	// The floor of reading every document once with this reader: per
	// account one sts:GetCallerIdentity and one kms:ListAliases (every
	// alias of the region at once); per bucket its policy (read first,
	// in the client's region, which is the bucket's: no HeadBucket to
	// find the region), encryption and ownership; per key DescribeKey, GetKeyPolicy and
	// ListGrants (the key's grants, which allow beside its policy); per
	// role GetRole (whose answer carries the role's tags, for
	// aws:PrincipalTag conditions) and the lists of its inline and
	// attached policies; none of the roles has a policy yet, so nothing
	// more to get.
	readFloor := 2*benchAccounts + 3*benchBuckets + 3*benchKeys + 3*benchPrincipals
	// Writing keeps the stale check (one read right before each document's
	// write) and the verification (one read back): 2 reads per written
	// document on top of the floor.
	safeFloor := readFloor + 2*docs
	// The floor of the wall time: every call takes 20 ms and at most
	// `parallel` are in flight.
	calls := r + w
	floor := time.Duration(calls) * benchLatency / time.Duration(parallel)

	b.ReportMetric(float64(calls)/benchGrants, "calls/grant")
	b.ReportMetric(float64(r)/benchGrants, "reads/grant")
	b.ReportMetric(float64(w)/benchGrants, "writes/grant")
	b.ReportMetric(float64(safeFloor)/benchGrants, "min-reads/grant")
	b.ReportMetric(float64(docs)/benchGrants, "min-writes/grant")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(wall.Seconds()/floor.Seconds(), "wall/floor")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(idle.Seconds(), "no-call-s")
	b.ReportMetric(float64(meanCall)/float64(time.Millisecond), "call-ms")
	b.Logf("parallel %d: %d grants, %d calls (%.2f per grant): %d reads (read-once floor %d, with the stale check and the verification %d), %d writes (%d documents changed); wall %s, floor %s (%.2fx); CPU %s (the client and the test server, %d cores), load %s",
		parallel, benchGrants, calls, float64(calls)/benchGrants, r, readFloor, safeFloor, w, docs, wall.Round(time.Millisecond), floor.Round(time.Millisecond), wall.Seconds()/floor.Seconds(),
		cpu.Round(time.Millisecond), runtime.GOMAXPROCS(0), loadAverage())
	if len(limits) > 0 {
		// The floor the client-side limits set: per account, the calls of
		// each limited kind over its rate (the organisation spreads its
		// calls evenly over the accounts).
		var limited time.Duration
		for key, n := range limitedCalls(counts) {
			if rate := limits[key]; rate > 0 {
				limited = max(limited, time.Duration(float64(n)/benchAccounts/rate*float64(time.Second)))
			}
		}
		b.ReportMetric(limited.Seconds(), "rate-floor-s")
		b.Logf("the default rate limits alone need %s per account", limited.Round(time.Millisecond))
	}
	// With the calls as long as they were, the calls alone need
	// calls x mean call / parallel; the rest of the time with calls in
	// flight is slots left empty (phase ends, a chain of reads that cannot
	// start before the one before it).
	busy := time.Duration(calls) * meanCall / time.Duration(parallel)
	b.Logf("no call in flight for %s (the run's own work: planning, the backup); a call took %.1f ms on average as the client saw it (the server answers after %s); at that length the calls need %s, %.0f%% of the time with calls in flight",
		idle.Round(time.Millisecond), float64(meanCall)/float64(time.Millisecond), benchLatency, busy.Round(time.Millisecond), 100*busy.Seconds()/(wall-idle).Seconds())
	b.Logf("calls by operation: %v", counts)
	for _, line := range strings.Split(logged.String(), "\n") {
		if strings.Contains(line, "msg=verifying") {
			b.Log(line)
		}
	}
}

// inFlight follows the calls in flight, to show where a run waits: the
// time with no call in flight is the run working on its own (planning, the
// backup), which no parallelism hides; the mean time of a call as the
// client sees it is the server's latency plus the time the answer waited
// for a core (more when the machine is busy).
type inFlight struct {
	mu        sync.Mutex
	n, calls  int
	idleSince time.Time
	idle      time.Duration
	callTime  time.Duration
}

// watch adds the tracking to an SDK configuration, around the sending of
// each attempt (after signing and the rate limiter).
func (f *inFlight) watch(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("BenchInFlight",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				t0 := f.begin()
				defer f.end(t0)
				return next.HandleDeserialize(ctx, in)
			}), middleware.After)
	})
}

func (f *inFlight) start(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n, f.calls, f.idle, f.callTime, f.idleSince = 0, 0, 0, 0, t
}

func (f *inFlight) begin() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := time.Now()
	if f.n == 0 && !f.idleSince.IsZero() {
		f.idle += t.Sub(f.idleSince)
	}
	f.n++
	return t
}

func (f *inFlight) end(t0 time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := time.Now()
	f.n--
	f.calls++
	f.callTime += t.Sub(t0)
	if f.n == 0 {
		f.idleSince = t
	}
}

// stop returns the time with no call in flight and the mean call time.
func (f *inFlight) stop(t time.Time) (idle, meanCall time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle += t.Sub(f.idleSince)
	}
	f.idleSince = time.Time{}
	if f.calls > 0 {
		meanCall = f.callTime / time.Duration(f.calls)
	}
	return f.idle, meanCall
}

// cpuTime is the CPU time the process has used, user and system: the
// client and the test server both, since the server runs in the process.
// Beside the wall time it tells a run slowed by its own work from one
// slowed by the machine's other load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the machine's load over the last minute, from
// /proc/loadavg ("?" elsewhere).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(data))[0]
}

// limitedCalls sums the calls by the rate-limit key that governs them
// (awsstate.RateLimits: iam and iam:write, kms:Operation, s3 and s3:write).
func limitedCalls(counts map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range counts {
		svc, name, _ := strings.Cut(op, ":")
		key := svc
		switch {
		case svc == "kms":
			key = "kms:" + name
		case len(writes(map[string]int{op: n})) > 0:
			key = svc + ":write"
		}
		out[key] += n
	}
	return out
}
