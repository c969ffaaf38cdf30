//! The memory check before anything is generated (E0603). The most memory one tensor holds while
//! it is generated (`init::working_memory`: orthogonal's matrix, a rearranged tensor's logical
//! bytes, the pieces in flight), plus the writer's buffers (`compile`) or the tensor's f32 copy
//! (`verify`), against what this process can still get: on Linux the least of `MemAvailable`
//! (`/proc/meminfo`), the headroom under the memory limit of its cgroup and every ancestor
//! (v2 `memory.max`, v1 `memory.limit_in_bytes`; usage counted without inactive page cache, which
//! the kernel reclaims first) and under `ulimit -v`. Elsewhere nothing is measured and nothing is
//! refused. `INITC_MEMORY_LIMIT` replaces the measurement (specs/diagnostics.md, E0603).
//!
//! Tensors are generated one at a time, each freed before the next, so the largest one decides.
//! An allocation that fails anyway (the check is an estimate) ends in the same E0603, not an abort.

use super::Outcome;
use crate::diagnostic::{Code, Diagnostic};
use crate::emit::size_text;
use crate::init::OutOfMemory;
use crate::plan::{Initializer, Plan, TensorSpec};

/// Sets the memory available to initc (a size: `8GiB`, `512MB`, bytes) instead of what the
/// system reports.
pub const LIMIT_VARIABLE: &str = "INITC_MEMORY_LIMIT";

/// What the writer holds whatever the model: emit's two 1 MiB chunks and the direct writer's two
/// 4 MiB blocks (or a 1 MiB `BufWriter`), with room to spare.
const WRITER_BYTES: u64 = 12 << 20;

/// What the memory is for: `compile` writes, `verify` holds each tensor as f32 to compare it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Purpose {
    Compile,
    Verify,
    /// The Python package's `compile`: every tensor is kept, as an array.
    Arrays,
}

/// Memory this process can still get, and who says so.
#[derive(Debug, PartialEq)]
struct Available {
    bytes: u64,
    source: String,
}

/// Why E0603 (exit 1 for `compile`, 2 for `verify`, whose errors are all 2) refuses a plan whose
/// largest tensor needs more memory than there is, if it does (a malformed `INITC_MEMORY_LIMIT`
/// is E0601, exit 2): the diagnostic, the outcome, and whether the
/// diagnostic points into the config (E0603 does, a malformed `INITC_MEMORY_LIMIT` does not).
pub fn refusal(plan: &Plan, purpose: Purpose) -> Option<(Diagnostic, Outcome, bool)> {
    let available = match available() {
        Ok(Some(available)) => available,
        Ok(None) => return None,
        Err(diagnostic) => return Some((diagnostic, Outcome::Failure, false)),
    };
    let torch = plan.rng == crate::tensor::Rng::Torch;
    let diagnostic = match purpose {
        Purpose::Arrays => all_tensors_shortfall(plan, &available)?,
        // `rng: torch` holds what depends on its values, and copies of its generator.
        _ if torch => torch_shortfall(plan, purpose, &available)?,
        _ => shortfall(plan, purpose, &available)?,
    };
    let outcome = match purpose {
        Purpose::Compile | Purpose::Arrays => Outcome::InputErrors,
        Purpose::Verify => Outcome::Failure,
    };
    Some((diagnostic, outcome, true))
}

/// What a failed run of `compile` exits with: 1 for E0603 as for the check before it, else 2.
pub fn failure_outcome(diagnostic: &Diagnostic) -> Outcome {
    if diagnostic.code == Code::NotEnoughMemory { Outcome::InputErrors } else { Outcome::Failure }
}

/// E0603 for a write that failed because an allocation did.
pub fn out_of_memory(error: &std::io::Error) -> Option<Diagnostic> {
    Some(not_enough_memory(error.get_ref()?.downcast_ref::<OutOfMemory>()?))
}

pub(crate) fn not_enough_memory(error: &OutOfMemory) -> Diagnostic {
    Diagnostic::error(
        Code::NotEnoughMemory,
        format!(
            "not enough memory to generate `{}`: it needs {} ({} bytes) and an allocation failed",
            error.tensor,
            size_text(error.needed),
            error.needed
        ),
    )
    .with_help("free some memory, or run where more is available (a larger memory limit or `ulimit -v`)")
}

/// The bytes generating `spec` takes at its peak, for `purpose`.
fn needed(spec: &TensorSpec, purpose: Purpose) -> u64 {
    let working = crate::init::working_memory(spec);
    let extra = match purpose {
        Purpose::Compile => WRITER_BYTES,
        Purpose::Verify | Purpose::Arrays => {
            (spec.element_count() as u64).saturating_mul(spec.dtype.size_bytes() as u64)
        }
    };
    working.saturating_add(extra)
}

