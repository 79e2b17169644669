# The two commands a newcomer needs (see README): `make demo` and `make test`.
# Each installs missing Debian packages first (scripts/setup.sh), then builds with CMake + Ninja.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all setup build demo test test-asan asan bench clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/cmd/monomesh/monomesh demo

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan asan: setup
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMONOMESH_SANITIZE=ON >/dev/null
	@ninja -C $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && MONOMESH_SANITIZER=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
