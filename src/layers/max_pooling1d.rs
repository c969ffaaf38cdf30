//! `max_pooling1d`: max over windows of steps (Keras 3 `MaxPooling1D`, channels_last).

use super::conv1d::shape_text;
use super::spatial::{PADDINGS, Window};
use super::{Built, Layer, LayerType};
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{Args, Spanned};

pub const TYPE: LayerType = LayerType {
    name: "max_pooling1d",
    class_name: "MaxPooling1D",
    arguments: &["pool_size", "strides", "padding", "data_format"],
    parse,
};

#[derive(Debug)]
struct MaxPooling1D {
    window: Window,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let pool_size = args.tuple("pool_size", 1).unwrap_or(Spanned { value: vec![2], span: args.layer_span });
    // Keras: strides default to the pool size.
    let strides = args.tuple("strides", 1).map_or_else(|| pool_size.value.clone(), |s| s.value);
    let padding = args.word_or("padding", &PADDINGS, "valid").value;
    args.word_or("data_format", &["channels_last"], "channels_last");
    Some(Box::new(MaxPooling1D { window: Window { size: pool_size, strides, dilation: vec![1], padding } }))
}

impl Layer for MaxPooling1D {
    fn build(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let &[steps, channels] = input else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`max_pooling1d` needs a rank-2 input (steps, channels), found {}", shape_text(input)),
            ));
        };
        let output = self.window.output(&[steps], "pool")?;
        Ok(Built { output_shape: vec![output[0], channels], weights: Vec::new() })
    }
}
