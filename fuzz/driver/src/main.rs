//! Runs the `resolver` fuzz target's body on stable Rust, in a release build, and flags every
//! input that panics or whose `compile_plan` or `lint` (each the work of one command) takes
//! longer than the limit (1 s unless `--limit` says otherwise):
//!
//! ```sh
//! resolver-driver replay FILE_OR_DIR…      # each input once, timed
//! resolver-driver random SECONDS [OUT_DIR] # random programs (and mutations of the ones that
//!                                          # took longest) until SECONDS have passed
//! resolver-driver show FILE                # the config an input builds, and its overrides
//! ```
//!
//! A flagged input is written to OUT_DIR (default `artifacts/resolver-driver/`) as
//! `panic-<hash>` or `slow-<hash>`, to be replayed with `replay` or by libFuzzer. The exit code
//! is 1 when anything was flagged.

#[path = "../../src/lib.rs"]
#[allow(dead_code)]
mod targets;

use initc::diagnostic::render_human;
use initc::source::SourceFile;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// splitmix64: a small, fast, seedable generator (reproducible runs from `--seed`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// A random program for `resolver_config`: a dtype byte, then ops with their operands. Sizes
/// lean towards the extremes (0, 1, the largest), where the bugs were.
fn random_program(rng: &mut Rng) -> Vec<u8> {
    let mut program = vec![rng.below(256) as u8];
    for _ in 0..1 + rng.below(12) {
        program.push(rng.below(10) as u8);
        for _ in 0..rng.below(16) {
            program.push(match rng.below(4) {
                0 => 0,
                1 => 255,
                _ => rng.below(256) as u8,
            });
        }
    }
    program
}

/// A mutation: bytes flipped, inserted, removed or duplicated.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut output = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(output.len() + 1);
        match rng.below(4) {
            0 if at < output.len() => output[at] = rng.below(256) as u8,
            1 => output.insert(at, rng.below(256) as u8),
            2 if at < output.len() => {
                output.remove(at);
            }
            _ => {
                let end = (at + rng.below(8)).min(output.len());
                let copy: Vec<u8> = output[at.min(end)..end].to_vec();
                output.splice(at..at, copy);
            }
        }
    }
    output.truncate(4096);
    output
}

/// The outcome of one input.
enum Outcome {
    Passed(Duration),
    Panicked(String),
}

/// Runs what the `resolver` target runs, as the two commands it stands for: `compile_plan`
/// with its diagnostics rendered (what `summary` and `compile` do first), then `lint`. The time
/// is the slower of the two.
fn run_one(input: &[u8]) -> Outcome {
    let (text, overrides) = targets::resolver_config(input);
    let file = SourceFile::new("resolver.yaml", text);
    let outcome = panic::catch_unwind(|| {
        let start = Instant::now();
        let (_, diagnostics) = initc::compile_plan(&file, &overrides);
        for diagnostic in diagnostics.iter().take(100) {
            let _ = render_human(diagnostic, Some(&file));
        }
        let compile = start.elapsed();
        let start = Instant::now();
        let _ = initc::lint::lint(&file, &overrides, &initc::lint::LintOptions::default());
        compile.max(start.elapsed())
    });
    match outcome {
        Ok(time) => Outcome::Passed(time),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome::Panicked(message)
        }
    }
}

fn save(out: &Path, kind: &str, input: &[u8]) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    input.hash(&mut hasher);
    let path = out.join(format!("{kind}-{:016x}", hasher.finish()));
    if let Err(error) = std::fs::create_dir_all(out).and_then(|()| std::fs::write(&path, input)) {
        eprintln!("cannot write {}: {error}", path.display());
    }
    path
}

