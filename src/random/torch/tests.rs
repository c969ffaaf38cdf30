//! Known answers from torch 2.15 itself (`tools/record_torch_rng.py` → `tests/torch_rng/`): every
//! recorded tensor byte for byte, by SHA-256, and every recorded value's bits.

use super::init_functions::{FanMode, Nonlinearity, TorchInit, TorchInitError};
use super::modules::{RnnKind, TorchModule};
use super::{TorchDtype, TorchGenerator, TorchValues};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn recorded() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/torch_rng/cases.json");
    let text = std::fs::read_to_string(path).expect("tests/torch_rng/cases.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn number(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or_else(|| panic!("{key} in {value}"))
}

fn count(value: &Value, key: &str) -> usize {
    value[key].as_u64().unwrap_or_else(|| panic!("{key} in {value}")) as usize
}

fn shape(value: &Value) -> Vec<usize> {
    value["shape"].as_array().expect("shape").iter().map(|s| s.as_u64().expect("size") as usize).collect()
}

fn mode(step: &Value) -> FanMode {
    if step["mode"] == "fan_in" { FanMode::FanIn } else { FanMode::FanOut }
}

fn nonlinearity(step: &Value) -> Nonlinearity {
    match step["nonlinearity"].as_str().expect("nonlinearity") {
        "relu" => Nonlinearity::Relu,
        "leaky_relu" => Nonlinearity::LeakyRelu(number(step, "a")),
        other => panic!("{other}"),
    }
}

fn init(step: &Value) -> TorchInit {
    match step["op"].as_str().expect("op") {
        "uniform" => TorchInit::Uniform { from: number(step, "from"), to: number(step, "to") },
        "normal" => TorchInit::Normal { mean: number(step, "mean"), std: number(step, "std") },
        "kaiming_uniform" => TorchInit::KaimingUniform { mode: mode(step), nonlinearity: nonlinearity(step) },
        "kaiming_normal" => TorchInit::KaimingNormal { mode: mode(step), nonlinearity: nonlinearity(step) },
        "xavier_uniform" => TorchInit::XavierUniform { gain: number(step, "gain") },
        "xavier_normal" => TorchInit::XavierNormal { gain: number(step, "gain") },
        "trunc_normal" => TorchInit::TruncNormal {
            mean: number(step, "mean"),
            std: number(step, "std"),
            a: number(step, "a"),
            b: number(step, "b"),
        },
        other => panic!("{other}"),
    }
}

fn draw(
    generator: &mut TorchGenerator,
    init: &TorchInit,
    shape: &[usize],
    dtype: &str,
) -> Result<TorchValues, TorchInitError> {
    fn typed<T: TorchDtype>(
        generator: &mut TorchGenerator,
        init: &TorchInit,
        shape: &[usize],
    ) -> Result<TorchValues, TorchInitError> {
        let mut values = vec![T::default(); shape.iter().product()];
        init.fill(generator, shape, &mut values)?;
        Ok(T::values(values))
    }
    match dtype {
        "f64" => typed::<f64>(generator, init, shape),
        "f16" => typed::<half::f16>(generator, init, shape),
        "bf16" => typed::<half::bf16>(generator, init, shape),
        _ => typed::<f32>(generator, init, shape),
    }
}

/// The differences between `values` and the recorded description (empty when byte-equal).
fn compare(values: &TorchValues, expected: &Value, label: &str) -> Vec<String> {
    let bytes = values.to_le_bytes();
    let hex = |chunk: &[u8]| chunk.iter().rev().map(|b| format!("{b:02x}")).collect::<String>();
    let size = match values {
        TorchValues::F32(_) => 4,
        TorchValues::F64(_) => 8,
        TorchValues::F16(_) | TorchValues::BF16(_) => 2,
    };
    let got: Vec<String> = bytes.chunks_exact(size).map(hex).collect();
    let mut problems = Vec::new();
    let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    if digest != expected["sha256"] {
        problems.push(format!("{label}: sha256 differs (first {:?} last {:?})", got.first(), got.last()));
    }
    if let Some(first) = expected["first"].as_str()
        && got.first().map(String::as_str) != Some(first)
    {
        problems.push(format!("{label}: first {:?} != {first}", got.first()));
    }
    if let Some(recorded) = expected["values"].as_array() {
        for (index, (value, want)) in got.iter().zip(recorded).enumerate() {
            if want != value.as_str() {
                problems.push(format!("{label}: [{index}] {value} != {want}"));
            }
        }
    }
    problems
}

