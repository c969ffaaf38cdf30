//! Storage layouts: how a weight's logical (Keras) tensor is rearranged when written in
//! PyTorch's layout. Values are always generated in the logical layout, with the logical
//! tensor's fans and name, so both layouts hold the same function's weights.

/// The names and layouts tensors are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// Keras's: `<layer>.kernel` as `(in, out)`, the default.
    #[default]
    Keras,
    /// PyTorch's: `<layer>.weight` as `(out, in)`, RNN gates in torch's order.
    Torch,
}

/// A rearrangement of a logical tensor into the stored one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// A matrix `(in, out)` stored as `(out, in)` (dense, RNN kernels).
    Transpose,
    /// A convolution kernel `(k…, in, out)` stored as `(out, in, k…)`.
    ChannelsFirstKernel,
    /// A GRU kernel `(in, 3u)` whose gate blocks go from Keras's order (z, r, h) to torch's
    /// (r, z, n), stored transposed as `(3u, in)`.
    GruKernel,
    /// Row `0` (input) or `1` (recurrent) of a GRU bias `(2, 3u)`, gate blocks reordered.
    GruBiasRow(usize),
}

/// Where a stored tensor's values come from.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredLayout {
    /// The logical tensor's name (`gru.bias`), which keys its random stream.
    pub logical_name: String,
    pub logical_shape: Vec<usize>,
    /// `None` for a tensor that is only renamed (`kernel` stays `kernel`, `gamma` → `weight`).
    pub transform: Option<Transform>,
}

impl StoredLayout {
    /// The stored values from the logical ones.
    pub fn apply(&self, logical_values: &[f32]) -> Vec<f32> {
        match self.transform {
            Some(transform) => to_stored(transform, &self.logical_shape, logical_values),
            None => logical_values.to_vec(),
        }
    }
}

/// The stored shape of a logical tensor.
pub fn stored_shape(transform: Transform, logical: &[usize]) -> Vec<usize> {
    match (transform, logical) {
        (Transform::Transpose | Transform::GruKernel, [rows, cols]) => vec![*cols, *rows],
        (Transform::ChannelsFirstKernel, [kernel @ .., fan_in, fan_out]) => {
            [*fan_out, *fan_in].into_iter().chain(kernel.iter().copied()).collect()
        }
        (Transform::GruBiasRow(_), [_, width]) => vec![*width],
        _ => logical.to_vec(),
    }
}

/// Keras's GRU gate blocks (z, r, h) in torch's order (r, z, n): block `b` of the result is
/// block `GRU_GATES[b]` of the logical tensor.
const GRU_GATES: [usize; 3] = [1, 0, 2];

/// Rearranges `values` (row-major, `logical` shape) into the stored layout.
pub fn to_stored(transform: Transform, logical: &[usize], values: &[f32]) -> Vec<f32> {
    match (transform, logical) {
        (Transform::Transpose, &[rows, cols]) => transpose(values, rows, cols),
        (Transform::ChannelsFirstKernel, [kernel @ .., fan_in, fan_out]) => {
            // (k, in, out) viewed as (k, in·out) per position; output is (out, in, k).
            let positions: usize = kernel.iter().product();
            let (fan_in, fan_out) = (*fan_in, *fan_out);
            let mut stored = vec![0.0; values.len()];
            for position in 0..positions {
                for input in 0..fan_in {
                    for output in 0..fan_out {
                        let from = (position * fan_in + input) * fan_out + output;
                        let to = (output * fan_in + input) * positions + position;
                        stored[to] = values[from];
                    }
                }
            }
            stored
        }
        (Transform::GruKernel, &[rows, cols]) => transpose(&reorder_gates(values, rows, cols), rows, cols),
        (Transform::GruBiasRow(row), &[_, width]) => {
            let start = row * width;
            reorder_gates(&values[start..start + width], 1, width)
        }
        _ => values.to_vec(),
    }
}

fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut stored = vec![0.0; values.len()];
    for row in 0..rows {
        for col in 0..cols {
            stored[col * rows + row] = values[row * cols + col];
        }
    }
    stored
}

/// Reorders the three equal column blocks of a `(rows, cols)` matrix.
fn reorder_gates(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let block = cols / 3;
    let mut stored = Vec::with_capacity(values.len());
    for row in values.chunks(cols).take(rows) {
        for &gate in &GRU_GATES {
            stored.extend_from_slice(&row[gate * block..(gate + 1) * block]);
        }
    }
    stored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(transform: Transform, logical: &[usize], expected_shape: &[usize], expected: &[f32]) {
        let count: usize = logical.iter().product();
        let values: Vec<f32> = (0..count).map(|i| i as f32).collect();
        assert_eq!(stored_shape(transform, logical), expected_shape, "{transform:?}");
        assert_eq!(to_stored(transform, logical, &values), expected, "{transform:?}");
    }

    #[test]
    fn transforms_move_every_value_where_torch_expects_it() {
        // [[0, 1, 2], [3, 4, 5]] transposed.
        check(Transform::Transpose, &[2, 3], &[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        // Kernel (k=2, in=1, out=2): values [k0o0, k0o1, k1o0, k1o1] → (out, in, k).
        check(Transform::ChannelsFirstKernel, &[2, 1, 2], &[2, 1, 2], &[0.0, 2.0, 1.0, 3.0]);
        // GRU kernel (in=1, 3u=6) with gate blocks z=[0,1], r=[2,3], h=[4,5] → r, z, n as a column.
        check(Transform::GruKernel, &[1, 6], &[6, 1], &[2.0, 3.0, 0.0, 1.0, 4.0, 5.0]);
        // GRU bias (2, 3) with u = 1: row 1 is [3, 4, 5] → [4, 3, 5].
        check(Transform::GruBiasRow(1), &[2, 3], &[3], &[4.0, 3.0, 5.0]);
        check(Transform::GruBiasRow(0), &[2, 3], &[3], &[1.0, 0.0, 2.0]);
    }
}
