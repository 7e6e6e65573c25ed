# lore — see README.md. Everything the build and the tests need is installed
# by `make deps` (pinned llama.cpp CPU libraries) from this file.

GO      ?= go
BIN     := bin
LLAMA   := $(CURDIR)/third_party/llama
# llama.cpp's server for the remote engine's tests and benchmark, built
# once from source by scripts/llama-server.sh (about 15 minutes of CPU on
# 2 cores) into a folder keyed by its version.
LLAMA_SERVER_VERSION := 3.22.1
# The build is kept in the user's cache folder, not in the checkout, so that
# a fresh clone (CI's) reuses it: it is paid once per machine.
LLAMA_SERVER ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/lore/llama-server-$(LLAMA_SERVER_VERSION)
DEMO    := $(CURDIR)/.lore-demo
# The demo keeps its state apart from the user's and caps the context so the
# first prefill of this repository takes seconds on a 2-core CPU (the files
# that do not fit are listed by `lore status`). scripts/demo.sh reads these
# settings from $(DEMO)/env.
DEMO_ENV := LORE_LLAMA_LIB=$(LLAMA) LORE_MODEL=$(DEMO)/demo.gguf LORE_STATE_DIR=$(DEMO)/state \
	LORE_RUNTIME_DIR=$(DEMO)/run LORE_CTX=16384
# lore version prints it; a build outside git says "devel".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X lore/cli.version=$(VERSION)
BENCH_CTX ?= 16384

export LORE_LLAMA_LIB ?= $(LLAMA)
export LORE_LLAMA_SERVER ?= $(LLAMA_SERVER)/llama-server

.PHONY: all deps deps-llama deps-server bench-remote build generate demo test test-go fuzz vscode vscode-test bench bench-daemon bench-batch bench-lsp bench-editors bench-faults bench-ingest bench-freshness vet clean

all: build

deps:
	./scripts/deps.sh $(LLAMA)

# Only the llama.cpp libraries (what lore itself needs; deps adds the
# editors the tests drive).
deps-llama:
	./scripts/deps.sh --libs-only $(LLAMA)

deps-server:
	./scripts/llama-server.sh $(LLAMA_SERVER)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# Generated sources: the VS Code extension's wire types from the Go types
# (editors/vscode/src/lib/wire.ts; a Go test fails when it is stale).
generate:
	$(GO) generate ./...

demo: deps-llama build
	@mkdir -p $(DEMO)
	@printf 'export %s\n' $(DEMO_ENV) > $(DEMO)/env
	@$(BIN)/lore model synth --size demo -o $(DEMO)/demo.gguf >/dev/null
	@./scripts/demo.sh $(DEMO) $(BIN)

# Go tests (real llama.cpp, real daemons, headless Neovim), a short fuzz run
# and the VS Code extension: compile, unit tests, .vsix.
test: test-go fuzz vscode

# LORE_TEST_REQUIRE: a test whose llama.cpp libraries or nvim are missing
# fails instead of skipping, so the run cannot pass hollow.
test-go: deps deps-server
	$(GO) vet ./...
	LORE_TEST_REQUIRE=1 $(GO) test -race -count=1 -timeout 30m ./...

# The fuzz targets of what clients and models send (the daemon's socket,
# the LSP bridge, a larger model's edit blocks), each for FUZZTIME on new
# inputs; their seeds run in test-go.
# Longer runs: make fuzz FUZZTIME=10m. A failing input is saved under the
# package's testdata/fuzz/ and runs as a test from then on (scripts/fuzz.sh
# passes over Go 1.26's end-of-fuzztime race, which writes none).
FUZZTIME ?= 10s
FUZZ_TARGETS := ingest:FuzzSectionFencing daemon:FuzzDaemonConn daemon:FuzzAskParams lsp:FuzzLSPFraming lsp:FuzzLSPMessages handoff/edit:FuzzParseAnswer

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh $(FUZZ_TARGETS)

# The VS Code extension: editors/vscode/lore-<version>.vsix (npm ci, strict
# TypeScript, unit tests, vsce package).
vscode:
	./scripts/vscode.sh package

vscode-test:
	./scripts/vscode.sh test

bench: deps build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size bench -o $(DEMO)/bench.gguf
	LORE_CTX=$(BENCH_CTX) $(BIN)/lore bench spine --model $(DEMO)/bench.gguf --repo . --runs 3

# Daemon numbers on a private clone: edit-to-fresh, restart, four questions
# at once, branch switch back.
bench-daemon: deps build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size bench -o $(DEMO)/bench.gguf
	LORE_CTX=$(BENCH_CTX) $(BIN)/lore bench daemon --model $(DEMO)/bench.gguf --repo . --runs 3

# The engine alone: questions decoded together against one by one, by
# prefix length, and what sampling costs.
bench-batch: deps build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size bench -o $(DEMO)/bench.gguf
	$(BIN)/lore bench batch --model $(DEMO)/bench.gguf --repo . --prefix 1000,4000,12000

# The LSP bridge: initialize to code actions, overhead on the first token.
bench-lsp: deps build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size bench -o $(DEMO)/bench.gguf
	LORE_CTX=$(BENCH_CTX) $(BIN)/lore bench lsp --model $(DEMO)/bench.gguf --repo . --runs 10

# Editor responsiveness: how long lore's answer commands hold Emacs and
# Neovim, daemon starting and busy (N samples per path and phase).
bench-editors: deps
	./scripts/bench-editors.sh

# Fault soak: random kills, damaged snapshots and stores, a full tmpfs (root
# for the tmpfs), on the demo model: make bench-faults [KILLS=50]
KILLS ?= 50
bench-faults: deps build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size demo -o $(DEMO)/demo.gguf
	$(BIN)/lore bench faults --model $(DEMO)/demo.gguf --repo . --kills $(KILLS) --disk-mb 256

# The remote engine against the in-process one on this machine: the same
# model and pack, llama-server on loopback (see BENCHMARKS.md).
bench-remote: deps deps-server build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size demo -o $(DEMO)/demo.gguf
	$(BIN)/lore bench remote --model $(DEMO)/demo.gguf --server $(LORE_LLAMA_SERVER) --repo . --ctx $(BENCH_CTX)

# Ingest speed and memory against repomix on GOROOT/src (or DIR=...).
bench-ingest: deps build
	./scripts/bench-ingest.sh $(DIR)

# Freshness replay of a repository with history: make bench-freshness REPO=path
bench-freshness: build
	@test -n "$(REPO)" || { echo "usage: make bench-freshness REPO=path/to/repository [COMMITS=200]"; exit 2; }
	$(BIN)/lore bench freshness --repo $(REPO) --commits $(or $(COMMITS),200)

vet:
	gofmt -l . | (! grep .)
	$(GO) vet ./...

clean:
	rm -rf $(BIN) $(DEMO) editors/vscode/node_modules editors/vscode/out editors/vscode/*.vsix
