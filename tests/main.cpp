// The Catch2 main for every test binary. Run with --rng-seed <n> to replay
// the random inputs of a failing run (Catch2 prints the seed it used).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
