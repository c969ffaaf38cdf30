//! Initial values Keras computes without randomness, against initc's: the `stft` initializer of
//! `STFTSpectrogram` (its kernels recorded from Keras by `tools/record_stft.py` into
//! `tests/keras/values/stft_kernels.json`).

use crate::keras_layers::tensor_values;
use crate::support::{initc, repo, text};
use serde_json::Value;

/// Keras computes each kernel in float32 one operation at a time (the angle `−2·t·f/n·π`, its
/// cosine, the window, its norm, the quotient); initc in f64 with the angle reduced exactly,
/// rounded once. The angle's float32 rounding grows with `t·f`, up to `frame_length · π` for
/// the last frame and bin: two units in the last place of that, per value of magnitude ≤ 1.
fn tolerance(frame_length: f64) -> f64 {
    2.0 * f64::from(f32::EPSILON) * (frame_length * std::f64::consts::PI).max(1.0)
}

#[test]
fn stft_kernels_are_keras_values() {
    let path = repo().join("tests/keras/values/stft_kernels.json");
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("stft_kernels.json")).expect("JSON");
    let cases = recorded["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let mut arguments = case["arguments"].clone();
        arguments["name"] = Value::from("stft");
        let config = format!("name: stft\ninput: {}\nlayers:\n  - stft_spectrogram: {arguments}\n", case["input"]);
        std::fs::write(dir.path().join("stft.yaml"), &config).expect("config");
        let output = initc(dir.path(), &["compile", "stft.yaml", "-o", "stft.safetensors"]);
        if !output.status.success() {
            failures.push(format!("case {index} {arguments}: {}", text(&output.stderr)));
            continue;
        }
        let bytes = std::fs::read(dir.path().join("stft.safetensors")).expect("weights");
        let frame_length = case["arguments"]["frame_length"].as_f64().expect("frame_length");
        for kernel in ["real_kernel", "imag_kernel"] {
            let keras: Vec<f64> = case[kernel].as_array().expect("values").iter().filter_map(Value::as_f64).collect();
            let ours = tensor_values(&bytes, &format!("stft.{kernel}"));
            let worst = keras.iter().zip(&ours).map(|(k, o)| (k - f64::from(*o)).abs()).fold(0.0, f64::max);
            if keras.len() != ours.len() || worst > tolerance(frame_length) {
                failures.push(format!(
                    "case {index} {arguments} {kernel}: {} values vs Keras's {}, largest difference {worst:e} (tolerance {:e})",
                    ours.len(),
                    keras.len(),
                    tolerance(frame_length)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// P(X ≤ x) for the standard normal.
fn standard_normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// The exact CDF of a distribution `tools/record_distributions.py` recorded from Keras.
fn recorded_cdf(tensor: &Value) -> Option<Box<dyn Fn(f64) -> f64>> {
    let number = |key: &str| tensor[key].as_f64();
    match tensor["kind"].as_str()? {
        "normal" => {
            let (mean, stddev) = (number("mean")?, number("stddev")?);
            Some(Box::new(move |x| standard_normal_cdf((x - mean) / stddev)))
        }
        // Keras redraws beyond two standard deviations.
        "truncated_normal" => {
            let (mean, stddev) = (number("mean")?, number("stddev")?);
            let (low, mass) = (standard_normal_cdf(-2.0), standard_normal_cdf(2.0) - standard_normal_cdf(-2.0));
            Some(Box::new(move |x| ((standard_normal_cdf((x - mean) / stddev) - low) / mass).clamp(0.0, 1.0)))
        }
        "uniform" => {
            let (low, high) = (number("low")?, number("high")?);
            Some(Box::new(move |x| ((x - low) / (high - low)).clamp(0.0, 1.0)))
        }
        _ => None,
    }
}

/// The interval a recorded distribution's values stay in (Keras's truncated normal: 2σ).
fn bounds(tensor: &Value) -> Option<(f64, f64)> {
    let number = |key: &str| tensor[key].as_f64();
    match tensor["kind"].as_str()? {
        "truncated_normal" => {
            let (mean, stddev) = (number("mean")?, number("stddev")?);
            Some((mean - 2.0 * stddev, mean + 2.0 * stddev))
        }
        "uniform" => Some((number("low")?, number("high")?)),
        _ => None,
    }
}

/// Kolmogorov–Smirnov D of `values` against `cdf`.
fn ks_statistic(values: &[f32], cdf: &dyn Fn(f64) -> f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| ((i + 1) as f64 / n - cdf(x)).max(cdf(x) - i as f64 / n))
        .fold(0.0, f64::max)
}

/// Every random tensor of the recorded layer models (EinsumDense and the attention layers'
/// sublayers with the fans of their kernels' axes, wrapped layers' own initializers,
/// SpectralNormalization's `vector_u`) has the distribution Keras draws it from, with Keras's
/// fans, σ and bounds as `tools/record_distributions.py` recorded them: the Kolmogorov–Smirnov
/// statistic of initc's values against the exact CDF stays below the critical value at
/// α = 10⁻⁶ (`sqrt(ln(2/α)/2)/sqrt(n)`; the values are fixed by the seed, so the test never
/// flips), and the values stay within the distribution's bounds.
#[test]
fn random_tensors_have_keras_distributions() {
    let path = repo().join("tests/keras/values/distributions.json");
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("distributions.json")).expect("JSON");
    let models = recorded["models"].as_object().expect("models");
    let dir = tempfile::tempdir().expect("temporary directory");
    let layers = repo().join("tests/keras/layers");
    let critical = |n: usize| (2.0e6f64.ln() / 2.0).sqrt() / (n as f64).sqrt();
    let mut failures = Vec::new();
    let mut tested = 0;
    for (model, tensors) in models {
        let out = dir.path().join(format!("{model}.safetensors"));
        let output = initc(&layers, &["compile", &format!("{model}.json"), "-o", out.to_str().expect("UTF-8")]);
        if !output.status.success() {
            failures.push(format!("{model}: {}", text(&output.stderr)));
            continue;
        }
        let bytes = std::fs::read(&out).expect("weights");
        for tensor in tensors.as_array().expect("tensors") {
            let name = tensor["path"].as_str().expect("path").replace('/', ".");
            let Some(cdf) = recorded_cdf(tensor) else {
                failures.push(format!("{model}: {name}: unknown distribution {tensor}"));
                continue;
            };
            let values = tensor_values(&bytes, &name);
            let d = ks_statistic(&values, &*cdf);
            let outside = bounds(tensor).is_some_and(|(low, high)| {
                // Bounds rounded to f32 may move by half a unit in the last place.
                let slack = 1e-6 * low.abs().max(high.abs());
                values.iter().any(|&v| !(low - slack..=high + slack).contains(&f64::from(v)))
            });
            if values.is_empty() || d > critical(values.len()) || outside {
                failures.push(format!(
                    "{model}: {name}: D = {d:.4} over {} values (critical {:.4})",
                    values.len(),
                    critical(values.len())
                ));
            }
            tested += 1;
        }
    }
    assert!(tested > 40, "only {tested} tensors tested");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
