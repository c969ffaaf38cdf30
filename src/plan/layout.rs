//! Storage layouts: how a weight's logical (Keras) tensors are rearranged when written in
//! PyTorch's layout. Values are always generated in the logical layout, with the logical
//! tensor's fans and name, so both layouts hold the same function's weights.
//!
//! Each transform is a chain of `ndarray` view operations (`into_shape_with_order`,
//! `permuted_axes`, `reversed_axes`, `index_axis`) on a view of the logical tensor; a stored
//! tensor is the concatenation, along its first axis, of the views its logical parts give (GRU's
//! gate blocks in torch's order, or the query, key and value projections packed into
//! `nn.MultiheadAttention`'s `in_proj_weight`). Nothing is copied: the writer walks the views.

pub use crate::layers::torch::Transform;
pub use crate::tensor::Layout;

use super::TensorSpec;
use ndarray::{ArrayView, ArrayViewD, Axis, IxDyn, Slice};

/// Where a stored tensor's values come from.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredLayout {
    /// The logical tensors whose views, concatenated along the first axis, make the stored one:
    /// one for a renamed or rearranged weight, several for a packed projection.
    pub parts: Vec<LogicalPart>,
}

/// One logical tensor of a stored tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct LogicalPart {
    /// The logical tensor as the Keras layout writes it: its name keys its random stream, its
    /// initializer, fans and fill make its values (the stored tensor's dtype applies).
    pub spec: TensorSpec,
    /// `None` for a tensor that is only renamed (`kernel` stays `kernel`, `gamma` → `weight`).
    pub transform: Option<Transform>,
}

impl StoredLayout {
    /// One logical tensor, rearranged by `transform` (or only renamed).
    pub fn single(spec: TensorSpec, transform: Option<Transform>) -> StoredLayout {
        StoredLayout { parts: vec![LogicalPart { spec, transform }] }
    }

    /// Whether the stored order differs from the logical one (a renamed tensor is streamed).
    pub fn is_rearranged(&self) -> bool {
        self.parts.len() != 1 || self.parts.iter().any(|part| part.transform.is_some())
    }

    /// The stored shape: the parts' stored shapes concatenated along the first axis, or `None`
    /// when they disagree on the other axes.
    pub fn stored_shape(&self) -> Option<Vec<usize>> {
        let mut shapes = self.parts.iter().map(|part| part.stored_shape());
        let mut shape = shapes.next()?;
        for other in shapes {
            if other.len() != shape.len() || other.is_empty() || other[1..] != shape[1..] {
                return None;
            }
            shape[0] += other[0];
        }
        Some(shape)
    }
}

impl LogicalPart {
    /// This part's shape in the stored tensor.
    pub fn stored_shape(&self) -> Vec<usize> {
        match self.transform {
            Some(transform) => stored_shape(transform, &self.spec.shape),
            None => self.spec.shape.clone(),
        }
    }
}

/// A view of a logical tensor, with the logical (row-major) index of its first element.
/// `ndarray` moves a view's data pointer when it indexes an axis; for a view of zero-sized
/// elements (which `init` walks to find the source of each stored element of a tensor whose
/// values it reads one at a time, without holding them) the pointer cannot show it, so the
/// offset is kept beside it.
#[derive(Debug)]
pub struct Piece<'a, T> {
    pub view: ArrayViewD<'a, T>,
    pub offset: usize,
}

// A view is cheap to copy whatever its elements are (a derive would ask `T: Clone`).
impl<T> Clone for Piece<'_, T> {
    fn clone(&self) -> Self {
        Piece { view: self.view.clone(), offset: self.offset }
    }
}

impl<'a, T> Piece<'a, T> {
    fn whole(view: ArrayViewD<'a, T>) -> Piece<'a, T> {
        Piece { view, offset: 0 }
    }

    /// The sub-view at `index` of `axis`.
    fn index_axis(self, axis: usize, index: usize) -> Piece<'a, T> {
        let offset = self.offset + index * self.stride(axis);
        Piece { view: self.view.index_axis_move(Axis(axis), index), offset }
    }

    /// The sub-view of the indices `range` of the first axis.
    fn rows(&self, range: std::ops::Range<usize>) -> Piece<'a, T> {
        let offset = self.offset + range.start * self.stride(0);
        Piece { view: self.view.clone().slice_axis_move(Axis(0), Slice::from(range)), offset }
    }

    /// The same elements with another shape (the view is contiguous: a reshape comes before
    /// any permutation).
    fn reshaped(self, shape: &[usize]) -> Option<Piece<'a, T>> {
        let offset = self.offset;
        let view = self.view.into_shape_with_order(IxDyn(shape)).ok()?;
        Some(Piece { view, offset })
    }

    fn permuted(self, axes: Vec<usize>) -> Piece<'a, T> {
        Piece { view: self.view.permuted_axes(IxDyn(&axes)), offset: self.offset }
    }

    fn transposed(self) -> Piece<'a, T> {
        Piece { view: self.view.reversed_axes(), offset: self.offset }
    }

    /// The stride of `axis` in logical elements (never negative: no transform reverses an axis).
    fn stride(&self, axis: usize) -> usize {
        self.view.strides().get(axis).map_or(0, |&stride| stride.unsigned_abs())
    }

    /// Calls `visit` with the logical index of each element, in standard order: row by row,
    /// each row an arithmetic sequence.
    pub fn for_each_logical_index(&self, visit: &mut impl FnMut(usize)) {
        match self.view.ndim() {
            0 => visit(self.offset),
            1 => {
                let stride = self.stride(0);
                (0..self.view.len()).for_each(|i| visit(self.offset + i * stride));
            }
            _ => {
                (0..self.view.shape()[0]).for_each(|row| self.clone().index_axis(0, row).for_each_logical_index(visit))
            }
        }
    }
}

