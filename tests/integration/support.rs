//! Running the binary, reading its output files, and comparing with (or re-blessing) golden files.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `initc` with `args` in `dir`, with no environment that could change its output.
pub fn initc(dir: &Path, args: &[&str]) -> Output {
    initc_with_env(dir, args, &[])
}

pub fn initc_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_initc"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("INITC_MEMORY_LIMIT")
        .env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    match command.output() {
        Ok(output) => output,
        Err(error) => panic!("cannot run initc: {error}"),
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The environment a config asks for in `# initc-env: NAME=VALUE` lines.
pub fn config_env(config: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(config).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("# initc-env:")?.trim().split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// The extra command-line arguments a config asks for in a `# initc-args: …` line.
pub fn config_args(config: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(config).unwrap_or_default();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("# initc-args:"))
        .map(|args| args.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The `.yaml` files in `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

/// The header JSON of a safetensors file, and per tensor `sha256  name` lines in file order.
pub fn header_and_hashes(bytes: &[u8]) -> (String, String) {
    let length = u64::from_le_bytes(bytes[..8].try_into().expect("8-byte length")) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + length]).expect("UTF-8 header").trim_end().to_string();
    let tensors = safetensors::SafeTensors::deserialize(bytes).expect("a valid safetensors file");
    let mut entries: Vec<_> = tensors.tensors();
    entries.sort_by_key(|(name, _)| header.find(&format!("\"{name}\":")).unwrap_or(usize::MAX));
    let hashes: String =
        entries.iter().map(|(name, view)| format!("{}  {name}\n", hex(&Sha256::digest(view.data())))).collect();
    (header, hashes)
}

/// Compares `actual` with the golden file at `path`, or writes it when `INITC_BLESS` is set.
/// Returns a description of the mismatch, if any.
pub fn check_golden(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("INITC_BLESS").is_some() {
        if let Err(error) = std::fs::write(path, actual) {
            return Some(format!("cannot bless {}: {error}", path.display()));
        }
        return None;
    }
    let expected = match std::fs::read_to_string(path) {
        Ok(expected) => expected,
        Err(_) => return Some(format!("{} is missing (run with INITC_BLESS=1 to create it)", path.display())),
    };
    (expected != actual).then(|| format!("{} differs:\n--- expected\n{expected}\n--- actual\n{actual}", path.display()))
}

pub fn assert_no_failures(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} golden mismatch(es):\n\n{}", failures.len(), failures.join("\n\n"));
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Waits for a spawned `initc`; one that has not ended after two minutes is killed and the test
/// fails, so a hang never outlives the test. Returns its exit status, and its stdout followed by
/// its stderr (both short: a pipe is read only once the process has ended).
pub fn wait_or_kill(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("initc did not end ({other:?}): killed");
            }
        }
    };
    let mut printed = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut printed);
    }
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut printed);
    }
    (status, printed)
}

/// Starts `initc` with `args` in `dir` (no stdin, stdout and stderr piped), through
/// `env_args` (e.g. `["--default-signal=INT"]`) given to coreutils' `env` when not empty.
pub fn spawn_initc(dir: &Path, env_args: &[&str], args: &[&str]) -> std::process::Child {
    let binary = env!("CARGO_BIN_EXE_initc");
    let mut command = if env_args.is_empty() {
        Command::new(binary)
    } else {
        let mut command = Command::new("env");
        command.args(env_args).arg(binary);
        command
    };
    command
        .current_dir(dir)
        .args(args)
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("INITC_MEMORY_LIMIT")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    match command.spawn() {
        Ok(child) => child,
        Err(error) => panic!("cannot run initc: {error}"),
    }
}
