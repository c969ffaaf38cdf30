//! Sizes: the one grammar for sizes on the command line (`--max-size`, `--max-shard-size`), the
//! one way byte counts are shown to people, and the one function that works out how large each
//! safetensors file `compile` writes will be.
//!
//! Units on output follow one rule (`specs/config.md`, "Sizes"): IEC binary units (`KiB`, `MiB`,
//! `GiB`, powers of 1024) with two decimals, as the progress bar prints them. The one exception is
//! the Keras summary table, which keeps Keras's 1024-based `KB`/`MB`/`GB` to match Keras byte for
//! byte.

use super::safetensors;
use crate::plan::Plan;
use std::io;

/// The largest header the `safetensors` crate (and so Hugging Face's loaders) reads: a file with
/// a larger header is refused as `HeaderTooLarge`.
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The size of one safetensors file: the 8-byte length prefix, the header and the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSize {
    /// The header JSON with its alignment padding: the length the prefix records.
    pub header: u64,
    /// The tensors' bytes.
    pub data: u64,
}

impl FileSize {
    /// Every byte of the file.
    pub fn total(&self) -> u64 {
        8u64.saturating_add(self.header).saturating_add(self.data)
    }
}

/// The size of the safetensors file holding `tensors` (indices into the plan, in plan order),
/// exactly as [`super::write_safetensors`] or [`super::write_shard`] writes it. Nothing is
/// generated and the header is measured, not built. Fails as the writer would on a byte size
/// that overflows.
pub fn output_size(plan: &Plan, tensors: &[usize]) -> io::Result<FileSize> {
    let (header, data) = safetensors::header_and_data_len(plan, tensors)?;
    Ok(FileSize { header, data })
}

/// Decimal units (`huggingface_hub`'s `parse_size_to_int` reads `KB`…`TB` this way) and binary
/// ones (transformers' `GiB`), lowercase; the `b` is optional.
const UNITS: [(&str, u64); 18] = [
    ("", 1),
    ("b", 1),
    ("k", 1_000),
    ("kb", 1_000),
    ("m", 1_000_000),
    ("mb", 1_000_000),
    ("g", 1_000_000_000),
    ("gb", 1_000_000_000),
    ("t", 1_000_000_000_000),
    ("tb", 1_000_000_000_000),
    ("ki", 1 << 10),
    ("kib", 1 << 10),
    ("mi", 1 << 20),
    ("mib", 1 << 20),
    ("gi", 1 << 30),
    ("gib", 1 << 30),
    ("ti", 1 << 40),
    ("tib", 1 << 40),
];

