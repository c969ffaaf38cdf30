//! Output-length arithmetic shared by convolutions and pools (Keras 3 `compute_conv_output_shape`
//! and `compute_pooling_output_shape`), for any number of spatial dimensions.

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::Spanned;

pub const PADDINGS: [&str; 2] = ["valid", "same"];
pub const CONV1D_PADDINGS: [&str; 3] = ["valid", "same", "causal"];

/// One convolution or pooling window over the spatial dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Kernel or pool size per spatial dimension.
    pub size: Spanned<Vec<usize>>,
    pub strides: Vec<usize>,
    pub dilation: Vec<usize>,
    /// `valid`, `same` or `causal` (causal pads like same on the left only: same length).
    pub padding: &'static str,
}

impl Window {
    /// Output lengths for the `spatial` input lengths; an error if any would be zero or less.
    pub fn output(&self, spatial: &[usize], what: &str) -> Result<Vec<usize>, Diagnostic> {
        let mut output = Vec::with_capacity(spatial.len());
        for (axis, &length) in spatial.iter().enumerate() {
            let size = self.size.value[axis];
            let stride = self.strides[axis];
            let dilation = self.dilation[axis];
            let length_out = if self.padding == "valid" {
                // floor((L - d·(k - 1) - 1) / s) + 1, in signed arithmetic as numpy does it.
                let effective = dilation.saturating_mul(size - 1).saturating_add(1);
                if effective > length {
                    let dilated = if dilation > 1 { format!(" (dilated to {effective})") } else { String::new() };
                    return Err(Diagnostic::error(
                        Code::EmptyOutput,
                        format!("{what} of size {size}{dilated} is larger than its input of length {length} on spatial axis {axis}"),
                    )
                    .at(self.size.span)
                    .with_help("use a smaller size, `padding: same`, or a larger input"));
                }
                (length - effective) / stride + 1
            } else {
                // same / causal: ceil(L / s) = floor((L - 1) / s) + 1.
                if length == 0 { 0 } else { (length - 1) / stride + 1 }
            };
            if length_out == 0 {
                return Err(Diagnostic::error(
                    Code::EmptyOutput,
                    format!("{what} reduces spatial axis {axis} (length {length}) to zero"),
                )
                .at(self.size.span));
            }
            output.push(length_out);
        }
        Ok(output)
    }
}
