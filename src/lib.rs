//! initc compiles a declarative model config (YAML) into initialised weights (safetensors).
//!
//! The pipeline runs in reading order, data flowing one way:
//! [`source`] → [`config`] → [`dsl`] → [`resolve`] → [`infer`] → [`plan`] → [`init`] → [`emit`];
//! [`cli`] drives it and is the only module that does I/O. See `ARCHITECTURE.md`.

pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod dsl;
pub mod emit;
pub mod infer;
pub mod init;
pub mod layers;
pub mod plan;
pub mod resolve;
pub mod source;
