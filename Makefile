# A thin layer over CMake presets. `make run` and `make test` install what is missing first.
PRESETS_TEST := release tsan asan
JOBS ?= 2

.PHONY: deps build run test bench clean $(addprefix build-,release debug tsan asan) $(addprefix test-,release debug tsan asan)

deps:
	@scripts/install-deps

build-%: deps
	cmake --preset $* >/dev/null
	cmake --build --preset $* -j $(JOBS)

test-%: build-%
	ctest --preset $*

build: build-release

run: build-release
	@scripts/tour build/release/examples

test: deps $(addprefix test-,$(PRESETS_TEST))
	@echo "make test: all presets passed ($(PRESETS_TEST))"

bench: build-release
	@scripts/bench build/release/bench

clean:
	rm -rf build
