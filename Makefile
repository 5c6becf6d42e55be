# A thin layer over CMake presets. `make run` and `make test` install what is missing first.
PRESETS := release debug tsan asan
PRESETS_TEST := release tsan asan
JOBS ?= 2

BUILD_TARGETS := $(addprefix build-,$(PRESETS))
TEST_TARGETS := $(addprefix test-,$(PRESETS))

.PHONY: deps build run tour lab serve test bench clean $(BUILD_TARGETS) $(TEST_TARGETS)

deps:
	@scripts/install-deps

# Static pattern rules: GNU make applies no implicit rule to a .PHONY target.
$(BUILD_TARGETS): build-%: deps
	cmake --preset $* >/dev/null
	cmake --build --preset $* -j $(JOBS)

$(TEST_TARGETS): test-%: build-%
	ctest --preset $*

build: build-release

# The main demo: pyconc-lab's quick mode (every experiment, small sizes, under a minute);
# its report (Markdown and SVG charts) goes to build/lab-report.
run: build-release
	build/release/tools/pyconc-lab --quick --out build/lab-report

# The examples tour: every seed example's C++ twin, in order.
tour: build-release
	@scripts/tour build/release/examples

# The lab at full size (a few minutes): build/lab-report/report.md.
lab: build-release
	build/release/tools/pyconc-lab --out build/lab-report

# The demo application under the prefork server; Ctrl-C stops it (and its workers).
serve: build-release
	build/release/tools/pyconc-serve -w 2 -k gthread --threads 4 -b 127.0.0.1:8000 --access-logfile -

test: deps $(addprefix test-,$(PRESETS_TEST))
	@echo "make test: all presets passed ($(PRESETS_TEST))"

bench: build-release
	@scripts/install-deps --bench
	@scripts/bench build/release/bench

clean:
	rm -rf build
