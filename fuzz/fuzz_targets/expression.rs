//! Fuzz target: any bytes as an expression, through `dsl::parse_call`, `parse_expr` and `eval`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| initc_fuzz::expression(data));