#[test]
fn every_recorded_draw_is_byte_equal() {
    let data = recorded();
    let mut problems = Vec::new();
    let (mut compared, mut refused, mut steps) = (0, 0, 0);
    for case in data["draws"].as_array().expect("draws") {
        let mut generator = TorchGenerator::manual_seed(case["seed"].as_u64().expect("seed"));
        let outputs = case["outputs"].as_array().expect("outputs");
        steps += outputs.len();
        for (index, (step, expected)) in case["steps"].as_array().expect("steps").iter().zip(outputs).enumerate() {
            let label = format!("seed {} step {index} {step}", case["seed"]);
            let init = init(step);
            match draw(&mut generator, &init, &shape(step), step["dtype"].as_str().expect("dtype")) {
                Ok(values) => {
                    problems.extend(compare(&values, expected, &label));
                    compared += 1;
                }
                // The one path initc refuses: the arguments must be the uniform-proposal ones.
                Err(TorchInitError::UniformProposalTruncation) => {
                    assert!(number(step, "b") - number(step, "a") <= 0.5, "{label}");
                    refused += 1;
                    break;
                }
                Err(error) => problems.push(format!("{label}: {error}")),
            }
        }
    }
    assert!(problems.is_empty(), "{} of {compared} differ:\n{}", problems.len(), problems.join("\n"));
    // Only the eight uniform-proposal truncations (two seeds, four dtypes) are refused.
    assert_eq!((compared, refused), (steps - 8, 8));
}

fn module(description: &Value) -> TorchModule {
    let flag = |key: &str| description[key].as_bool().expect(key);
    match description["kind"].as_str().expect("kind") {
        "linear" => TorchModule::Linear {
            in_features: count(description, "in"),
            out_features: count(description, "out"),
            bias: flag("bias"),
        },
        "conv" => TorchModule::Conv {
            in_channels: count(description, "in"),
            out_channels: count(description, "out"),
            kernel: description["kernel"]
                .as_array()
                .expect("kernel")
                .iter()
                .map(|k| k.as_u64().expect("k") as usize)
                .collect(),
            groups: count(description, "groups"),
            bias: flag("bias"),
        },
        "embedding" => TorchModule::Embedding {
            num_embeddings: count(description, "num"),
            embedding_dim: count(description, "dim"),
            padding_idx: description["padding_idx"].as_u64().map(|row| row as usize),
        },
        "layer_norm" => TorchModule::LayerNorm { shape: shape(description), bias: true },
        "batch_norm" => TorchModule::BatchNorm { features: count(description, "features") },
        kind @ ("lstm" | "gru" | "rnn") => TorchModule::Rnn {
            kind: match kind {
                "lstm" => RnnKind::Lstm,
                "gru" => RnnKind::Gru,
                _ => RnnKind::Rnn,
            },
            input_size: count(description, "input"),
            hidden_size: count(description, "hidden"),
            layers: count(description, "layers"),
            bidirectional: flag("bidirectional"),
            bias: flag("bias"),
        },
        other => panic!("{other}"),
    }
}

