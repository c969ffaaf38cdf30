//! Fuzz target: any bytes as a config file, through `config::parse` and `compile_plan`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| initc_fuzz::config(data));
