# lore — see README.md. Everything the build and the tests need is installed
# by `make deps` (pinned llama.cpp CPU libraries) from this file.

GO      ?= go
BIN     := bin
LLAMA   := $(CURDIR)/third_party/llama
DEMO    := $(CURDIR)/.lore-demo
# The demo keeps its state apart from the user's and caps the context so the
# first prefill of this repository takes seconds on a 2-core CPU (the files
# that do not fit are listed by `lore status`).
DEMO_ENV := LORE_LLAMA_LIB=$(LLAMA) LORE_MODEL=$(DEMO)/demo.gguf LORE_STATE_DIR=$(DEMO)/state \
	LORE_RUNTIME_DIR=$(DEMO)/run LORE_CTX=16384
BENCH_CTX ?= 16384

export LORE_LLAMA_LIB ?= $(LLAMA)

.PHONY: all deps build demo test bench bench-ingest bench-freshness vet clean

all: build

deps:
	./scripts/deps.sh $(LLAMA)

build:
	$(GO) build -o $(BIN)/ ./cmd/...

demo: deps build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size demo -o $(DEMO)/demo.gguf
	@$(DEMO_ENV) $(BIN)/lore stop >/dev/null 2>&1 || true
	@echo "== ask (starts the daemon, prefills the repository, streams the answer)"
	$(DEMO_ENV) $(BIN)/ask --max-tokens 48 --temperature 0.8 --seed 7 "Where does lore build the pack of a repository?"
	@echo "== lore status"
	$(DEMO_ENV) $(BIN)/lore status
	@echo "== restart: the daemon saves its KV snapshot and restores it"
	$(DEMO_ENV) $(BIN)/lore stop
	$(DEMO_ENV) $(BIN)/ask --json --max-tokens 16 --temperature 0.8 --seed 7 "What does the ask command do?"
	$(DEMO_ENV) $(BIN)/lore status
	$(DEMO_ENV) $(BIN)/lore stop

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

bench: deps build
	@mkdir -p $(DEMO)
	$(BIN)/lore model synth --size bench -o $(DEMO)/bench.gguf
	LORE_CTX=$(BENCH_CTX) $(BIN)/lore bench spine --model $(DEMO)/bench.gguf --repo . --runs 3

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
	rm -rf $(BIN) $(DEMO)