/// E0603 for holding every tensor at once as arrays (and the largest one's working memory, and
/// under `rng: torch` what its stream holds), if that is more than `available`. On Linux an
/// allocation larger than memory succeeds and the process is killed when it is filled, so it is
/// refused before.
fn all_tensors_shortfall(plan: &Plan, available: &Available) -> Option<Diagnostic> {
    let tensors = plan.tensors.iter().fold(0u64, |sum, spec| {
        sum.saturating_add((spec.element_count() as u64).saturating_mul(spec.dtype.size_bytes() as u64))
    });
    let working = plan.tensors.iter().map(crate::init::working_memory).max().unwrap_or(0);
    let drawn = crate::init::torch_held_bytes(plan);
    let bytes = working.saturating_add(tensors).saturating_add(drawn).saturating_add(WRITER_BYTES);
    if bytes <= available.bytes {
        return None;
    }
    let message = format!(
        "the model's tensors need {} ({bytes} bytes) of memory as arrays, more than the {} ({} bytes) available ({})",
        size_text(bytes),
        size_text(available.bytes),
        available.bytes,
        available.source
    );
    let help = "free some memory or run where more is available; `initc.save` writes the file a tensor at a time, \
                in little memory";
    Some(Diagnostic::error(Code::NotEnoughMemory, message).with_help(help))
}

/// E0603 under `rng: torch` when what its stream holds (the tensors drawn whole: `trunc_normal_`,
/// whose redraws depend on the values, and `normal_` under 16 elements; copies of the generator)
/// with the largest tensor's own need is more than `available`.
fn torch_shortfall(plan: &Plan, purpose: Purpose, available: &Available) -> Option<Diagnostic> {
    let largest = plan.tensors.iter().map(|spec| needed(spec, purpose)).max().unwrap_or(0);
    let held = crate::init::torch_held_bytes(plan);
    let bytes = held.saturating_add(largest);
    if bytes <= available.bytes {
        return None;
    }
    let message = format!(
        "`rng: torch` needs {} ({bytes} bytes) of memory, more than the {} ({} bytes) available ({}): {} ({held} \
         bytes) for its tensors drawn whole and copies of torch's generator, the rest for the largest tensor",
        size_text(bytes),
        size_text(available.bytes),
        available.bytes,
        available.source,
        size_text(held),
    );
    let help = "free some memory or run where more is available; `trunc_normal_` (Keras's `truncated_normal`) is \
                drawn whole under `rng: torch` because its redraws depend on its values, while initc's own \
                `rng: philox` makes every tensor a window at a time";
    Some(Diagnostic::error(Code::NotEnoughMemory, message).with_help(help))
}

/// E0603 at the tensor needing the most memory, if that is more than `available`.
fn shortfall(plan: &Plan, purpose: Purpose, available: &Available) -> Option<Diagnostic> {
    let (spec, bytes) =
        plan.tensors.iter().map(|spec| (spec, needed(spec, purpose))).max_by_key(|&(_, bytes)| bytes)?;
    if bytes <= available.bytes {
        return None;
    }
    let message = format!(
        "generating `{}` needs {} ({bytes} bytes) of memory, more than the {} ({} bytes) available ({})",
        spec.name,
        size_text(bytes),
        size_text(available.bytes),
        available.bytes,
        available.source
    );
    let shape = format!("{:?} {}", spec.shape, spec.dtype.safetensors_name().to_lowercase());
    let rearranged = spec.layout.as_ref().is_some_and(|layout| layout.is_rearranged());
    let (label, help) = match spec.initializer {
        Initializer::Orthogonal(_) => (
            format!("`{}` {shape}: orthogonal holds its whole matrix while it is written", spec.name),
            "free some memory or run where more is available; a smaller tensor, or an initializer that streams \
             (not `orthogonal`), needs less",
        ),
        _ if rearranged && spec.initializer.is_random() => (
            format!("`{}` {shape}: held whole to be rearranged for `--layout torch`", spec.name),
            "free some memory or run where more is available; with `--layout keras` it is written as it is \
             generated",
        ),
        _ => (format!("`{}` {shape}", spec.name), "free some memory or run where more is available"),
    };
    Some(Diagnostic::error(Code::NotEnoughMemory, message).at_labelled(spec.origin, label).with_help(help))
}

