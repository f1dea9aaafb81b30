# mec — see README.md. Every target works on a fresh clone with Go installed.
GO      ?= go
BIN     := bin/mec
PKGS    := ./...

.PHONY: all build run test test-short vet fmt-check bench fuzz peers clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/mec

# The main job on the CPU default: list the backends, run the demo circuits,
# then the integrated runtime (orchestrator, signed bus, ledger, governance)
# with its verification table.
run: build
	./$(BIN) devices
	./$(BIN) circuit run examples/ghz.qasm --shots 1000 --seed 7
	./$(BIN) circuit run examples/qft3.qasm --state
	./$(BIN) run

# Everything CI checks: formatting, vet, the whole test suite, and the
# pure-Go twins of the assembly kernels (build tag purego). The
# federation's namespace test (ten node processes; root) runs on its own
# afterwards, not beside the other packages' tests on a 2-core machine.
test: fmt-check vet fft-check
	$(GO) test -count=1 -skip '^TestFederationNetns$$' $(PKGS)
	$(GO) test -count=1 -run '^TestFederationNetns$$' ./federation/
	$(GO) test -count=1 -tags purego ./backend/... ./engines/fft/... ./engines/snn/...
	CGO_ENABLED=0 $(GO) build ./...

test-short: vet
	$(GO) test -short $(PKGS)

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags purego $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Benchmarks of the quantum suite (long: minutes on 2 cores).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./bench/

# Short fuzzing sessions of every parser and decoder, and of the shot
# simulator against its exact reference.
# FUZZTIME=5m make fuzz runs each longer.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./qasm/
	$(GO) test -run '^$$' -fuzz '^FuzzShots$$' -fuzztime $(FUZZTIME) ./sim/
	$(GO) test -run '^$$' -fuzz '^FuzzAnswer$$' -fuzztime $(FUZZTIME) ./sim/host/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./qsimfile/
	$(GO) test -run '^$$' -fuzz '^FuzzQsimOutput$$' -fuzztime $(FUZZTIME) ./bench/
	$(GO) test -run '^$$' -fuzz '^FuzzQsimBlocks$$' -fuzztime $(FUZZTIME) ./bench/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./runtime/bus/
	$(GO) test -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime $(FUZZTIME) ./internal/cbor/
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) ./runtime/telemetry/
	$(GO) test -run '^$$' -fuzz '^FuzzFlip$$' -fuzztime $(FUZZTIME) ./runtime/ledger/
	$(GO) test -run '^$$' -fuzz '^FuzzScanLog$$' -fuzztime $(FUZZTIME) ./runtime/ledger/
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalUpdate$$' -fuzztime $(FUZZTIME) ./runtime/orchestrator/
	$(GO) test -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime $(FUZZTIME) ./engines/fft/
	$(GO) test -run '^$$' -fuzz '^FuzzPlannerFile$$' -fuzztime $(FUZZTIME) ./engines/fft/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEIEIO$$' -fuzztime $(FUZZTIME) ./devices/spinnaker/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeSDP$$' -fuzztime $(FUZZTIME) ./devices/spinnaker/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME) ./devices/lava/
	$(GO) test -run '^$$' -fuzz '^FuzzImportNIR$$' -fuzztime $(FUZZTIME) ./devices/lava/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeNIRHDF5$$' -fuzztime $(FUZZTIME) ./devices/lava/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/hdf5/
	$(GO) test -run '^$$' -fuzz '^FuzzParseNetwork$$' -fuzztime $(FUZZTIME) ./engines/snn/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeResult$$' -fuzztime $(FUZZTIME) ./devices/qpu/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeStatus$$' -fuzztime $(FUZZTIME) ./devices/qpu/
	$(GO) test -run '^$$' -fuzz '^FuzzServerRequest$$' -fuzztime $(FUZZTIME) ./devices/qpu/
	$(GO) test -run '^$$' -fuzz '^FuzzNodeConfig$$' -fuzztime $(FUZZTIME) ./ops/
	$(GO) test -run '^$$' -fuzz '^FuzzScenarioConfig$$' -fuzztime $(FUZZTIME) ./internal/cli/
	$(GO) test -run '^$$' -fuzz '^FuzzFusionConfig$$' -fuzztime $(FUZZTIME) ./internal/cli/
	$(GO) test -run '^$$' -fuzz '^FuzzDelta$$' -fuzztime $(FUZZTIME) ./federation/
	$(GO) test -run '^$$' -fuzz '^FuzzApplyDelta$$' -fuzztime $(FUZZTIME) ./federation/
	$(GO) test -run '^$$' -fuzz '^FuzzGroupMsg$$' -fuzztime $(FUZZTIME) ./federation/
	$(GO) test -run '^$$' -fuzz '^FuzzControl$$' -fuzztime $(FUZZTIME) ./federation/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePairCiphertext$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeShareSet$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeDelivery$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMaskedVector$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAnnouncement$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAcceptance$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeConfirmation$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeReveal$$' -fuzztime $(FUZZTIME) ./federation/secagg/
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalSubmission$$' -fuzztime $(FUZZTIME) ./runtime/ledger/witness/
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalEvidence$$' -fuzztime $(FUZZTIME) ./runtime/ledger/witness/
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalState$$' -fuzztime $(FUZZTIME) ./runtime/ledger/witness/
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) ./federation/privacy/