/// Runs `input`, saving it if it panicked or was slow. Its time (none when it panicked), and
/// whether it was flagged.
fn check(input: &[u8], limit: Duration, out: &Path, slowest: &mut (Duration, Vec<u8>)) -> (Option<Duration>, bool) {
    match run_one(input) {
        Outcome::Passed(time) => {
            if time > slowest.0 {
                *slowest = (time, input.to_vec());
            }
            if time > limit {
                let path = save(out, "slow", input);
                eprintln!("SLOW {:.3} s: {} ({input:?})", time.as_secs_f64(), path.display());
                return (Some(time), true);
            }
            (Some(time), false)
        }
        Outcome::Panicked(message) => {
            let path = save(out, "panic", input);
            eprintln!("PANIC {message}: {} ({input:?})", path.display());
            (None, true)
        }
    }
}

fn files(paths: &[String]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for path in paths.iter().map(PathBuf::from) {
        match std::fs::read_dir(&path) {
            Ok(entries) => {
                let mut inside: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                inside.sort();
                found.extend(inside);
            }
            Err(_) => found.push(path),
        }
    }
    found
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take_option = |name: &str| {
        let at = args.iter().position(|arg| arg == name)?;
        let value = args.get(at + 1).cloned();
        args.drain(at..(at + 2).min(args.len()));
        value
    };
    let limit = Duration::from_secs_f64(take_option("--limit").and_then(|v| v.parse().ok()).unwrap_or(1.0));
    let seed: u64 = take_option("--seed").and_then(|v| v.parse().ok()).unwrap_or(0x1c_2d_3e_4f);
    // Panics are caught and reported here; the default hook would print each one twice.
    panic::set_hook(Box::new(|_| {}));
    let mut slowest = (Duration::ZERO, Vec::new());
    let mut flagged = 0usize;
    let mut runs = 0usize;
    match args.first().map(String::as_str) {
        Some("replay") if args.len() > 1 => {
            let out = PathBuf::from("artifacts/resolver-driver");
            for path in files(&args[1..]) {
                let Ok(input) = std::fs::read(&path) else { continue };
                runs += 1;
                flagged += usize::from(check(&input, limit, &out, &mut slowest).1);
            }
        }
        Some("random") if args.len() > 1 => {
            let seconds: f64 = args[1].parse().unwrap_or(60.0);
            let out = PathBuf::from(args.get(2).map_or("artifacts/resolver-driver", String::as_str));
            let mut rng = Rng(seed);
            let end = Instant::now() + Duration::from_secs_f64(seconds);
            // The slowest inputs so far are mutated more often: they are where time goes.
            let mut pool: Vec<(Duration, Vec<u8>)> = Vec::new();
            while Instant::now() < end {
                let input = match pool.len() {
                    0 => random_program(&mut rng),
                    n if rng.below(2) == 0 => {
                        let parent = rng.below(n);
                        mutate(&mut rng, &pool[parent].1)
                    }
                    _ => random_program(&mut rng),
                };
                runs += 1;
                let (time, was_flagged) = check(&input, limit, &out, &mut slowest);
                flagged += usize::from(was_flagged);
                if let Some(time) = time.filter(|time| pool.len() < 32 || *time > pool[pool.len() - 1].0) {
                    pool.push((time, input));
                    pool.sort_by_key(|(time, _)| std::cmp::Reverse(*time));
                    pool.truncate(32);
                }
            }
        }
        Some("show") if args.len() == 2 => {
            let Ok(input) = std::fs::read(&args[1]) else {
                eprintln!("cannot read {}", args[1]);
                return ExitCode::from(2);
            };
            let (text, overrides) = targets::resolver_config(&input);
            println!("# --dtype {:?} --set {:?}\n{text}", overrides.dtype, overrides.sets);
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!(
                "usage: resolver-driver [--limit SECONDS] [--seed N] (replay FILE_OR_DIR… | random SECONDS [OUT_DIR] | show FILE)"
            );
            return ExitCode::from(2);
        }
    }
    println!(
        "{runs} inputs, {flagged} flagged (panic or slower than {:.1} s); slowest {:.3} s: {:?}",
        limit.as_secs_f64(),
        slowest.0.as_secs_f64(),
        slowest.1
    );
    if flagged > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
