# Spotcheck. Every target builds with the same Go toolchain: the machine's
# own Go may carry published standard-library advisories.
export GOTOOLCHAIN := go1.27.3
GO ?= go
BIN := bin/spotcheck
ADDR ?= 127.0.0.1:8080

.PHONY: run test build generate check-generated vet bench bench-e2e bench-micro clean gates tools vulncheck staticcheck gosec errcheck fuzz

## run: build, load the demo data and serve on the embedded defaults
run: build
	@$(BIN) migrate >/dev/null
	@$(BIN) demo
	@echo
	@echo "Spotcheck is at http://$(ADDR)/  (Ctrl-C stops it)"
	@SPOTCHECK_ADDR=$(ADDR) $(BIN) serve

## test: vet, generated files in sync, no dropped GORM error (cmd/gormcheck,
## tests included), the whole suite with the race detector
test: vet check-generated
	$(GO) run ./cmd/gormcheck ./...
	$(GO) test -race -count=1 -timeout 25m ./...

build: generate
	$(GO) build -o $(BIN) ./cmd/spotcheck

generate:
	@$(GO) tool templ generate -log-level error

vet:
	@test -z "$$(gofmt -l cmd internal web migrations static)" || { echo "gofmt needed:"; gofmt -l cmd internal web migrations static; exit 1; }
	$(GO) vet ./...

# Fails when running templ would change a committed *_templ.go file (the
# files are regenerated, so a second run passes once they are committed).
check-generated:
	@before=$$(find web -name '*_templ.go' | sort | xargs sha256sum); \
	$(GO) tool templ generate -log-level error; \
	after=$$(find web -name '*_templ.go' | sort | xargs sha256sum); \
	if [ "$$before" != "$$after" ]; then \
		echo "generated templ files were stale; they are regenerated now: review and commit them"; \
		git status --short -- '*_templ.go' 2>/dev/null; exit 1; \
	fi

## bench: performance figures, end to end and micro (not part of make test)
bench: bench-e2e bench-micro

# bench-e2e: the harness of cmd/spotcheck-bench against the real binary on
# PostgreSQL (TEST_DATABASE_URL, else 127.0.0.1:5432; a fresh database, dropped afterwards):
# ingestion against COPY/INSERT floors, the case list against a minimal
# handler, the server's peak memory. BENCH_FLAGS=-quick is a smoke run;
# bin/spotcheck-bench -h lists the options.
BENCH_FLAGS ?=
bench-e2e: build
	$(GO) build -o bin/spotcheck-bench ./cmd/spotcheck-bench
	bin/spotcheck-bench -bin $(BIN) $(BENCH_FLAGS)

# bench-micro: the go test benchmarks of the packages.
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

clean:
	rm -rf bin

## gates: security gates (not part of make test): govulncheck against an
## offline vuln DB, staticcheck, gosec, errcheck, and each fuzz target for FUZZTIME
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
STATICCHECK_VERSION := v0.8.2
GOSEC_VERSION := v2.30.0
ERRCHECK_VERSION := v1.30.0
GOBIN := $(shell $(GO) env GOPATH)/bin
FUZZTIME ?= 5s
# package:target, one go test -fuzz run each
FUZZ_TARGETS := internal/flag:FuzzDecode internal/flag:FuzzCSVReader internal/evidence:FuzzSniff \
	internal/evidence:FuzzCleanName internal/bundle:FuzzVerify web:FuzzUploadParts

gates: tools vulncheck staticcheck gosec errcheck fuzz

# tools: the pinned gate tools in GOPATH/bin, installed through the module
# proxy unless that version is already there.
tools:
	@for t in golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) \
		honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) \
		github.com/securego/gosec/v2/cmd/gosec@$(GOSEC_VERSION) \
		github.com/kisielk/errcheck@$(ERRCHECK_VERSION); do \
		bin=$(GOBIN)/$$(basename $${t%@*}); \
		if ! $(GO) version -m $$bin 2>/dev/null | grep -q "[[:space:]]$${t##*@}[[:space:]]"; then \
			echo "installing $$t"; $(GO) install $$t || exit 1; fi; \
	done

vulncheck:
	VULNDB_VERSION=$(VULNDB_VERSION) GOVULNCHECK=$(GOBIN)/govulncheck .ci/vulncheck

staticcheck:
	$(GOBIN)/staticcheck ./...

# gosec, tests included, fails on any finding: each one is fixed, or marked
# on its line with // #nosec Gxxx -- and the concrete reason it is safe.
gosec:
	$(GOBIN)/gosec -quiet -exclude-generated -tests ./...

# errcheck: no error dropped, in tests too; the exclusions, each with its
# reason, are in .ci/errcheck-exclude.txt.
errcheck:
	$(GOBIN)/errcheck -exclude .ci/errcheck-exclude.txt ./...

fuzz:
	@for pt in $(FUZZ_TARGETS); do \
		echo "fuzz $${pt#*:} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${pt#*:}$$" -fuzztime $(FUZZTIME) ./$${pt%:*} || exit 1; \
	done
