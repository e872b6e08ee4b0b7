# Tafweej — common tasks. `make help` lists them.
GO       ?= go
BIN      := bin/tafweej
PKGS     := ./...
# The demo runs tomorrow's morning in Amman (UTC+3) at 30x speed.
DEMO_CLOCK ?= $(shell date -d 'tomorrow' +%Y-%m-%dT07:45:00+03:00)
DEMO_SPEED ?= 30
# `make sim-sweep`: the settings played (docs/closed-loop.md) and where
# each run's report goes; an interrupted sweep resumes from SWEEP_OUT.
SWEEP_ARGS ?= --groups 220,450 --seeds 10 --dwell 1.0,1.3 --speed 400
SWEEP_OUT  ?= sweep-out
# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 20s

.PHONY: help build test test-cluster bench-cluster test-short race lint vet fmt demo bench bench-quick bench-go fuzz big-closure planner-quality planner-bounds planner-cbc e2e-prometheus screenshots sim-sweep clean

help: ## list the targets
	@grep -E '^[A-Za-z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

build: ## build bin/tafweej
	$(GO) build -o $(BIN) ./cmd/tafweej

test: ## the full default test suite (what CI runs), with the race detector
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

race: test ## the same as test: every test runs with the race detector

test-short: ## quick tests without the race detector
	$(GO) test -short -count=1 $(PKGS)

vet: ## go vet
	$(GO) vet $(PKGS)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

lint: vet ## gofmt check and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed: make fmt"; exit 1)

demo: build ## run the service with the Petra config on a simulated morning (Ctrl-C to stop); play a day with: ./bin/tafweej simulate --speed 30
	./$(BIN) serve --config configs/petra.yaml --data ./data --clock-start $(DEMO_CLOCK) --clock-speed $(DEMO_SPEED)

bench-go: ## go benchmarks of every package (one run each)
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

bench: build ## tafweej bench: headline figures as ratios of the machine's raw limits
	./$(BIN) bench

bench-cluster: ## the replicated site's bench rows (three-node NATS cluster, two serve --replicas 3) as a test
	TAFWEEJ_BENCH_CLUSTER=1 $(GO) test -count=1 -v -timeout 10m -run '^TestClusterRows$$' ./internal/bench/

test-cluster: ## the replicated site's end-to-end tests over six rounds of owner kills
	TAFWEEJ_CLUSTER_ROUNDS=6 $(GO) test -count=1 -v -timeout 20m -run '^TestCluster' ./cmd/tafweej/

bench-quick: ## the whole `tafweej bench --quick --json` run as a test, its report checked (minutes; the default suite checks it on smaller sizes)
	TAFWEEJ_BENCH_QUICK=1 $(GO) test -count=1 -v -timeout 30m -run '^TestBenchQuickJSON$$' ./cmd/tafweej/

fuzz: ## run every fuzz target of every package for FUZZTIME each (default 20s; e.g. make fuzz FUZZTIME=2m)
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$f ($$pkg, $(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

sim-sweep: build ## tafweej simulate at 1x and 2x the record day, 10 seeds, dwell 1.0 and 1.3, a fresh service each run, one at a time (an hour or more); Markdown tables of truth against estimate (docs/closed-loop.md)
	nice $(GO) run ./internal/simulate/sweep --bin $(BIN) --out $(SWEEP_OUT) $(SWEEP_ARGS)

clean: ## remove build output (not ./data)
	rm -rf bin

e2e-prometheus: build ## every dashboard query and alert rule against a real Prometheus scraping the service, promtool on the rules and on a live scrape (Debian's prometheus)
	TAFWEEJ_REQUIRE_PROMETHEUS=1 TAFWEEJ_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -v -run 'TestE2EPrometheus|TestPromtool' ./dashboards/

big-closure: ## 50,000 bookings, the Siq closed over all of them: closure time and scan p50/p99 while it applies (a minute or two)
	TAFWEEJ_BIG_CLOSURE=1 $(GO) test -count=1 -v -timeout 20m -run '^TestBigClosureScanLatency$$' ./engine/

planner-quality: ## day planner on all 22 Petra days against the best bounds known (internal/plantest/testdata/petra-bounds.json): each >= 99%, CPU per day (a few minutes, no solver; BUDGET=0.25 plans at a quarter of the default budget)
	TAFWEEJ_PLAN_QUALITY=all TAFWEEJ_PLAN_BUDGET=$(BUDGET) $(GO) test -count=1 -v -timeout 30m -run '^TestPlannerReachesKnownBounds$$' ./scheduler/

planner-bounds: ## prove the Petra days' bounds again with CBC where a model changed (Debian's coinor-cbc, nice'd, one at a time; CBC_SECONDS, CBC_DAYS=day,..., CBC_ARGS='-passCuts 100 ...')
	TAFWEEJ_CBC_REFRESH=1 TAFWEEJ_CBC_SECONDS=$(or $(CBC_SECONDS),60) TAFWEEJ_CBC_DAYS=$(CBC_DAYS) TAFWEEJ_CBC_ARGS='$(CBC_ARGS)' $(GO) test -count=1 -v -timeout 0 -run '^TestPlannerBoundsRefresh$$' ./scheduler/

planner-cbc: ## day planner against CBC run live on the 22 Petra days, the table of docs/benchmarks.md (coinor-cbc; about 25 minutes)
	$(GO) test -count=1 -v -timeout 60m -run TestPlannerVsCBC ./scheduler/

screenshots: ## PNGs of /gate and /ops (also on a 1920x1080 wall screen) in Arabic and English into ./screenshots/ (needs chromium)
	TAFWEEJ_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run '^TestScreenshots$$' ./web/