# The race detector over the concurrent packages: the ledger (committer,
# checkpointer, lock, readers beside a writer), the QPU server and client,
# the Lava sidecar spawn path and the simulator's cancellation. CI runs it.
.PHONY: test-race
test-race:
	$(GO) test -race -short -count=1 -skip '^TestFederationNetns$$' ./runtime/ledger/... ./devices/qpu/ ./devices/lava/ ./sim/ ./runtime/bus/ ./runtime/orchestrator/ ./federation/... ./ops/

# Install the peer tools (root; idempotent).
peers:
	bash ../shared/peers/install.sh

clean:
	rm -rf bin

# Regenerate the committed PTX of every kernel family (kernels/ptx/, for the
# CUDA backend) with nvcc, and check it with ptxas.
.PHONY: kernels kernels-check
kernels:
	bash kernels/gen-ptx.sh

# Fail, naming the files, when kernels/ptx/ is not what the sources give.
kernels-check:
	bash kernels/gen-ptx.sh --check

# The FFTW peer of mec bench --suite fft for every transform kind (complex
# and real, double and single precision: libfftw3 and libfftw3f, from the
# libfftw3-dev that shared/peers/install.sh installs), built beside the
# shared peers' tools.
PEERS_NODE_DIR ?= $(or $(MEC_PEERS_NODE_DIR),$(HOME)/.cache/mec-peers)
.PHONY: peer-fftw
peer-fftw:
	mkdir -p $(PEERS_NODE_DIR)
	gcc -O2 -Wall internal/peers/fftw/fftw_kinds.c -lfftw3 -lfftw3f -lfftw3_threads -lfftw3f_threads -lm -o $(PEERS_NODE_DIR)/fftw_kinds

# Fail when the generated complex64 FFT engine (engines/fft/engine64.go)
# is not what gen.go makes of engine128.go, or the generated radix-16 and radix-8 AVX2
# kernels (engines/fft/r16_amd64.s) not what gen_r16.go writes;
# `go generate ./engines/fft/` regenerates both.
.PHONY: fft-check
fft-check:
	cd engines/fft && $(GO) run gen.go -check && $(GO) run gen_r16.go -check

# The container image localhost/mec:latest, from this repository with
# podman (or buildah) and runc, no registry: a Debian base made by
# debootstrap, the binary built with this machine's Go toolchain, a
# minimal glibc runtime (deploy/container/, deploy/README.md). Root.
.PHONY: image image-smoke
image:
	bash deploy/container/build.sh

# mec devices and a short mec run in a container of the image (or, where
# no container can start, in its filesystem through chroot, saying why).
image-smoke:
	bash deploy/container/smoke.sh
