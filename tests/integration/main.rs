//! The one integration test binary: runs the real `initc` on real files.

mod cli;
mod determinism;
mod examples;
mod golden;
mod keras;
mod output;
mod support;
