//! The memory check (E0603): a run whose largest tensor needs more memory than there is, or than
//! `INITC_MEMORY_LIMIT` says there is, is refused before anything is generated; an allocation
//! that fails anyway ends in the same error, never an abort. Peak memory is measured as the
//! address space a run needs (`ulimit -v`, one malloc arena, two threads), which is
//! deterministic where resident memory is not.

use crate::support::{initc_with_env, text};
use std::path::Path;
use std::process::{Command, Output};

/// Writes `yaml` as `name` in `dir`.
fn config(dir: &Path, name: &str, yaml: &str) -> String {
    std::fs::write(dir.join(name), yaml).expect("write the config");
    name.to_string()
}

fn orthogonal(size: usize) -> String {
    format!("layers:\n  - param: {{name: w, shape: [{size}, {size}], initializer: orthogonal}}\n")
}

/// The files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the directory")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

fn assert_clean_failure(output: &Output, code: i32) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains("error[E0603]"), "{stderr}");
    for abort in ["panicked", "memory allocation of", "backtrace"] {
        assert!(!stderr.contains(abort), "{stderr}");
    }
}

#[test]
fn compile_refuses_a_tensor_needing_more_than_the_memory_limit_before_writing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let name = config(dir.path(), "m.yaml", &orthogonal(1024));
    std::fs::write(dir.path().join("w.safetensors"), "old").expect("an existing output");
    let compile = |limit: &str| {
        initc_with_env(dir.path(), &["compile", &name, "-o", "w.safetensors"], &[("INITC_MEMORY_LIMIT", limit)])
    };
    let refused = compile("10MB");
    assert_clean_failure(&refused, 1);
    let stderr = text(&refused.stderr);
    // What is needed (Q of 4 MiB, the streaming scratch and the writer's buffers), what is
    // available and who says so, at the tensor.
    assert!(stderr.contains("generating `w` needs 24.54 MiB (25736192 bytes) of memory"), "{stderr}");
    assert!(
        stderr.contains("more than the 9.54 MiB (10000000 bytes) available (`INITC_MEMORY_LIMIT=10MB`)"),
        "{stderr}"
    );
    assert!(stderr.contains("m.yaml:2:56"), "{stderr}");
    assert_eq!(std::fs::read(dir.path().join("w.safetensors")).expect("still there"), b"old");
    assert_eq!(files(dir.path()), ["m.yaml", "w.safetensors"]);

    let fits = compile("26MB");
    assert_eq!(fits.status.code(), Some(0), "{}", text(&fits.stderr));
    assert_eq!(std::fs::metadata(dir.path().join("w.safetensors")).expect("written").len() % 4, 0);

    let bad = compile("lots");
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("error[E0601]: `INITC_MEMORY_LIMIT=lots` is not a size"));
}

#[test]
fn verify_refuses_too_with_its_exit_code_for_errors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let name = config(dir.path(), "m.yaml", &orthogonal(1024));
    let no_limit: &[(&str, &str)] = &[];
    let written = initc_with_env(dir.path(), &["compile", &name, "-o", "w.safetensors"], no_limit);
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
    let verify = |limit: &str| {
        initc_with_env(dir.path(), &["verify", &name, "--golden", "w.safetensors"], &[("INITC_MEMORY_LIMIT", limit)])
    };
    assert_clean_failure(&verify("5MB"), 2);
    let equal = verify("1GB");
    assert_eq!(equal.status.code(), Some(0), "{}", text(&equal.stderr));
}

/// `initc args…` in `dir` with its address space limited to `kilobytes` (`ulimit -v`).
#[cfg(target_os = "linux")]
fn address_space_limited(dir: &Path, kilobytes: u64, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -v {kilobytes} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_initc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1");
    command
}

/// `initc args…` in `dir` with its address space limited to `kilobytes`, one malloc arena and
/// two threads, and `INITC_MEMORY_LIMIT` far above it (so the check before does not refuse).
#[cfg(target_os = "linux")]
fn initc_in_address_space(dir: &Path, kilobytes: u64, args: &[&str]) -> Output {
    address_space_limited(dir, kilobytes, args)
        .env("INITC_MEMORY_LIMIT", "1TB")
        .env("MALLOC_ARENA_MAX", "1")
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("run initc under sh")
}