/// Keras's GRU gate blocks (z, r, h) in torch's order (r, z, n): block `b` of the stored
/// tensor is block `GRU_GATES[b]` of the logical one.
const GRU_GATES: [usize; 3] = [1, 0, 2];

/// The views of `logical` (row-major, contiguous) that, concatenated along their first axis in
/// this order, make the stored tensor. A transform that does not fit the shape (never so for the
/// layers' own weights) leaves the tensor as it is.
pub fn stored_pieces<'a, T>(transform: Option<Transform>, logical: ArrayViewD<'a, T>) -> Vec<Piece<'a, T>> {
    let shape = logical.shape().to_vec();
    let whole = Piece::whole(logical);
    let Some(transform) = transform else { return vec![whole] };
    rearranged(transform, &shape, whole.clone()).unwrap_or_else(|| vec![whole])
}

fn rearranged<'a, T>(transform: Transform, shape: &[usize], logical: Piece<'a, T>) -> Option<Vec<Piece<'a, T>>> {
    let rank = shape.len();
    let pieces = match (transform, shape) {
        (Transform::Transpose, [_, _]) => vec![logical.transposed()],
        // (k…, in, out) → (out, in, k…).
        (Transform::ChannelsFirstKernel, [_, _, ..]) => {
            vec![logical.permuted([rank - 1, rank - 2].into_iter().chain(0..rank - 2).collect())]
        }
        // (k…, c, m) → (k…, c·m, 1) → (c·m, 1, k…): output channel c·m + m' is (c, m').
        (Transform::DepthwiseKernel, [kernel @ .., channels, multiplier]) => {
            let grouped: Vec<usize> = kernel.iter().copied().chain([channels * multiplier, 1]).collect();
            vec![logical.reshaped(&grouped)?.permuted([rank - 2, rank - 1].into_iter().chain(0..rank - 2).collect())]
        }
        // (in, 3u) → (in, 3, u) → (3, u, in), then the gate blocks in torch's order.
        (Transform::GruKernel, &[inputs, columns]) if columns % 3 == 0 => {
            let gates = logical.reshaped(&[inputs, 3, columns / 3])?.permuted(vec![1, 2, 0]);
            GRU_GATES.iter().map(|&gate| gates.clone().index_axis(0, gate)).collect()
        }
        // (2, 3u) → (2, 3, u), row `row`, then the gate blocks in torch's order.
        (Transform::GruBiasRow(row), &[rows, columns]) if columns % 3 == 0 && row < rows => {
            let gates = logical.reshaped(&[rows, 3, columns / 3])?.index_axis(0, row);
            GRU_GATES.iter().map(|&gate| gates.clone().index_axis(0, gate)).collect()
        }
        (Transform::Flatten, _) => vec![logical.reshaped(&[shape.iter().product()])?],
        // The first `inputs` axes against the rest, as a matrix, transposed.
        (Transform::FlattenTranspose(inputs), _) => {
            let split = inputs.min(rank);
            let matrix = [shape[..split].iter().product(), shape[split..].iter().product()];
            vec![logical.reshaped(&matrix)?.transposed()]
        }
        _ => return None,
    };
    Some(pieces)
}

/// The stored shape of a logical tensor: that of its pieces, concatenated along the first axis.
pub fn stored_shape(transform: Transform, logical: &[usize]) -> Vec<usize> {
    // Views of zero-sized elements: the shapes without any values (a `Vec<()>` allocates nothing).
    let units = vec![(); logical.iter().product()];
    let Ok(view) = ArrayView::from_shape(IxDyn(logical), units.as_slice()) else { return logical.to_vec() };
    let pieces = stored_pieces(Some(transform), view);
    let mut shape = pieces.first().map_or_else(|| logical.to_vec(), |piece| piece.view.shape().to_vec());
    if let Some(first) = shape.first_mut() {
        *first = pieces.iter().map(|piece| piece.view.shape().first().copied().unwrap_or(1)).sum();
    }
    shape
}

