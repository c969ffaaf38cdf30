//! `--rng torch`: the files initc writes equal, tensor for tensor and byte for byte, the state
//! dicts torch 2.15 builds with `torch.manual_seed(seed)` and the same modules
//! (`tools/record_torch_rng.py` → `tests/torch_rng/cases.json`); what it cannot replay is refused.

use super::support::{initc, repo, text};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The file's tensors in data order: (shape, SHA-256 of the bytes), and its metadata.
fn tensors(bytes: &[u8]) -> (Vec<(Vec<u64>, String)>, Value) {
    let (named, metadata) = named_tensors(bytes);
    (named.into_iter().map(|(_, shape, digest)| (shape, digest)).collect(), metadata)
}

/// The file's tensors in data order: (name, shape, SHA-256 of the bytes), and its metadata.
fn named_tensors(bytes: &[u8]) -> (Vec<(String, Vec<u64>, String)>, Value) {
    let length = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + length]).expect("header JSON");
    let data = &bytes[8 + length..];
    let mut entries: Vec<(u64, String, Vec<u64>, String)> = header
        .as_object()
        .expect("object")
        .iter()
        .filter(|(name, _)| *name != "__metadata__")
        .map(|(name, entry)| {
            let offsets: Vec<u64> = entry["data_offsets"]
                .as_array()
                .expect("offsets")
                .iter()
                .map(|o| o.as_u64().expect("offset"))
                .collect();
            let shape = entry["shape"].as_array().expect("shape").iter().map(|s| s.as_u64().expect("size")).collect();
            let digest = Sha256::digest(&data[offsets[0] as usize..offsets[1] as usize]);
            (offsets[0], name.clone(), shape, digest.iter().map(|b| format!("{b:02x}")).collect())
        })
        .collect();
    entries.sort_by_key(|(start, _, _, _)| *start);
    let named = entries.into_iter().map(|(_, name, shape, digest)| (name, shape, digest)).collect();
    (named, header["__metadata__"].clone())
}

/// A recorded state dict entry: (name, shape, SHA-256).
fn recorded_entry(entry: &Value) -> (String, Vec<u64>, String) {
    let shape = entry["shape"].as_array().expect("shape").iter().map(|s| s.as_u64().expect("size")).collect();
    (entry["name"].as_str().expect("name").to_string(), shape, entry["sha256"].as_str().expect("sha256").to_string())
}

