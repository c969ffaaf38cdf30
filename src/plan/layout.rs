//! Storage layouts: how a weight's logical (Keras) tensor is rearranged when written in
//! PyTorch's layout. Values are always generated in the logical layout, with the logical
//! tensor's fans and name, so both layouts hold the same function's weights.

pub use crate::layers::torch::Transform;
pub use crate::tensor::Layout;

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
    /// The index in the logical tensor of the stored tensor's element `index`: arithmetic, so a
    /// rearranged tensor needs no table as large as itself.
    pub fn source_index(&self, index: usize) -> usize {
        match self.transform {
            Some(transform) => source_index(transform, &self.logical_shape, index),
            None => index,
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
        (Transform::Flatten, _) => vec![logical.iter().product()],
        (Transform::DepthwiseKernel, [kernel @ .., channels, multiplier]) => {
            [channels.saturating_mul(*multiplier), 1].into_iter().chain(kernel.iter().copied()).collect()
        }
        (Transform::FlattenTranspose(inputs), _) => {
            let (rows, cols) = matrix(inputs, logical);
            vec![cols, rows]
        }
        _ => logical.to_vec(),
    }
}

/// Keras's GRU gate blocks (z, r, h) in torch's order (r, z, n): block `b` of the result is
/// block `GRU_GATES[b]` of the logical tensor.
const GRU_GATES: [usize; 3] = [1, 0, 2];

/// Rearranges `values` (row-major, `logical` shape) into the stored layout.
#[cfg(test)]
pub fn to_stored<T: Copy>(transform: Transform, logical: &[usize], values: &[T]) -> Vec<T> {
    let count: usize = stored_shape(transform, logical).iter().product();
    (0..count).filter_map(|index| values.get(source_index(transform, logical, index)).copied()).collect()
}

/// The index of the logical element that stored element `index` holds.
fn source_index(transform: Transform, logical: &[usize], index: usize) -> usize {
    match (transform, logical) {
        (Transform::Transpose, &[rows, cols]) => transposed(rows, cols, index),
        (Transform::ChannelsFirstKernel, [kernel @ .., fan_in, fan_out]) => {
            // Stored (out, in, k) from logical (k, in, out).
            let positions: usize = kernel.iter().product();
            let per_output = (fan_in * positions).max(1);
            let (output, rest) = (index / per_output, index % per_output);
            let (input, position) = (rest / positions.max(1), rest % positions.max(1));
            (position * fan_in + input) * fan_out + output
        }
        (Transform::GruKernel, &[rows, cols]) => {
            // Transposed, with the gate blocks of each logical row reordered.
            let source = transposed(rows, cols, index);
            let cols = cols.max(1);
            source - source % cols + gate_column(cols, source % cols)
        }
        (Transform::GruBiasRow(row), &[_, width]) => row * width + gate_column(width, index),
        (Transform::DepthwiseKernel, [kernel @ .., channels, multiplier]) => {
            // Stored (c·m, 1, k) from logical (k, c, m): output channel o = c·m + m' is (c, m'),
            // so the logical index of (o, position) is position·c·m + o.
            let positions: usize = kernel.iter().product::<usize>().max(1);
            let outputs = channels * multiplier;
            let (output, position) = (index / positions, index % positions);
            position * outputs + output
        }
        (Transform::FlattenTranspose(inputs), _) => {
            let (rows, cols) = matrix(inputs, logical);
            transposed(rows, cols, index)
        }
        _ => index,
    }
}

/// A tensor read as the matrix of its first `inputs` axes by the rest.
fn matrix(inputs: usize, logical: &[usize]) -> (usize, usize) {
    let split = inputs.min(logical.len());
    (logical[..split].iter().product(), logical[split..].iter().product())
}

/// The source of element `index` of a row-major `(rows, cols)` matrix stored as `(cols, rows)`.
fn transposed(rows: usize, cols: usize, index: usize) -> usize {
    let rows = rows.max(1);
    (index % rows) * cols + index / rows
}

/// The source column of column `col` of a row whose three equal column blocks are reordered.
fn gate_column(cols: usize, col: usize) -> usize {
    let block = cols / 3;
    match GRU_GATES.get(col.checked_div(block).unwrap_or(usize::MAX)) {
        Some(&gate) => gate * block + col % block,
        None => col,
    }
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
        check(Transform::Flatten, &[1, 1, 3], &[3], &[0.0, 1.0, 2.0]);
        // Depthwise kernel (k=2, c=2, m=1): values [k0c0, k0c1, k1c0, k1c1] → (c·m, 1, k).
        check(Transform::DepthwiseKernel, &[2, 2, 1], &[2, 1, 2], &[0.0, 2.0, 1.0, 3.0]);
        // Kernel (in=2, heads=1, dim=3) as the matrix (2, 3), transposed; a (1, 3) bias flattened.
        check(Transform::FlattenTranspose(1), &[2, 1, 3], &[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        check(Transform::FlattenTranspose(2), &[1, 3, 2], &[2, 3], &[0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
        check(Transform::Flatten, &[1, 3], &[3], &[0.0, 1.0, 2.0]);
    }

    #[test]
    fn source_indices_match_the_rearrangements_written_out() {
        // Each transform written as loops over the stored order, against `source_index`.
        let (k, fan_in, fan_out) = ([3, 2], 4, 5);
        let mut kernel = Vec::new();
        for output in 0..fan_out {
            for input in 0..fan_in {
                for position in 0..k[0] * k[1] {
                    kernel.push((position * fan_in + input) * fan_out + output);
                }
            }
        }
        let (rows, units) = (7, 4);
        let gates =
            |row: usize| [1, 0, 2].into_iter().flat_map(move |gate| (0..units).map(move |u| (row, gate * units + u)));
        let mut gru = Vec::new();
        for col in 0..3 * units {
            for row in 0..rows {
                let (row, source) = gates(row).nth(col).expect("column");
                gru.push(row * 3 * units + source);
            }
        }
        let (channels, multiplier) = (3, 2);
        let mut depthwise = Vec::new();
        for channel in 0..channels {
            for m in 0..multiplier {
                for position in 0..k[0] * k[1] {
                    depthwise.push((position * channels + channel) * multiplier + m);
                }
            }
        }
        let cases: [(Transform, Vec<usize>, Vec<usize>); 5] = [
            (Transform::DepthwiseKernel, vec![k[0], k[1], channels, multiplier], depthwise),
            (Transform::ChannelsFirstKernel, vec![k[0], k[1], fan_in, fan_out], kernel),
            (Transform::Transpose, vec![3, 5], (0..5).flat_map(|c| (0..3).map(move |r| r * 5 + c)).collect()),
            (Transform::GruKernel, vec![rows, 3 * units], gru),
            (Transform::GruBiasRow(1), vec![2, 3 * units], gates(1).map(|(row, col)| row * 3 * units + col).collect()),
        ];
        for (transform, logical, expected) in cases {
            let layout = StoredLayout {
                logical_name: String::new(),
                logical_shape: logical.clone(),
                transform: Some(transform),
            };
            let got: Vec<usize> = (0..expected.len()).map(|index| layout.source_index(index)).collect();
            assert_eq!(got, expected, "{transform:?} {logical:?}");
        }
    }
}
