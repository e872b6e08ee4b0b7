# Tafweej — common tasks. `make help` lists them.
GO       ?= go
BIN      := bin/tafweej
PKGS     := ./...
DEMO_CLOCK ?= $(shell date -d 'tomorrow 07:45' +%Y-%m-%dT%H:%M:%S+03:00 2>/dev/null)

.PHONY: help build test test-short race lint vet fmt demo bench bench-go fuzz planner-quality e2e-prometheus screenshots clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

build: ## build bin/tafweej
	$(GO) build -o $(BIN) ./cmd/tafweej

test: ## the full default test suite (what CI runs), with the race detector
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test-short: ## quick tests without the race detector
	$(GO) test -short -count=1 $(PKGS)

vet: ## go vet
	$(GO) vet $(PKGS)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

lint: vet ## gofmt check and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed: make fmt"; exit 1)

demo: build ## run the service on a simulated busy day with the Petra config (Ctrl-C to stop)
	./$(BIN) serve --config configs/petra.yaml --data ./data $(if $(CLOCK),--clock-start $(CLOCK) --clock-speed 30,)

bench-go: ## go benchmarks of every package (one run each)
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

bench: build ## tafweej bench: headline figures as ratios of the machine's raw limits
	./$(BIN) bench

fuzz: ## fuzz every decoder for 30 s each
	$(GO) test -run '^$$' -fuzz FuzzParseConfig -fuzztime 30s ./scheduler/
	$(GO) test -run '^$$' -fuzz FuzzVerify -fuzztime 30s ./tickets/

clean: ## remove build output (not ./data)
	rm -rf bin
