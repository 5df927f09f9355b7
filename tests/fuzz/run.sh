#!/bin/sh
# run.sh - build tests/fuzz/fuzz_frame.c with clang-14's libFuzzer and the
# address and undefined-behaviour sanitizers, and fuzz net/'s receive path
# for a bounded time (default 10 s; FUZZ_TIME=60 for longer). Seeds from
# tests/fuzz/seeds; new corpus entries go to build/fuzz/corpus (not in git).
# Exits non-zero on a finding (the crashing input is left in build/fuzz/).
set -eu
cd "$(dirname "$0")/../.."
OUT=build/fuzz
TIME=${FUZZ_TIME:-10}
mkdir -p "$OUT/corpus"
clang-14 -g -O1 -std=gnu11 -DHOST_TEST -Iinclude -I. -Itests/unit \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer tests/fuzz/fuzz_frame.c -o "$OUT/fuzz_frame"
# -timeout: one input taking over 5 s is a finding (a hang), not a wait.
timeout $((TIME + 120)) "$OUT/fuzz_frame" -max_total_time="$TIME" -timeout=5 \
	-print_final_stats=1 -artifact_prefix="$OUT/" "$OUT/corpus" tests/fuzz/seeds
