# SPDX-License-Identifier: Apache-2.0
# PANO build: BPF objects and skeletons, pano-agent, pano-analyzer, tests, fuzzers.
# `make V=1` shows full commands; `make SAN=1` builds with ASan+UBSan into build/ too
# (the sanitizer build uses its own object directory so the two never mix).

.DELETE_ON_ERROR:
.SUFFIXES:

VERSION   := 0.1.0
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BUILD   ?= build
ifeq ($(SAN),1)
OBJ     := $(BUILD)/obj-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
OBJ     := $(BUILD)/obj
SANFLAGS :=
endif

# build/ holds one flavour of binaries at a time (its objects are kept apart, OBJ above): the
# stamp names the flavour last asked for, and every link depends on it, so `make` after
# `make SAN=1` relinks plain binaries rather than leaving sanitized ones behind.
FLAVOUR       := $(if $(filter 1,$(SAN)),san,plain)
FLAVOUR_STAMP := $(BUILD)/flavour
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(FLAVOUR_STAMP) 2>/dev/null)" = $(FLAVOUR) ] || \
	echo $(FLAVOUR) > $(FLAVOUR_STAMP); })
LINKED = $(filter-out $(FLAVOUR_STAMP),$^)

CFLAGS  ?= -O2 -g
# analyzer/ is one folder per pipeline stage (input/ net/ l7/ dns/ out/ summary/ ...); headers are
# named by file alone, so every stage folder is on the include path.
ANALYZER_INC := $(patsubst %/,-I%,$(sort $(dir $(wildcard analyzer/*/*.h))))
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
	   -D_GNU_SOURCE -DPANO_VERSION='"$(VERSION)"' -Iinclude -I$(BUILD) -I$(BUILD)/proto \
	   -Ibpf -Ilib -Ianalyzer $(ANALYZER_INC) -Iagent $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LIBS_LIB      := -lmicrohttpd -lssl -lcrypto -lm -lpthread
LIBS_AGENT    := -lbpf -lelf -lz $(LIBS_LIB) -lprotobuf-c
LIBS_ANALYZER := -lrdkafka -lcjson -lprotobuf-c $(LIBS_LIB)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
	      -I/usr/include/$(MULTIARCH) -Ibpf -Iinclude

# ---- sources (discovered: add a file, it builds) --------------------------------
BPF_SRCS      := $(wildcard bpf/*.bpf.c)
BPF_OBJS      := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
PROTO_SRCS    := $(wildcard proto/*.proto)
PROTO_C       := $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_SRCS))
PROTO_OBJS    := $(patsubst $(BUILD)/proto/%.c,$(OBJ)/proto/%.o,$(PROTO_C))
LIB_SRCS      := $(wildcard lib/*.c)
LIB_OBJS      := $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRCS)) $(PROTO_OBJS)
AGENT_SRCS    := $(wildcard agent/*.c)
AGENT_OBJS    := $(patsubst %.c,$(OBJ)/%.o,$(filter-out agent/main.c,$(AGENT_SRCS)))
ANALYZER_SRCS := $(wildcard analyzer/*.c analyzer/*/*.c)
ANALYZER_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(filter-out analyzer/main.c,$(ANALYZER_SRCS)))
# The per-packet path of pano-analyzer, in pipeline order: linked first and in this order, so
# that its code lies together and stays in the instruction cache (linked from the archive, it
# lay wherever symbol resolution pulled it, and a DNS capture took 10% longer; PERFORMANCE.md).
ANALYZER_HOT  := $(patsubst %,$(OBJ)/analyzer/%.o,input/input_buf input/input_pcap \
		 input/input_pcapng engine net/decode net/ipfrag net/packet net/tcp l7/l7 \
		 dns/dns dns/dns_txn dns/dns_parse dns/dns_rr dns/dns_names dns/dns_rec \
		 out/records out/rec out/json out/sink out/sink_file net/sender)
TOP_SRCS      := $(wildcard top/*.c)
UNIT_SRCS     := $(wildcard tests/unit/test_*.c)
UNIT_BINS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPFTEST_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFTEST_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(BPFTEST_SRCS))
TOOL_SRCS     := $(wildcard tests/tools/*.c)
TOOL_BINS     := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))
FUZZ_SRCS     := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BINS   := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/tests/replay_%,$(FUZZ_SRCS))
FUZZ_BINS     := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(FUZZ_SRCS))

BINS := $(BUILD)/pano-agent $(BUILD)/pano-analyzer $(if $(TOP_SRCS),$(BUILD)/pano-top)

.PHONY: all bpf test test-unit fuzz bench bench-agent bench-analyzer bench-transport bench-kafka \
	demo demo-pipeline soak \
	clean format install-deps tests-build
all: $(BINS)
bpf: $(BPF_OBJS) $(BPF_SKELS)

# ---- BPF ---------------------------------------------------------------------------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(BPFTOOL) gen object $@.tmp $@ && mv $@.tmp $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# ---- protobuf ----------------------------------------------------------------------
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto | $(BUILD)/proto
	$(call msg,PROTOC,$<)
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/proto $<

# Generated sources are kept: make would otherwise delete them as intermediates after a build
# that reached them only through pattern rules (make build/tests/X), and the next build that
# includes the header fails.
.SECONDARY: $(PROTO_C) $(patsubst %.c,%.h,$(PROTO_C))

$(OBJ)/proto/%.o: $(BUILD)/proto/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

# ---- user space --------------------------------------------------------------------
# Every C object waits for skeletons and generated protobuf headers (cheap, keeps rules simple).
GENERATED := $(BPF_SKELS) $(patsubst %.c,%.h,$(PROTO_C))

$(OBJ)/%.o: %.c | $(GENERATED)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/libpano.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@; ar rcs $@ $^
$(OBJ)/libagent.a: $(AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@; ar rcs $@ $^
$(OBJ)/libanalyzer.a: $(ANALYZER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@; ar rcs $@ $^

$(BUILD)/pano-agent: $(OBJ)/agent/main.o $(OBJ)/libagent.a $(OBJ)/libpano.a $(FLAVOUR_STAMP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(LINKED) $(LIBS_AGENT)
$(BUILD)/pano-analyzer: $(OBJ)/analyzer/main.o $(ANALYZER_HOT) $(OBJ)/libanalyzer.a $(OBJ)/libpano.a \
			$(FLAVOUR_STAMP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(LINKED) $(LIBS_ANALYZER)
$(BUILD)/pano-top: $(patsubst %.c,$(OBJ)/%.o,$(TOP_SRCS)) $(OBJ)/libpano.a $(FLAVOUR_STAMP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(LINKED) $(LIBS_ANALYZER) -lncurses

# ---- tests -------------------------------------------------------------------------
# Unit tests, BPF tests and helper tools link against all three archives; only what
# they use is pulled in.
TEST_LIBS := $(OBJ)/libanalyzer.a $(OBJ)/libagent.a $(OBJ)/libpano.a
TEST_DEPS := $(TEST_LIBS) $(FLAVOUR_STAMP)
TEST_LDLIBS := $(sort $(LIBS_AGENT) $(LIBS_ANALYZER)) -lrdkafka -lpcap

$(BUILD)/tests/%: tests/unit/%.c $(TEST_DEPS) | $(GENERATED)
	@mkdir -p $(@D)
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)
$(BUILD)/tests/%: tests/bpf/%.c $(TEST_DEPS) | $(GENERATED)
	@mkdir -p $(@D)
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)
$(BUILD)/tests/%: tests/tools/%.c $(TEST_DEPS) | $(GENERATED)
	@mkdir -p $(@D)
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)
# Replay drivers: the fuzz harness plus a main() that feeds it files (no libFuzzer needed).
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(TEST_DEPS) | $(GENERATED)
	@mkdir -p $(@D)
	$(call msg,REPLAY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(TEST_LIBS) $(TEST_LDLIBS)

tests-build: $(BINS) $(UNIT_BINS) $(BPFTEST_BINS) $(TOOL_BINS) $(REPLAY_BINS) bpf

# `make test` is the one test command: installs missing packages, builds, runs everything.
test:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD) tests-build
	$(Q)BUILD=$(BUILD) FUZZ_SECONDS=$(or $(FUZZ_SECONDS),15) SAN=$(SAN) tests/run.sh $(TESTS)

# ---- fuzzing (clang, libFuzzer, ASan+UBSan; own object directory) ---------------------
FUZZ_OBJ := $(BUILD)/obj-fuzz
FUZZ_CFLAGS := $(filter-out -MMD -MP $(SANFLAGS),$(CFLAGS)) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_SRCS := $(LIB_SRCS) $(filter-out analyzer/main.c,$(ANALYZER_SRCS))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(FUZZ_LIB_SRCS)) $(patsubst $(BUILD)/proto/%.c,$(FUZZ_OBJ)/proto/%.o,$(PROTO_C))
$(FUZZ_OBJ)/proto/%.o: $(BUILD)/proto/%.c
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_OBJ)/%.o: %.c | $(GENERATED)
	@mkdir -p $(@D)
	$(call msg,FUZZCC,$<)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS) | $(GENERATED)
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_ANALYZER) -lrdkafka
fuzz-build: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "fuzz $$n for $(or $(FUZZ_SECONDS),300)s"; \
		$$f -max_total_time=$(or $(FUZZ_SECONDS),300) -artifact_prefix=$(BUILD)/fuzz/ \
		    $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

# ---- benchmarks, demo, housekeeping -------------------------------------------------
bench: bench-agent bench-analyzer bench-transport bench-kafka
bench-agent: all
	$(Q)scripts/bench-agent.sh
bench-analyzer: all
	$(Q)scripts/bench-analyzer.sh
bench-transport: all $(BUILD)/tests/stream_feed
	$(Q)scripts/bench-transport.sh
bench-kafka: all
	$(Q)BUILD=$(BUILD) scripts/bench-kafka.sh
# 30 minutes of steady load; memory and open state sampled to build/soak/ (SOAK_SECONDS=...)
soak: all
	$(Q)BUILD=$(BUILD) scripts/soak.sh
demo:
	$(Q)scripts/demo.sh
demo-pipeline:
	$(Q)BUILD=$(BUILD) scripts/demo-pipeline.sh
install-deps:
	$(Q)scripts/install-deps.sh
.PHONY: compose-up compose-down
compose-up:
	docker compose -p pano-demo -f deploy/compose/compose.yaml up -d --build
compose-down:
	docker compose -p pano-demo -f deploy/compose/compose.yaml down


format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

$(BUILD)/bpf $(BUILD)/proto:
	$(Q)mkdir -p $@

clean:
	$(Q)rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-san -name '*.d' 2>/dev/null)
