# The commands the README gives. `make test` works on a fresh clone with
# only Go, Node.js and make installed: it installs the test oracle itself.

GO        ?= go
FUZZTIME  ?= 60s
STATICCHECK_VERSION ?= v0.8.2

.PHONY: test oracle bench lint fuzz build example

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

test: oracle
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench: oracle
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseRoundTrip -fuzztime $(FUZZTIME) ./pkg/policy/
	$(GO) test -run '^$$' -fuzz FuzzEdit -fuzztime $(FUZZTIME) ./pkg/policy/
	$(GO) test -run '^$$' -fuzz FuzzEvaluate -fuzztime $(FUZZTIME) ./pkg/policy/