/// `INITC_MEMORY_LIMIT` if set, else what the system reports; `None` where nothing is known.
fn available() -> Result<Option<Available>, Diagnostic> {
    let Some(value) = std::env::var_os(LIMIT_VARIABLE) else { return Ok(measured()) };
    let text = value.to_string_lossy();
    match crate::emit::parse_size(&text) {
        Some(bytes) => Ok(Some(Available { bytes, source: format!("`{LIMIT_VARIABLE}={text}`") })),
        None => Err(Diagnostic::error(Code::BadCliValue, format!("`{LIMIT_VARIABLE}={text}` is not a size")).with_help(
            format!("give bytes or a number with a unit, e.g. `{LIMIT_VARIABLE}=8GiB`, or unset it to use what the system reports"),
        )),
    }
}

/// The least of what `/proc/meminfo`, the cgroup limits and `ulimit -v` leave.
#[cfg(target_os = "linux")]
fn measured() -> Option<Available> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let mut candidates = Vec::new();
    if let Some(bytes) = read("/proc/meminfo").and_then(|text| meminfo_available(&text)) {
        candidates.push(Available { bytes, source: "`MemAvailable` in /proc/meminfo".to_string() });
    }
    if let (Some(cgroup), Some(mountinfo)) = (read("/proc/self/cgroup"), read("/proc/self/mountinfo")) {
        for group in cgroup_directories(&cgroup, &mountinfo) {
            candidates.extend(group.headroom());
        }
    }
    if let (Some(limits), Some(status)) = (read("/proc/self/limits"), read("/proc/self/status"))
        && let Some(bytes) = address_space_headroom(&limits, &status)
    {
        candidates.push(Available { bytes, source: "under the address-space limit, `ulimit -v`".to_string() });
    }
    candidates.into_iter().min_by_key(|available| available.bytes)
}

#[cfg(not(target_os = "linux"))]
fn measured() -> Option<Available> {
    None
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn meminfo_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|line| line.strip_prefix("MemAvailable:"))?;
    kilobytes(line)
}

/// "  1234 kB" as bytes.
fn kilobytes(text: &str) -> Option<u64> {
    text.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?.checked_mul(1024)
}

/// Limits at or above this are "no limit" (cgroup v1 writes 2^63 rounded down to a page).
const NO_LIMIT: u64 = 1 << 60;

#[derive(Clone, Copy, Debug, PartialEq)]
enum CgroupVersion {
    V1,
    V2,
}

/// One cgroup directory whose memory limit applies to this process, up to its hierarchy's mount.
#[derive(Debug, PartialEq)]
struct CgroupDirectory {
    path: std::path::PathBuf,
    version: CgroupVersion,
}

/// The memory cgroup directories of this process, its own and every ancestor up to the mount
/// point, for v2 (`0::/path`) and for v1 (the hierarchy with the `memory` controller), from
/// `/proc/self/cgroup` and `/proc/self/mountinfo`.
fn cgroup_directories(cgroup: &str, mountinfo: &str) -> Vec<CgroupDirectory> {
    let mut directories = Vec::new();
    for line in cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let version = if id == "0" && controllers.is_empty() {
            CgroupVersion::V2
        } else if controllers.split(',').any(|controller| controller == "memory") {
            CgroupVersion::V1
        } else {
            continue;
        };
        let Some((root, mount)) = cgroup_mount(mountinfo, version) else { continue };
        // Inside a cgroup namespace the path may not start with the mount's root: it is then
        // relative to the mount already.
        let relative = match path.strip_prefix(root.trim_end_matches('/')) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => path,
        };
        let mount = std::path::PathBuf::from(mount);
        let mut current = mount.clone();
        current.extend(relative.split('/').filter(|part| !part.is_empty()));
        loop {
            directories.push(CgroupDirectory { path: current.clone(), version });
            if current == mount || !current.pop() || !current.starts_with(&mount) {
                break;
            }
        }
    }
    directories
}

/// The root and mount point of the cgroup2 hierarchy, or of the v1 hierarchy with the memory
/// controller, from `/proc/self/mountinfo` (fields: id, parent, device, root, mount point,
/// options, optional fields, `-`, type, source, super options).
fn cgroup_mount(mountinfo: &str, version: CgroupVersion) -> Option<(String, String)> {
    mountinfo.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        let fields: Vec<&str> = before.split(' ').collect();
        let mut after = after.split(' ');
        let (kind, _source, options) = (after.next()?, after.next()?, after.next().unwrap_or(""));
        let matches = match version {
            CgroupVersion::V2 => kind == "cgroup2",
            CgroupVersion::V1 => kind == "cgroup" && options.split(',').any(|option| option == "memory"),
        };
        if !matches {
            return None;
        }
        Some((unescape(fields.get(3)?), unescape(fields.get(4)?)))
    })
}

