//! Fuzz target: the bytes as a program that builds a config of vars and custom initializers
//! (chains, cycles, diamonds, wide calls, `--set`), through `compile_plan` and `lint`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| initc_fuzz::resolver(data));