#[test]
fn templates_equal_transformers_from_config() {
    let path = repo().join("tests/torch_rng/cases.json");
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("cases.json")).expect("JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = recorded["hf"].as_array().expect("hf");
    // Every replayed template, two seeds each: gpt2 (tied and untied), llama, llama-tied (bf16,
    // biases, a padding row), mistral, qwen2 (biases), qwen2-tied (bf16), qwen3 (tied),
    // qwen3-untied (bf16), olmo2, granite, phi3, starcoder2 (LayerNorm, biases), gemma, gemma2,
    // gemma3_text (bf16), gpt_neox, mixtral and qwen3_moe (fused experts, one with a dense layer),
    // bert (pooler), bert-mlm (tied decoder with a bias), t5 and t5-v1_1; and mixtral with
    // experts that are not whole 16-value chunks of the fused `normal_` (its keys overridden).
    assert_eq!(cases.len(), 50);
    for case in cases {
        let mut name = case["config"].as_str().expect("config").to_string();
        let mut config = repo().join("tests/hf").join(&name).join("config.json");
        if let Some(overrides) = case["overrides"].as_object() {
            let mut changed: Value =
                serde_json::from_str(&std::fs::read_to_string(&config).expect("config")).expect("JSON");
            for (key, value) in overrides {
                changed[key] = value.clone();
            }
            name = format!("{name}-overridden");
            config = dir.path().join(format!("{name}.json"));
            std::fs::write(&config, changed.to_string()).expect("written");
        }
        let seed = case["seed"].to_string();
        let out = dir.path().join(format!("{name}-{seed}"));
        let mut args = vec![
            "compile",
            config.to_str().expect("path"),
            "--rng",
            "torch",
            "--seed",
            &seed,
            "-o",
            out.to_str().expect("path"),
            "-q",
        ];
        if let Some(dtype) = case["dtype"].as_str() {
            args.extend(["--dtype", dtype]);
        }
        let output = initc(dir.path(), &args);
        assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
        let (mut got, _) = named_tensors(&std::fs::read(out.join("model.safetensors")).expect("written"));
        let mut expected: Vec<_> = case["state"].as_array().expect("state").iter().map(recorded_entry).collect();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{name} seed {seed}");
    }
    // What initc cannot replay is refused, never drawn in another order: a `param` outside the
    // templates.
    std::fs::write(dir.path().join("param.yaml"), "input: [4]\nlayers: [{param: {name: w, shape: [3, 4]}}]\n")
        .expect("written");
    let output = initc(dir.path(), &["compile", "param.yaml", "--rng", "torch", "--layout", "torch", "-o", "refused"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no replay") && stderr.contains("help:"), "{stderr}");
}

/// `initc compile CONFIG --layout torch --rng torch --seed SEED --dtype DTYPE -o OUT`, which must
/// succeed.
fn compile_sequential(dir: &std::path::Path, config: &std::path::Path, seed: &str, dtype: &str, out: &std::path::Path) {
    let config = config.to_str().expect("path");
    let out = out.to_str().expect("path");
    let args = ["compile", config, "--layout", "torch", "--rng", "torch", "--seed", seed, "--dtype", dtype, "-o", out];
    let output = initc(dir, &args);
    assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
}

#[test]
fn configs_equal_torchs_state_dicts() {
    let path = repo().join("tests/torch_rng/cases.json");
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("cases.json")).expect("JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let cases = recorded["configs"].as_array().expect("configs");
    // f32, f64 and bf16 for every config.
    assert!(cases.len() >= 36);
    for case in cases {
        let config = repo().join("tests/torch_rng/configs").join(case["config"].as_str().expect("config"));
        let (seed, dtype) = (case["seed"].to_string(), case["dtype"].as_str().expect("dtype"));
        let out = dir.path().join("out.safetensors");
        compile_sequential(dir.path(), &config, &seed, dtype, &out);
        let (got, metadata) = tensors(&std::fs::read(&out).expect("written"));
        assert_eq!(metadata["initc.rng"], "torch-mt19937");
        let expected: Vec<(Vec<u64>, String)> = case["state"]
            .as_array()
            .expect("state")
            .iter()
            .map(|entry| {
                let shape =
                    entry["shape"].as_array().expect("shape").iter().map(|s| s.as_u64().expect("size")).collect();
                (shape, entry["sha256"].as_str().expect("sha256").to_string())
            })
            .collect();
        if got != expected {
            let names: Vec<&str> =
                case["state"].as_array().expect("state").iter().map(|e| e["name"].as_str().unwrap_or("")).collect();
            let differing: Vec<String> = got
                .iter()
                .zip(&expected)
                .zip(&names)
                .filter(|((g, e), _)| g != e)
                .map(|(_, name)| name.to_string())
                .collect();
            failures.push(format!(
                "{} seed {seed} {dtype}: {} tensors, torch {}; differing: {differing:?}",
                case["config"],
                got.len(),
                expected.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rng_in_the_config_equals_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = std::fs::read_to_string(repo().join("tests/torch_rng/configs/defaults.yaml")).expect("config");
    std::fs::write(dir.path().join("with_rng.yaml"), format!("rng: torch\n{source}")).expect("written");
    std::fs::write(dir.path().join("plain.yaml"), &source).expect("written");
    let compile = |config: &str, extra: &[&str], out: &str| {
        let mut args = vec!["compile", config, "--layout", "torch", "--seed", "1", "-o", out];
        args.extend_from_slice(extra);
        let output = initc(dir.path(), &args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        std::fs::read(dir.path().join(out)).expect("written")
    };
    let from_config = compile("with_rng.yaml", &[], "a.safetensors");
    let from_flag = compile("plain.yaml", &["--rng", "torch"], "b.safetensors");
    let philox = compile("with_rng.yaml", &["--rng", "philox"], "c.safetensors");
    assert_eq!(from_config, from_flag);
    assert_ne!(from_config, philox);
    // `verify` regenerates the same draws.
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "plain.yaml", "--golden", "a.safetensors", "--layout", "torch", "--seed", "1"];
        args.extend_from_slice(extra);
        let output = initc(dir.path(), &args);
        (output.status.code(), text(&output.stdout))
    };
    assert_eq!(verify(&["--rng", "torch"]).0, Some(0));
    assert_eq!(verify(&[]).0, Some(1));
}

#[test]
fn what_torch_cannot_replay_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, &[&str], &str); 5] = [
        ("layers: [{dense: {units: 3}}]", &["--layout", "keras"], "--layout torch"),
        ("layers: [{dense: {units: 3, kernel_initializer: orthogonal}}]", &["--dtype", "bf16"], "orthogonal_ fails"),
        ("layers: [{dense: {units: 3, kernel_initializer: lecun_normal}}]", &[], "no torch counterpart"),
        (
            "layers: [{dense: {units: 3, kernel_initializer: \"variance_scaling(scale=3)\"}}]",
            &[],
            "no torch counterpart",
        ),
        ("layers: [{dense: {units: 3, kernel_initializer: \"random_normal(seed=3)\"}}]", &[], "own `seed`"),
    ];
    for (layers, extra, expected) in cases {
        std::fs::write(dir.path().join("m.yaml"), format!("input: [4]\n{layers}\n")).expect("written");
        let mut args = vec!["compile", "m.yaml", "--rng", "torch", "-o", "m.safetensors"];
        if !extra.contains(&"--layout") {
            args.extend(["--layout", "torch"]);
        }
        args.extend_from_slice(extra);
        let output = initc(dir.path(), &args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{layers} {extra:?}: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains("help:"), "{layers} {extra:?}: {stderr}");
    }
}

/// The values of an f32 or f64 tensor of a safetensors file.
fn float_values(bytes: &[u8], name: &str) -> Vec<f64> {
    let length = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + length]).expect("header JSON");
    let entry = &header[name];
    let offsets: Vec<usize> = entry["data_offsets"]
        .as_array()
        .expect("offsets")
        .iter()
        .map(|o| o.as_u64().expect("offset") as usize)
        .collect();
    let data = &bytes[8 + length + offsets[0]..8 + length + offsets[1]];
    match entry["dtype"].as_str().expect("dtype") {
        "F32" => data.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes(b.try_into().expect("4")))).collect(),
        _ => data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8"))).collect(),
    }
}