/// mountinfo's octal escapes (`\040` for a space) undone.
fn unescape(field: &str) -> String {
    field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

impl CgroupDirectory {
    /// Limit minus usage, where there is a limit; usage without the inactive page cache.
    #[cfg(target_os = "linux")]
    fn headroom(&self) -> Option<Available> {
        let (limit, usage, inactive) = match self.version {
            CgroupVersion::V2 => ("memory.max", "memory.current", "inactive_file"),
            CgroupVersion::V1 => ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
        };
        let read = |name: &str| std::fs::read_to_string(self.path.join(name)).ok();
        let stat = read("memory.stat").unwrap_or_default();
        let bytes = cgroup_headroom(&read(limit)?, &read(usage)?, &stat, inactive)?;
        Some(Available {
            bytes,
            source: format!("under the cgroup memory limit in {}", self.path.join(limit).display()),
        })
    }
}

/// `limit − (usage − inactive file cache)` from a cgroup's files, or `None` without a limit.
fn cgroup_headroom(limit: &str, usage: &str, stat: &str, inactive_key: &str) -> Option<u64> {
    let limit: u64 = limit.trim().parse().ok().filter(|&limit| limit < NO_LIMIT)?;
    let usage: u64 = usage.trim().parse().ok()?;
    let inactive = stat
        .lines()
        .find_map(|line| line.strip_prefix(inactive_key)?.strip_prefix(' ')?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Some(limit.saturating_sub(usage.saturating_sub(inactive)))
}

/// The soft `Max address space` of `/proc/self/limits` minus `VmSize` of `/proc/self/status`.
fn address_space_headroom(limits: &str, status: &str) -> Option<u64> {
    let soft = limits.lines().find_map(|line| line.strip_prefix("Max address space"))?.split_whitespace().next()?;
    let limit: u64 = soft.parse().ok()?;
    let used = status.lines().find_map(|line| line.strip_prefix("VmSize:")).and_then(kilobytes)?;
    Some(limit.saturating_sub(used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_gives_mem_available_in_bytes() {
        let meminfo = "MemTotal:       24683584 kB\nMemFree:        19268316 kB\nMemAvailable:   24052804 kB\n";
        assert_eq!(meminfo_available(meminfo), Some(24_052_804 * 1024));
        assert_eq!(meminfo_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn cgroup_directories_walk_up_to_the_mount() {
        let mountinfo = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        let cgroup = "5:devices:/x\n4:memory:/process_api/abc\n0::/\n";
        let found: Vec<(String, CgroupVersion)> = cgroup_directories(cgroup, mountinfo)
            .into_iter()
            .map(|directory| (directory.path.display().to_string(), directory.version))
            .collect();
        let expected = [
            ("/sys/fs/cgroup/memory/process_api/abc", CgroupVersion::V1),
            ("/sys/fs/cgroup/memory/process_api", CgroupVersion::V1),
            ("/sys/fs/cgroup/memory", CgroupVersion::V1),
            ("/sys/fs/cgroup/unified", CgroupVersion::V2),
        ];
        assert_eq!(found, expected.map(|(path, version)| (path.to_string(), version)));
        // A v2-only system whose mount root is the process's own cgroup (a container).
        let mountinfo = "25 20 0:22 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let found = cgroup_directories("0::/user.slice/job.scope\n", mountinfo);
        let paths: Vec<String> = found.iter().map(|directory| directory.path.display().to_string()).collect();
        assert_eq!(paths, ["/sys/fs/cgroup/job.scope", "/sys/fs/cgroup"]);
    }

    #[test]
    fn cgroup_headroom_is_limit_minus_usage_without_inactive_cache() {
        let stat = "anon 100\nfile 900\ninactive_file 600\nactive_file 300\n";
        assert_eq!(cgroup_headroom("3000\n", "1000\n", stat, "inactive_file"), Some(2600));
        assert_eq!(cgroup_headroom("max\n", "1000\n", stat, "inactive_file"), None);
        assert_eq!(cgroup_headroom("9223372036854771712\n", "5\n", "", "total_inactive_file"), None);
        // Usage above the limit (possible while the kernel reclaims) leaves nothing.
        assert_eq!(cgroup_headroom("1000", "5000", "", "inactive_file"), Some(0));
    }

    #[test]
    fn address_space_headroom_is_the_soft_limit_minus_vm_size() {
        let limits = "Max stack size            8388608              unlimited            bytes\n\
                      Max address space         3000000000           unlimited            bytes\n";
        let status = "VmPeak:\t    5000 kB\nVmSize:\t    4000 kB\n";
        assert_eq!(address_space_headroom(limits, status), Some(3_000_000_000 - 4_096_000));
        let unlimited = "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(address_space_headroom(unlimited, status), None);
    }
}
