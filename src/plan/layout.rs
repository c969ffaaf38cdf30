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
    /// The stored tensor's bytes from the logical tensor's, elements of `size` bytes each.
    pub fn apply_bytes(&self, logical: &[u8], size: usize) -> Vec<u8> {
        match self.transform {
            Some(transform) => {
                let elements: Vec<&[u8]> = logical.chunks_exact(size.max(1)).collect();
                to_stored(transform, &self.logical_shape, &elements).concat()
            }
            None => logical.to_vec(),
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

/// Rearranges `values` (row-major, `logical` shape) into the stored layout. Generic over the
/// element so that encoded bytes of any dtype move exactly.
pub fn to_stored<T: Copy>(transform: Transform, logical: &[usize], values: &[T]) -> Vec<T> {
    source_indices(transform, logical, values.len())
        .into_iter()
        .filter_map(|index| values.get(index).copied())
        .collect()
}

/// For each stored element, the index of the logical element it holds.
fn source_indices(transform: Transform, logical: &[usize], count: usize) -> Vec<usize> {
    match (transform, logical) {
        (Transform::Transpose, &[rows, cols]) => transposed(rows, cols),
        (Transform::ChannelsFirstKernel, [kernel @ .., fan_in, fan_out]) => {
            // Stored (out, in, k) from logical (k, in, out).
            let positions: usize = kernel.iter().product();
            let (fan_in, fan_out) = (*fan_in, *fan_out);
            let mut indices = Vec::with_capacity(count);
            for output in 0..fan_out {
                for input in 0..fan_in {
                    for position in 0..positions {
                        indices.push((position * fan_in + input) * fan_out + output);
                    }
                }
            }
            indices
        }
        (Transform::GruKernel, &[rows, cols]) => {
            // Reorder the gate blocks of each row, then transpose.
            let reordered = gate_order(rows, cols);
            transposed(rows, cols).into_iter().map(|index| reordered[index]).collect()
        }
        (Transform::GruBiasRow(row), &[_, width]) => {
            gate_order(1, width).into_iter().map(|index| row * width + index).collect()
        }
        _ => (0..count).collect(),
    }
}

/// Source indices of a row-major `(rows, cols)` matrix stored as `(cols, rows)`.
fn transposed(rows: usize, cols: usize) -> Vec<usize> {
    (0..cols).flat_map(|col| (0..rows).map(move |row| row * cols + col)).collect()
}

/// Source indices of a `(rows, cols)` matrix whose three equal column blocks are reordered.
fn gate_order(rows: usize, cols: usize) -> Vec<usize> {
    let block = cols / 3;
    (0..rows)
        .flat_map(|row| {
            GRU_GATES.iter().flat_map(move |&gate| (gate * block..(gate + 1) * block).map(move |col| row * cols + col))
        })
        .collect()
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
