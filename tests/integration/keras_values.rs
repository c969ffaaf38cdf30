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
