package awsfake

import (
	"context"
	"maps"
	"net/http"
	"sync"
	"time"
)

// AnyOp matches every operation in the fault and hook methods.
const AnyOp = "*"

// Call describes an operation to a hook. Op is "service:Operation", e.g.
// "kms:GetKeyPolicy"; Account is the caller's account ("" for an unknown
// key). Request's body has already been read.
type Call struct {
	Op        string
	Account   string
	CallerARN string
	Region    string
	Request   *http.Request
}

// pending is a queued fault that applies to the next n calls of an op.
type pending struct {
	kind int // errKind, or dropKind
	n    int
}

const dropKind = -1

// fault is what take decided for one call.
type fault struct {
	drop   bool
	kind   errKind // -1: no error
	denied bool
}

type hook struct {
	id int
	fn func(Call)
}

type denyKey struct{ account, op string }

// faults holds the fault injection and call accounting state.
type faults struct {
	mu       sync.Mutex
	latency  map[string]time.Duration
	queue    map[string][]*pending
	denied   map[denyKey]bool
	before   map[string][]hook
	after    map[string][]hook
	hookSeq  int
	calls    map[string]int
	accCalls map[string]map[string]int
}

func (f *faults) init() {
	f.latency = map[string]time.Duration{}
	f.queue = map[string][]*pending{}
	f.denied = map[denyKey]bool{}
	f.before = map[string][]hook{}
	f.after = map[string][]hook{}
	f.calls = map[string]int{}
	f.accCalls = map[string]map[string]int{}
}

// SetLatency delays every call of op (AnyOp: every call) by d before it is
// answered; d == 0 removes the delay. Delays of a specific op and AnyOp add.
func (s *Server) SetLatency(op string, d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if d <= 0 {
		delete(s.faults.latency, op)
		return
	}
	s.faults.latency[op] = d
}

// Throttle makes the next n calls of op answer the service's throttling
// error (IAM/STS Throttling 400, KMS ThrottlingException 400, S3 SlowDown 503).
func (s *Server) Throttle(op string, n int) { s.faults.push(op, int(errThrottled), n) }

// FailInternal makes the next n calls of op answer a server error. Status
// 503 gives ServiceUnavailable (KMS: ServiceUnavailableException); any
// other status gives a 500 with the service's code: S3 InternalError, IAM
// ServiceFailure, STS InternalFailure, KMS KMSInternalException.
func (s *Server) FailInternal(op string, n, status int) {
	kind := errInternal
	if status == http.StatusServiceUnavailable {
		kind = errUnavailable
	}
	s.faults.push(op, int(kind), n)
}

// DropConnections makes the server close the connection without answering
// the next n calls of op.
func (s *Server) DropConnections(op string, n int) { s.faults.push(op, dropKind, n) }

// Deny makes every call of op from account (""/AnyOp: every account) answer
// the service's AccessDenied error until Allow or ClearFaults.
func (s *Server) Deny(account, op string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.denied[denyKey{normAccount(account), op}] = true
}

// Allow removes a Deny with the same arguments.
func (s *Server) Allow(account, op string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	delete(s.faults.denied, denyKey{normAccount(account), op})
}

// Before runs fn before each call of op is executed (after faults are
// applied). Hooks run without the server lock, so fn may call any Server
// method. It returns a function that removes the hook.
func (s *Server) Before(op string, fn func(Call)) (remove func()) {
	return s.faults.addHook(s.faults.before, op, fn)
}

// After runs fn after each call of op was executed and before its answer is
// sent, so the caller sees fn's effects on its next call.
func (s *Server) After(op string, fn func(Call)) (remove func()) {
	return s.faults.addHook(s.faults.after, op, fn)
}

// ClearFaults removes latencies, queued faults, denials and hooks.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	calls, acc := s.faults.calls, s.faults.accCalls
	s.faults.init()
	s.faults.calls, s.faults.accCalls = calls, acc
}

// Calls returns how many calls of op (AnyOp: all) reached the server,
// including ones answered by a fault.
func (s *Server) Calls(op string) int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.calls[op]
}

// AccountCalls is Calls restricted to one caller account.
func (s *Server) AccountCalls(account, op string) int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.accCalls[account][op]
}

// CallCounts returns a copy of all per-operation counts (without AnyOp).
func (s *Server) CallCounts() map[string]int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := maps.Clone(s.faults.calls)
	delete(out, AnyOp)
	return out
}

// ResetCalls zeroes all call counts.
func (s *Server) ResetCalls() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.calls = map[string]int{}
	s.faults.accCalls = map[string]map[string]int{}
}

func normAccount(a string) string {
	if a == AnyOp {
		return ""
	}
	return a
}

func (f *faults) push(op string, kind, n int) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue[op] = append(f.queue[op], &pending{kind: kind, n: n})
}

func (f *faults) addHook(m map[string][]hook, op string, fn func(Call)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hookSeq++
	id := f.hookSeq
	m[op] = append(m[op], hook{id, fn})
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		hs := m[op]
		for i, h := range hs {
			if h.id == id {
				m[op] = append(hs[:i:i], hs[i+1:]...)
				return
			}
		}
	}
}

func (f *faults) count(op, account string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	f.calls[AnyOp]++
	if f.accCalls[account] == nil {
		f.accCalls[account] = map[string]int{}
	}
	f.accCalls[account][op]++
	f.accCalls[account][AnyOp]++
}

// take sleeps for the configured latency and consumes the first queued
// fault for op.
func (f *faults) take(ctx context.Context, op, account string) fault {
	f.mu.Lock()
	delay := f.latency[op] + f.latency[AnyOp]
	out := fault{kind: -1}
	for _, key := range []string{op, AnyOp} {
		if p := f.dequeue(key); p != nil {
			if p.kind == dropKind {
				out.drop = true
			} else {
				out.kind = errKind(p.kind)
			}
			break
		}
	}
	out.denied = f.denied[denyKey{account, op}] || f.denied[denyKey{"", op}] ||
		f.denied[denyKey{account, AnyOp}] || f.denied[denyKey{"", AnyOp}]
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return out
}

// dequeue consumes one use of the first pending fault for key; f.mu is held.
func (f *faults) dequeue(key string) *pending {
	q := f.queue[key]
	if len(q) == 0 {
		return nil
	}
	p := q[0]
	p.n--
	if p.n == 0 {
		f.queue[key] = q[1:]
	}
	return p
}

func (f *faults) runHooks(before bool, c Call) {
	f.mu.Lock()
	m := f.after
	if before {
		m = f.before
	}
	var fns []func(Call)
	for _, key := range []string{c.Op, AnyOp} {
		for _, h := range m[key] {
			fns = append(fns, h.fn)
		}
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(c)
	}
}
