# Knobs: hyperparameter tuning native to Knative.
#
#   make run             Knobs on a local control plane: controller, functions, examples
#   make run-functions   only the functions, asked for suggestions directly
#   make resolve         ko resolve --push=false -f config/, offline
#   make test            unit, function and fuzz-seed tests (installs the tools)
#   make test-integration  against a real kube-apiserver and etcd (built and cached)
#   make verify-codegen  fail when generated code is stale
#   make codegen         regenerate generated code
#   make vet             go vet
#   make fuzz            fuzz request, observation, curve and template decoding, FUZZTIME per target
#   make bench           benchmarks, printed as a table
#   make bench-receiver  observation reports per second through the controller's receiver (real API server)
#   make bench-quality   regret of every algorithm on standard test functions, tables and SVG plots
#   make bench-multiobjective  hypervolume gap and feasible regret on problems of several objectives and constraints
#   make bench-cost      the size and reading of a request, and the cost of a call of every algorithm, as history and dimensions grow
#   make bench-scale     one Experiment of SCALE_TRIALS cheap trials and SCALE_EXPERIMENTS at once, through the real API server
#   make bench-earlystopping  steps saved and best found with and without early stopping, table and SVG plots
#   make bench-collector  the metrics collector's binary size, CPU and memory around a trial, reports a second
#   make conformance     check a running function (URL=...) against the function contract
#   make screenshots     the dashboard's pages, in headless Chromium, into docs/dashboard/

GO       ?= go
FUZZTIME ?= 30s

.PHONY: bench-scale conformance screenshots all bench bench-collector bench-cost bench-earlystopping bench-multiobjective bench-quality bench-receiver build run run-once run-functions resolve test test-integration tools codegen verify-codegen vet fuzz bench clean

all: build test

build:
	$(GO) build ./...

BINS = ./cmd/controller ./cmd/suggest ./cmd/knobs-collector ./cmd/kubectl-knobs ./cmd/knobs-dashboard ./functions/... ./examples/trial ./hack/local

run:
	$(GO) build -o _output/bin/ $(BINS)
	cd _output/bin && ln -sf kubectl-knobs kn-knobs && ln -sf kubectl-knobs kubectl_complete-knobs
	_output/bin/local

run-once:
	$(GO) build -o _output/bin/ $(BINS)
	cd _output/bin && ln -sf kubectl-knobs kn-knobs && ln -sf kubectl-knobs kubectl_complete-knobs
	_output/bin/local -once

run-functions:
	hack/run-functions.sh

resolve:
	hack/ko-resolve.sh >/dev/null

tools:
	hack/install-tools.sh --no-protoc >/dev/null

test: tools
	$(GO) test -race -count=1 ./...

test-integration: tools
	hack/install-tools.sh --no-protoc --chromium >/dev/null
	$(GO) test -tags integration -count=1 -timeout 40m ./test/integration/

# A TPE experiment on the local control plane, its pages saved as PNGs.
screenshots: tools
	hack/install-tools.sh --no-protoc --chromium >/dev/null
	KNOBS_SCREENSHOTS=$(CURDIR)/docs/dashboard $(GO) test -tags integration -count=1 -timeout 20m -run '^TestDashboard(Pareto)?InABrowser$$' ./test/integration/

codegen:
	hack/update-codegen.sh

verify-codegen:
	hack/verify-codegen.sh

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/integration/

fuzz:
	$(GO) test ./pkg/function -run '^$$' -fuzz '^FuzzSuggestionRequestJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/function -run '^$$' -fuzz '^FuzzSuggestionRequestProtobuf$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/observation -run '^$$' -fuzz '^FuzzReceiver$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/observation -run '^$$' -fuzz '^FuzzParseData$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/observation -run '^$$' -fuzz '^FuzzCurve$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/trialtemplate -run '^$$' -fuzz '^FuzzRenderGoTemplate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/trialtemplate -run '^$$' -fuzz '^FuzzRenderTrialSpec$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/reconciler/trial/resources -run '^$$' -fuzz '^FuzzMakeWorkload$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/reconciler/trial/resources -run '^$$' -fuzz '^FuzzReadState$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./pkg/... -run '^$$' -bench . -benchmem

# One Experiment of SCALE_TRIALS trials (SCALE_PARALLEL at once), then
# SCALE_EXPERIMENTS Experiments of 20 trials at once, in a namespace of
# their own (SCALE_SAME_NAMESPACE=1: in the large Experiment's, beside its
# Trials); the controller's limits as config/500-controller.yaml sets them
# (SCALE_QPS, SCALE_BURST, SCALE_THREADS to change them). Prints a table and
# a last line "scale: ...".
SCALE_TRIALS      ?= 100000
SCALE_EXPERIMENTS ?= 1000
SCALE_PARALLEL    ?= 500
bench-scale: tools
	SCALE_TRIALS=$(SCALE_TRIALS) SCALE_EXPERIMENTS=$(SCALE_EXPERIMENTS) SCALE_PARALLEL=$(SCALE_PARALLEL) \
		$(GO) test -tags integration -count=1 -v -run '^TestScale$$' -timeout 300m ./test/integration/

bench-receiver:
	$(GO) test -tags integration -count=1 -run '^$$' -bench '^BenchmarkReceiverThroughput$$' -benchtime 500x -timeout 30m ./test/integration/

bench-quality:
	-hack/optuna/install.sh
	mkdir -p docs/benchmarks
	$(GO) run ./cmd/knobs-bench -seeds 10 -evals 60 -batch 1,4 -svg docs/benchmarks > docs/benchmarks/results.txt
	cat docs/benchmarks/results.txt

bench-multiobjective:
	-hack/optuna/install.sh
	mkdir -p docs/benchmarks
	$(GO) run ./cmd/knobs-bench -multiobjective -inprocess -seeds 10 -evals 100 -batch 1 -svg docs/benchmarks > docs/benchmarks/multiobjective.txt
	cat docs/benchmarks/multiobjective.txt

bench-cost:
	mkdir -p docs/benchmarks
	$(GO) run ./cmd/knobs-bench -cost-decode -cost-trials 1000,10000,100000 > docs/benchmarks/cost.txt
	$(GO) run ./cmd/knobs-bench -cost -cost-trials 100,1000,10000 >> docs/benchmarks/cost.txt
	cat docs/benchmarks/cost.txt

bench-earlystopping:
	mkdir -p docs/benchmarks
	$(GO) run ./cmd/knobs-bench-earlystopping -seeds 10 -svg docs/benchmarks > docs/benchmarks/earlystopping.txt
	cat docs/benchmarks/earlystopping.txt

bench-collector:
	mkdir -p docs/benchmarks
	$(GO) run ./cmd/knobs-bench-collector > docs/benchmarks/collector.txt
	cat docs/benchmarks/collector.txt

clean:
	rm -rf _output .bin

# Checks a running function against the function contract, over the wire.
URL       ?= http://localhost:8080
ALGORITHM ?= random
conformance:
	$(GO) run ./cmd/knobs-conformance --url $(URL) --algorithm $(ALGORITHM)