#[test]
fn modules_built_in_sequence_give_torchs_state_dict() {
    let data = recorded();
    let mut problems = Vec::new();
    for case in data["modules"].as_array().expect("modules") {
        let mut generator = TorchGenerator::manual_seed(case["seed"].as_u64().expect("seed"));
        let mut state = Vec::new();
        for (index, description) in case["modules"].as_array().expect("modules").iter().enumerate() {
            for parameter in module(description).parameters() {
                let mut values = draw(&mut generator, &parameter.init, &parameter.shape, "f32").expect("reproduced");
                if let Some(range) = parameter.zeroed {
                    values.zero(range);
                }
                state.push((format!("{index}.{}", parameter.name), parameter.shape, values));
            }
        }
        let expected = case["state"].as_array().expect("state");
        assert_eq!(
            state.iter().map(|(name, shape, _)| (name.clone(), shape.clone())).collect::<Vec<_>>(),
            expected.iter().map(|e| (e["name"].as_str().expect("name").to_string(), shape(e))).collect::<Vec<_>>()
        );
        for ((name, _, values), expected) in state.iter().zip(expected) {
            problems.extend(compare(values, expected, &format!("seed {} {name}", case["seed"])));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn one_flipped_bit_is_detected() {
    let data = recorded();
    let case = &data["draws"][2];
    let step = &case["steps"][0];
    let mut generator = TorchGenerator::manual_seed(case["seed"].as_u64().expect("seed"));
    let values =
        draw(&mut generator, &init(step), &shape(step), step["dtype"].as_str().expect("dtype")).expect("drawn");
    assert!(compare(&values, &case["outputs"][0], "exact").is_empty());
    let TorchValues::F32(mut flipped) = values else { panic!("an f32 case") };
    for position in [0, flipped.len() / 2, flipped.len() - 1] {
        let original = flipped[position];
        flipped[position] = f32::from_bits(original.to_bits() ^ 1);
        assert!(!compare(&TorchValues::F32(flipped.clone()), &case["outputs"][0], "flipped").is_empty());
        flipped[position] = original;
    }
}

/// The largest difference `orthogonal` under `rng: torch` may have from torch's own
/// `orthogonal_` values (`specs/rng.md`), by dtype, in units of the gain.
const ORTHOGONAL_TOLERANCE_F32: f64 = 1e-5;
const ORTHOGONAL_TOLERANCE_F64: f64 = 1e-13;

#[test]
fn orthogonal_is_torchs_within_tolerance_and_advances_the_generator_as_torch() {
    let data = recorded();
    let cases = data["orthogonal"].as_array().expect("orthogonal");
    assert!(cases.len() >= 32);
    let (mut worst_f32, mut worst_f64) = (0.0f64, 0.0f64);
    let mut problems = Vec::new();
    for case in cases {
        let (seed, dtype, gain) =
            (case["seed"].as_u64().expect("seed"), case["dtype"].as_str().expect("dtype"), number(case, "gain"));
        let shape = shape(case);
        let label = format!("seed {seed} {dtype} {shape:?} gain {gain}");
        let mut generator = TorchGenerator::manual_seed(seed);
        let values = draw(&mut generator, &TorchInit::Orthogonal { gain }, &shape, dtype).expect("drawn");
        let ours: Vec<f64> = match &values {
            TorchValues::F32(values) => values.iter().map(|&v| f64::from(v)).collect(),
            TorchValues::F64(values) => values.clone(),
            _ => panic!("{label}: f32 or f64"),
        };
        let torch: Vec<f64> =
            case["values"].as_str().expect("values").split_whitespace().map(|v| v.parse().expect("a number")).collect();
        assert_eq!(ours.len(), torch.len(), "{label}");
        let worst = ours.iter().zip(&torch).map(|(a, b)| (a - b).abs() / gain).fold(0.0, f64::max);
        if dtype == "f32" {
            worst_f32 = worst_f32.max(worst)
        } else {
            worst_f64 = worst_f64.max(worst)
        }
        let after = draw(&mut generator, &TorchInit::Normal { mean: 0.0, std: 1.0 }, &[40], dtype).expect("drawn");
        problems.extend(compare(&after, &case["after"], &format!("{label}: the next normal_")));
    }
    eprintln!("orthogonal: largest difference from torch f32 {worst_f32:e}, f64 {worst_f64:e}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        worst_f32 <= ORTHOGONAL_TOLERANCE_F32 && worst_f64 <= ORTHOGONAL_TOLERANCE_F64,
        "f32 {worst_f32:e}, f64 {worst_f64:e}"
    );
}