/// A size as every command-line option takes it: a number of bytes, or a number (a fraction is
/// allowed: `1.5GB`) with a unit, case-insensitive, with or without a space before it:
/// `k`/`KB`, `M`/`MB`, `G`/`GB`, `T`/`TB` are powers of 1000 (`5GB` = 5·10^9 bytes, as
/// `huggingface_hub` reads `--max-shard-size`), `KiB`, `MiB`, `GiB`, `TiB` (or `Ki`…) powers of
/// 1024. A fraction of a byte is dropped, as Python's `int(value * unit)` does.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim_start().to_ascii_lowercase();
    let multiplier = UNITS.iter().find(|(name, _)| *name == unit)?.1;
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(multiplier);
    }
    // `f64` multiplication, then truncation: the bytes `huggingface_hub` would compute.
    let value: f64 = number.parse().ok()?;
    let bytes = value * multiplier as f64;
    (bytes.is_finite() && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// A byte count for people, in the one unit rule: `512 B`, `1.46 KiB`, `14.96 GiB`
/// (indicatif's binary format, so messages and the progress bar agree).
pub fn size_text(bytes: u64) -> String {
    indicatif::BinaryBytes(bytes).to_string()
}

/// `4,198,784`: a byte count with thousands separators.
pub fn count_text(count: u64) -> String {
    indicatif::HumanCount(count).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_plans::{small_plan, tensor};

    #[test]
    fn one_grammar_for_every_size_option() {
        let cases: &[(&str, Option<u64>)] = &[
            ("12345", Some(12_345)),
            ("0", Some(0)),
            ("100b", Some(100)),
            // Decimal, as huggingface_hub reads `--max-shard-size`, with or without the `B`.
            ("5GB", Some(5_000_000_000)),
            ("1G", Some(1_000_000_000)),
            ("200M", Some(200_000_000)),
            ("200MB", Some(200_000_000)),
            ("100k", Some(100_000)),
            ("10kb", Some(10_000)),
            ("1TB", Some(1_000_000_000_000)),
            ("3 MB", Some(3_000_000)),
            (" 2 gb ", Some(2_000_000_000)),
            // A fraction: `int(1.5 * 10**9)`; a fraction of a byte is dropped.
            ("1.5 GB", Some(1_500_000_000)),
            ("1.5k", Some(1_500)),
            ("1.1KiB", Some(1_126)),
            // Binary.
            ("2GiB", Some(2 << 30)),
            ("2Gi", Some(2 << 30)),
            ("3MiB", Some(3 << 20)),
            ("1KiB", Some(1_024)),
            ("1tib", Some(1 << 40)),
            ("20000000000GB", None),
            ("", None),
            ("GB", None),
            (".5G", None),
            ("5.G", None),
            ("-1GB", None),
            ("5 XB", None),
            ("5 parsecs", None),
            ("1e3", None),
            ("1e999", None),
            ("five", None),
            ("1.2.3M", None),
        ];
        for &(text, expected) in cases {
            assert_eq!(parse_size(text), expected, "{text:?}");
        }
    }

    #[test]
    fn sizes_print_in_iec_units_as_the_progress_bar_does() {
        assert_eq!(size_text(999), "999 B");
        assert_eq!(size_text(1_500), "1.46 KiB");
        assert_eq!(size_text(17_179_869_184), "16.00 GiB");
        assert_eq!(size_text(16_060_522_496), "14.96 GiB");
    }

    #[test]
    fn thousands_separators_group_by_three() {
        assert_eq!(count_text(0), "0");
        assert_eq!(count_text(999), "999");
        assert_eq!(count_text(1000), "1,000");
        assert_eq!(count_text(40152), "40,152");
        assert_eq!(count_text(4_198_784), "4,198,784");
        assert_eq!(count_text(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn output_size_is_the_size_of_the_written_file() {
        let mut plan = small_plan();
        plan.tensors.push(tensor("wide \"name\" é", &[3, 5], "glorot_uniform", true));
        plan.tensors.push(tensor("back\\slash\u{1}\ttab", &[], "zeros", false));
        plan.tensors[1].initializer_label = "label \"quoted\" \\ \n é".into();
        // Enough tensors that their header entries are measured on several threads.
        for k in 0..9000 {
            plan.tensors.push(tensor(&format!("b.{k}.dense.kernel"), &[k % 7, 1 + k % 300], "glorot_uniform", true));
        }
        let every: Vec<usize> = (0..plan.tensors.len()).collect();
        for tensors in [every.clone(), vec![0], vec![], vec![1, 3], vec![4, 5, 6], (3..8000).collect()] {
            let mut bytes = Vec::new();
            crate::emit::write_shard(
                &plan,
                None,
                &crate::emit::Shard { file_name: String::new(), tensors: tensors.clone() },
                &mut bytes,
                &mut |_| {},
            )
            .expect("written");
            let size = output_size(&plan, &tensors).expect("size");
            assert_eq!(size.total(), bytes.len() as u64, "{tensors:?}");
            assert_eq!(size.header, u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")));
        }
    }

    #[test]
    fn an_overflowing_size_is_an_error() {
        let mut plan = small_plan();
        plan.tensors.push(tensor("huge", &[usize::MAX, 2], "zeros", true));
        assert!(output_size(&plan, &[plan.tensors.len() - 1]).is_err());
    }
}