/// Calls `visit` on sub-views that together hold elements `first..first + count` of the
/// concatenation of `pieces` along their first axis, in standard (row-major) order: whole views
/// where the window covers them, else rows, recursively. A window is found by indexing, never by
/// skipping elements.
pub fn for_each_in_window<'a, T>(
    pieces: &[Piece<'a, T>],
    first: usize,
    count: usize,
    visit: &mut impl FnMut(&Piece<'a, T>),
) {
    let mut start = 0;
    for piece in pieces {
        let len = piece.view.len();
        let (from, to) = (first.max(start), (first + count).min(start + len));
        if from < to {
            visit_window(piece.clone(), from - start, to - from, visit);
        }
        start += len;
    }
}

fn visit_window<'a, T>(piece: Piece<'a, T>, first: usize, count: usize, visit: &mut impl FnMut(&Piece<'a, T>)) {
    if count == 0 {
        return;
    }
    if piece.view.ndim() == 0 || (first == 0 && count == piece.view.len()) {
        visit(&piece);
        return;
    }
    let row = piece.view.shape()[1..].iter().product::<usize>().max(1);
    let (first_row, last_row) = (first / row, (first + count - 1) / row);
    if first_row == last_row {
        visit_window(piece.index_axis(0, first_row), first - first_row * row, count, visit);
        return;
    }
    let head = first - first_row * row;
    visit_window(piece.clone().index_axis(0, first_row), head, row - head, visit);
    if last_row > first_row + 1 {
        visit(&piece.rows(first_row + 1..last_row));
    }
    visit_window(piece.index_axis(0, last_row), 0, first + count - last_row * row, visit);
}

/// Rearranges `values` (row-major, `logical` shape) into the stored layout.
#[cfg(test)]
pub fn to_stored<T: Copy>(transform: Transform, logical: &[usize], values: &[T]) -> Vec<T> {
    let view = ArrayView::from_shape(IxDyn(logical), values).expect("values of the logical shape");
    let pieces = stored_pieces(Some(transform), view);
    let mut stored = Vec::with_capacity(values.len());
    for_each_in_window(&pieces, 0, values.len(), &mut |piece| piece.view.iter().for_each(|&value| stored.push(value)));
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
        check(Transform::Flatten, &[1, 1, 3], &[3], &[0.0, 1.0, 2.0]);
        // Depthwise kernel (k=2, c=2, m=1): values [k0c0, k0c1, k1c0, k1c1] → (c·m, 1, k).
        check(Transform::DepthwiseKernel, &[2, 2, 1], &[2, 1, 2], &[0.0, 2.0, 1.0, 3.0]);
        // Kernel (in=2, heads=1, dim=3) as the matrix (2, 3), transposed; a (1, 3) bias flattened.
        check(Transform::FlattenTranspose(1), &[2, 1, 3], &[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        check(Transform::FlattenTranspose(2), &[1, 3, 2], &[2, 3], &[0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
        check(Transform::Flatten, &[1, 3], &[3], &[0.0, 1.0, 2.0]);
    }

    /// Every stored element's logical index, as the zero-sized views find it, read in windows.
    fn source_indices(transform: Transform, logical: &[usize], window: usize) -> Vec<usize> {
        let units = vec![(); logical.iter().product()];
        let view = ArrayView::from_shape(IxDyn(logical), units.as_slice()).expect("shape");
        let pieces = stored_pieces(Some(transform), view);
        let mut indices = Vec::new();
        for first in (0..units.len()).step_by(window) {
            for_each_in_window(&pieces, first, window.min(units.len() - first), &mut |piece| {
                piece.for_each_logical_index(&mut |index| indices.push(index))
            });
        }
        indices
    }

    #[test]
    fn source_indices_match_the_rearrangements_written_out() {
        // Each transform written as loops over the stored order, against the views' offsets and
        // strides, whole and in windows of every size up to 13.
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
            for window in 1..=13 {
                assert_eq!(source_indices(transform, &logical, window), expected, "{transform:?} {logical:?} {window}");
            }
        }
    }

    #[test]
    fn packed_parts_concatenate_along_the_first_axis() {
        let part = |name: &str, shape: &[usize], transform| LogicalPart {
            spec: crate::plan::TensorSpec {
                name: name.to_string(),
                shape: shape.to_vec(),
                dtype: crate::plan::DType::F32,
                initializer: crate::plan::Initializer::Zeros,
                initializer_label: "".into(),
                fans: crate::plan::Fans::of_shape(shape),
                trainable: true,
                fill: None,
                layout: None,
                counted: true,
                origin: crate::source::Span::default(),
            },
            transform,
        };
        let projection = Some(Transform::FlattenTranspose(1));
        let packed = StoredLayout {
            parts: vec![
                part("q", &[8, 2, 4], projection),
                part("k", &[8, 2, 4], projection),
                part("v", &[8, 2, 4], projection),
            ],
        };
        assert_eq!(packed.stored_shape(), Some(vec![24, 8]));
        assert!(packed.is_rearranged());
        let mismatched =
            StoredLayout { parts: vec![part("q", &[8, 2, 4], projection), part("k", &[6, 2, 4], projection)] };
        assert_eq!(mismatched.stored_shape(), None);
        let renamed = StoredLayout::single(part("q", &[8, 2, 4], None).spec, None);
        assert!(!renamed.is_rearranged());
        assert_eq!(renamed.stored_shape(), Some(vec![8, 2, 4]));
    }
}
