# Thin wrapper around Meson so the README can give two commands: `make run`, `make test`.
# Everything real lives in meson.build; scripts/deps installs the Debian packages.

BUILD       ?= build
TEST_BUILD  ?= build-test
FUZZ_BUILD  ?= build-fuzz
SHARED_DATA ?= $(abspath ../shared/data)
MESON       ?= meson
NINJA       ?= ninja

.PHONY: all deps build run test demo fuzz bench clean format

all: build

deps:
	@./scripts/deps

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=release -Dtests=false

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

# Starts a node on https://127.0.0.1:8443/taxii2/ with its data in ./data.
run: build
	@./scripts/run-node "$(BUILD)/cyberpact" "$(SHARED_DATA)"

# Three nodes on loopback that share an indicator, then revoke it (docs/SYNC.md).
demo: build
	@./scripts/demo "$(BUILD)"

# The whole suite, built with AddressSanitizer + UndefinedBehaviorSanitizer and -Werror.
$(TEST_BUILD)/build.ninja:
	$(MESON) setup $(TEST_BUILD) --buildtype=debug -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dtests=true

test: deps $(TEST_BUILD)/build.ninja
	$(NINJA) -C $(TEST_BUILD)
	CP_SHARED_DATA="$(SHARED_DATA)" $(MESON) test -C $(TEST_BUILD) --print-errorlogs

# libFuzzer builds (clang); run e.g. build-fuzz/fuzz/fuzz_stix_validate fuzz/regress/stix_validate
$(FUZZ_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ_BUILD) --buildtype=debugoptimized -Dlibfuzzer=true \
		-Dtests=false -Db_sanitize=address,undefined -Db_lundef=false

fuzz: deps $(FUZZ_BUILD)/build.ninja
	$(NINJA) -C $(FUZZ_BUILD)

bench: build
	$(BUILD)/bench/bench_validate "$(SHARED_DATA)"
	$(BUILD)/bench/bench_pattern "$(SHARED_DATA)"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