#[cfg(target_os = "linux")]
#[test]
fn an_allocation_that_fails_is_e0603_not_an_abort() {
    // Q of a 16384² orthogonal matrix (1 GiB) cannot be had in 600 MB of address space.
    let dir = tempfile::tempdir().expect("temporary directory");
    let name = config(dir.path(), "big.yaml", &orthogonal(16384));
    let small = config(dir.path(), "small.yaml", &orthogonal(4));
    let written = initc_in_address_space(dir.path(), 600_000, &["compile", &small, "-o", "small.safetensors"]);
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));

    let compile = initc_in_address_space(dir.path(), 600_000, &["compile", &name, "-o", "w.safetensors"]);
    assert_clean_failure(&compile, 1);
    assert!(text(&compile.stderr).contains("not enough memory to generate `w`"), "{}", text(&compile.stderr));
    assert_eq!(files(dir.path()), ["big.yaml", "small.safetensors", "small.yaml"]);

    let verify = initc_in_address_space(dir.path(), 600_000, &["verify", &name, "--golden", "small.safetensors"]);
    assert_clean_failure(&verify, 2);

    // Without the override, the address-space limit is what the check measures.
    let measured = address_space_limited(dir.path(), 600_000, &["compile", &name, "-o", "w.safetensors"])
        .env_remove("INITC_MEMORY_LIMIT")
        .output()
        .expect("run initc under sh");
    assert_clean_failure(&measured, 1);
    assert!(text(&measured.stderr).contains("available (under the address-space limit, `ulimit -v`)"));
}

#[cfg(target_os = "linux")]
#[test]
fn a_rearranged_tensor_or_two_orthogonal_ones_need_the_memory_of_one_tensor() {
    // 64 MiB of values each. The torch layout used to hold the logical bytes, a table of
    // element slices and the stored copy (~740 MB of address space); two orthogonal tensors in a
    // row held both matrices at the switch (~165 MB). Now each needs one tensor (~95 MB).
    let dir = tempfile::tempdir().expect("temporary directory");
    let dense =
        "input: [4096]\nlayers:\n  - dense: {units: 4096, use_bias: false, kernel_initializer: random_normal}\n";
    let dense = config(dir.path(), "dense.yaml", dense);
    let two = "layers:\n  - param: {name: a, shape: [4096, 4096], initializer: orthogonal}\n  \
               - param: {name: b, shape: [4096, 4096], initializer: orthogonal}\n";
    let two = config(dir.path(), "two.yaml", two);
    for args in [
        ["compile", dense.as_str(), "--layout", "torch", "-o", "dense.safetensors"],
        ["compile", two.as_str(), "--dtype", "f16", "-o", "two.safetensors"],
    ] {
        let output = initc_in_address_space(dir.path(), 130_000, &args);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", text(&output.stderr));
    }
}

/// `summary` and `lint` switch to mimalloc, whose address-space reservations under `ulimit -v`
/// fit in some runs and not in others; under a limit they keep the system allocator, so a
/// summary that fits always fits (this graph's needs about 200 MB; with mimalloc it aborted
/// under 300 MB in every run, and under 230 MB with smaller reservations in some).
#[cfg(target_os = "linux")]
#[test]
fn a_large_summary_under_an_address_space_limit_fits_in_every_run() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let yaml = "inputs: {x: [8]}\nlayers:\n  - block: {name: \"b.{i}\", repeat: 50000, residual: true, layers: [{dense: {units: 8}}]}\n";
    let name = config(dir, "graph.yaml", yaml);
    for command in ["summary", "lint"] {
        for _ in 0..3 {
            let output = address_space_limited(dir, 300_000, &[command, &name]).output().expect("run initc under sh");
            assert_eq!(output.status.code(), Some(0), "{command}: {}", text(&output.stderr));
        }
    }
}
