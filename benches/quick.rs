//! Quick timing probe (temporary).
use initc::init::TensorData;
use initc::plan::{DType, Fans, Initializer, TensorSpec};
use initc::source::Span;
use std::time::Instant;
fn main() {
    let n = 1usize << 20;
    for (name, init) in [("normal", Initializer::RandomNormal { mean: 0.0, stddev: 1.0, seed: None })] {
        let spec = TensorSpec { name: "b".into(), shape: vec![n], dtype: DType::F32, initializer: init, initializer_label: String::new(), fans: Fans::of_shape(&[n]), trainable: true, fill: None, origin: Span::new(0, 0) };
        let mut bytes = vec![0u8; n * 4];
        let data = TensorData::new(&spec, 1);
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..16 { data.fill_bytes(0, &mut bytes); }
            let s = t.elapsed().as_secs_f64();
            println!("{name}: {:.1} M/s", 16.0 * n as f64 / s / 1e6);
        }
    }
}