#[test]
fn orthogonal_is_torchs_within_its_tolerance_and_lint_says_so() {
    let path = repo().join("tests/torch_rng/cases.json");
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("cases.json")).expect("JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = repo().join("tests/torch_rng/orthogonal.yaml");
    let cases = recorded["orthogonal_configs"].as_array().expect("orthogonal_configs");
    assert_eq!(cases.len(), 4);
    for case in cases {
        let (seed, dtype) = (case["seed"].to_string(), case["dtype"].as_str().expect("dtype"));
        let out = dir.path().join("out.safetensors");
        compile_sequential(dir.path(), &config, &seed, dtype, &out);
        let bytes = std::fs::read(&out).expect("written");
        let (got, _) = named_tensors(&bytes);
        let names = ["dense.weight", "dense.bias", "dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias"];
        let tolerance = if dtype == "f64" { 1e-13 } else { 1e-5 };
        for ((name, expected), (got_name, _, digest)) in
            names.iter().zip(case["state"].as_array().expect("state")).zip(&got)
        {
            assert_eq!(name, got_name);
            let label = format!("{name} seed {seed} {dtype}");
            match expected["values"].as_str() {
                // The orthogonal kernels: within the tolerance per unit of gain (1 and 2).
                Some(values) => {
                    let gain = if *name == "dense.weight" { 1.0 } else { 2.0 };
                    let torch: Vec<f64> = values.split_whitespace().map(|v| v.parse().expect("number")).collect();
                    let ours = float_values(&bytes, name);
                    assert_eq!(ours.len(), torch.len(), "{label}");
                    let worst = ours.iter().zip(&torch).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                    assert!(worst <= tolerance * gain, "{label}: {worst:e}");
                }
                // Everything else, the draws after the orthogonal ones included: torch's bytes.
                None => assert_eq!(digest, expected["sha256"].as_str().expect("sha256"), "{label}"),
            }
        }
    }
    // lint notes both orthogonal tensors (a note: exit 0).
    let output = initc(dir.path(), &["lint", config.to_str().expect("path"), "--layout", "torch", "--rng", "torch"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.matches("note[N0707]").count(), 2, "{stdout}");
    assert!(stdout.contains("`dense_2.weight`") && stdout.contains("within 2e-5"), "{stdout}");
    // Under the default generator there is nothing to note.
    let output = initc(dir.path(), &["lint", config.to_str().expect("path"), "--layout", "torch"]);
    assert!(!text(&output.stdout).contains("N0707"));
}

/// Shards under `rng: torch` hold the tensors one file holds, byte for byte: the stream is
/// placed once and every shard's tensors are made from it, whichever shard they land in.
#[test]
fn shards_hold_the_tensors_of_one_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = repo().join("tests/hf/gpt2/config.json");
    let compile = |out: &str, extra: &[&str]| {
        let mut args =
            vec!["compile", config.to_str().expect("path"), "--rng", "torch", "--seed", "3", "-o", out, "-q"];
        args.extend_from_slice(extra);
        let output = initc(dir.path(), &args);
        assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
    };
    compile("one", &[]);
    compile("sharded", &["--max-shard-size", "20KB"]);
    let (mut one, _) = named_tensors(&std::fs::read(dir.path().join("one/model.safetensors")).expect("written"));
    let mut sharded = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path().join("sharded")).expect("directory") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|extension| extension == "safetensors") {
            sharded.extend(named_tensors(&std::fs::read(&path).expect("shard")).0);
            files += 1;
        }
    }
    assert!(files > 2, "{files} shards");
    one.sort();
    sharded.sort();
    assert_eq!(one, sharded);
}

/// The file's metadata labels each tensor with what torch drew it from, so that `inspect`'s
/// expectations hold: a module's `kaiming_uniform_(a=√5)` is `U(±1/√fan_in)`, a `he_normal`
/// kernel torch's untruncated `kaiming_normal_`.
#[test]
fn labels_say_what_torch_draws() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = "rng: torch\ninput: [20]\nlayers:\n  - dense: {units: 30}\n  - dense: {units: 4, kernel_initializer: he_normal}\n";
    std::fs::write(dir.path().join("m.yaml"), config).expect("written");
    let output = initc(dir.path(), &["compile", "m.yaml", "--layout", "torch", "-o", "m.safetensors"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (_, metadata) = tensors(&std::fs::read(dir.path().join("m.safetensors")).expect("written"));
    let label = |name: &str| metadata[format!("initc.initializer.{name}")].as_str().expect("label").to_string();
    let number = |label: &str, key: &str| -> f64 {
        let start = label.find(&format!("{key}=")).expect("key") + key.len() + 1;
        let end = label[start..].find([',', ')']).expect("end") + start;
        label[start..end].parse().expect("a number")
    };
    let weight = label("dense.weight");
    assert!(weight.starts_with("random_uniform("), "{weight}");
    assert!((number(&weight, "maxval") - 1.0 / 20f64.sqrt()).abs() < 1e-12, "{weight}");
    assert!((number(&weight, "minval") + 1.0 / 20f64.sqrt()).abs() < 1e-12, "{weight}");
    let bias = label("dense.bias");
    assert!((number(&bias, "maxval") - 1.0 / 20f64.sqrt()).abs() < 1e-12, "{bias}");
    let he = label("dense_1.weight");
    assert!(he.starts_with("random_normal(mean=0.0,"), "{he}");
    assert!((number(&he, "stddev") - (2.0f64 / 30.0).sqrt()).abs() < 1e-12, "{he}");
    // `inspect` measures the file against those labels without a warning.
    let inspected = initc(dir.path(), &["inspect", "m.safetensors"]);
    assert!(inspected.status.success(), "{}", text(&inspected.stderr));
    assert!(text(&inspected.stdout).contains("random_uniform(minval="), "{}", text(&inspected.stdout));
}
