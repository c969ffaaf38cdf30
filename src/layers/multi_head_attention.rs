//! `multi_head_attention` and `grouped_query_attention`: attention whose query, key, value and
//! output projections are `EinsumDense` sublayers (Keras 3 `MultiHeadAttention` and
//! `GroupedQueryAttention`, exported also as `GroupQueryAttention`, `keras/src/layers/attention/`). Weights are named after the
//! sublayers (`query.kernel`, …) with Keras's shapes and axis fans; every sublayer's kernel takes
//! the layer's `kernel_initializer` (a seed in it is copied to each, as Keras copies it).

use super::einsum_dense::{Analysis, analyze_known};
use super::spatial::shape_text;
use super::torch::{TorchTensor, Transform, packed, weight};
use super::{Arity, Built, Layer, LayerType, Weight};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};

pub const MULTI_HEAD_ATTENTION: LayerType = LayerType {
    name: "multi_head_attention",
    class_name: "MultiHeadAttention",
    arguments: &[
        "num_heads",
        "key_dim",
        "value_dim",
        "dropout",
        "use_bias",
        "output_shape",
        "attention_axes",
        "sliding_window",
        "flash_attention",
        "kernel_initializer",
        "bias_initializer",
        "use_gate",
        "seed",
    ],
    parse: parse_multi_head,
    torch: multi_head_torch,
};

pub const GROUPED_QUERY_ATTENTION: LayerType = LayerType {
    name: "grouped_query_attention",
    class_name: "GroupedQueryAttention",
    arguments: &[
        "head_dim",
        "num_query_heads",
        "num_key_value_heads",
        "dropout",
        "use_bias",
        "sliding_window",
        "flash_attention",
        "kernel_initializer",
        "bias_initializer",
        "use_gate",
        "seed",
    ],
    parse: parse_group_query,
    torch,
};

/// `nn.MultiheadAttention(E, heads, kdim=…, vdim=…, batch_first=True)` where its shapes allow
/// (see [`packed_attention`]), else separate `nn.Linear` layers ([`torch`]).
fn multi_head_torch(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    match packed_attention(weights) {
        Some(tensors) => Ok(tensors),
        None => torch(weights),
    }
}

/// `nn.MultiheadAttention`'s tensors, when the layer is one: no gate, query, key and value heads
/// of one size `key_dim == value_dim` whose product with the head count is the query's features
/// `E`, and an output of `E` features. Key and value inputs of `E` features pack the three
/// kernels into `in_proj_weight` `(3E, E)`; others (torch's `kdim`, `vdim`) keep
/// `q_proj_weight`, `k_proj_weight` and `v_proj_weight`. The biases pack into `in_proj_bias`.
fn packed_attention(weights: &[Weight]) -> Option<Vec<TorchTensor>> {
    let shape = |name: &str| weights.iter().find(|weight| weight.name == name).map(|weight| weight.shape.as_slice());
    if shape("gate.kernel").is_some() {
        return None;
    }
    let (
        &[features, heads, key_dim],
        &[key_features, key_heads, key_key_dim],
        &[value_features, value_heads, value_dim],
    ) = (shape("query.kernel")?, shape("key.kernel")?, shape("value.kernel")?)
    else {
        return None;
    };
    let output = shape("attention_output.kernel")?;
    let same_heads = key_heads == heads && value_heads == heads && key_key_dim == key_dim && value_dim == key_dim;
    if !same_heads || heads * key_dim != features || output != [heads, value_dim, features] {
        return None;
    }
    let projection = Some(Transform::FlattenTranspose(1));
    let mut tensors = if key_features == features && value_features == features {
        vec![packed("in_proj_weight", &["query.kernel", "key.kernel", "value.kernel"], projection)]
    } else {
        vec![
            weight("q_proj_weight", "query.kernel", projection),
            weight("k_proj_weight", "key.kernel", projection),
            weight("v_proj_weight", "value.kernel", projection),
        ]
    };
    tensors.extend([
        packed("in_proj_bias", &["query.bias", "key.bias", "value.bias"], Some(Transform::Flatten)),
        weight("out_proj.weight", "attention_output.kernel", Some(Transform::FlattenTranspose(2))),
        weight("out_proj.bias", "attention_output.bias", None),
    ]);
    Some(tensors)
}

/// Separate `nn.Linear` layers named after the sublayers (`query`, `key`, `gate`, `value`,
/// `attention_output`): each kernel read as the matrix of its input axes by its output axes and
/// transposed, each bias flattened. `MultiHeadAttention` maps so when `nn.MultiheadAttention`
/// cannot hold it (a gate, heads of two sizes, heads not spanning the query's features, or
/// another output size); `GroupedQueryAttention` always.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    let projection = |input_axes| Some(Transform::FlattenTranspose(input_axes));
    let flat = Some(Transform::Flatten);
    Ok(vec![
        weight("query.weight", "query.kernel", projection(1)),
        weight("query.bias", "query.bias", flat),
        weight("key.weight", "key.kernel", projection(1)),
        weight("key.bias", "key.bias", flat),
        weight("gate.weight", "gate.kernel", projection(1)),
        weight("gate.bias", "gate.bias", flat),
        weight("value.weight", "value.kernel", projection(1)),
        weight("value.bias", "value.bias", flat),
        weight("attention_output.weight", "attention_output.kernel", projection(2)),
        weight("attention_output.bias", "attention_output.bias", flat),
    ])
}

/// Arguments both classes share.
#[derive(Debug)]
struct Common {
    use_bias: bool,
    use_gate: bool,
}

fn parse_common(args: &mut Args) -> Option<Common> {
    let dropout = args.number_in_or("dropout", 0.0, 1.0, 0.0);
    let use_bias = args.bool_or("use_bias", true);
    let use_gate = args.bool_or("use_gate", false);
    // The attention window, the kernel choice and the dropout seed do not change the weights.
    args.optional_count("sliding_window", 1);
    args.bool_or("flash_attention", false);
    args.optional_count("seed", 0);
    dropout?;
    Some(Common { use_bias, use_gate })
}

#[derive(Debug)]
struct MultiHeadAttention {
    num_heads: usize,
    key_dim: usize,
    value_dim: usize,
    output_shape: Option<Vec<usize>>,
    attention_axes: Option<Spanned<Vec<Spanned<i64>>>>,
    common: Common,
}

fn parse_multi_head(args: &mut Args) -> Option<Box<dyn Layer>> {
    let num_heads = args.required_count("num_heads");
    let key_dim = args.required_count("key_dim");
    let value_dim = args.optional_count("value_dim", 1);
    let output_shape = args.sizes_or_nulls("output_shape", false);
    let attention_axes =
        if args.take("attention_axes").is_some() { Some(args.integers_or("attention_axes", -2)?) } else { None };
    let common = parse_common(args)?;
    let output_shape = match output_shape {
        Some(shape) if shape.value.is_empty() => None,
        Some(shape) => match shape.value.iter().copied().collect::<Option<Vec<usize>>>() {
            Some(sizes) => Some(sizes),
            None => {
                args.diagnostics.push(
                    Diagnostic::error(Code::InvalidValue, "`output_shape` cannot leave a size unknown here")
                        .at(shape.span)
                        .with_help("give every size of the output's last axes, e.g. `output_shape: [64]`"),
                );
                return None;
            }
        },
        None => None,
    };
    let key_dim = key_dim?.value;
    Some(Box::new(MultiHeadAttention {
        num_heads: num_heads?.value,
        key_dim,
        value_dim: value_dim.map_or(key_dim, |v| v.value),
        output_shape,
        attention_axes,
        common,
    }))
}

/// Keras's `_build_proj_equation`: `free_dims` axes kept, `bound_dims` contracted with the
/// kernel, `output_dims` made by it; the bias covers the made axes.
fn projection_equation(free_dims: usize, bound_dims: usize, output_dims: usize) -> (String, String, usize) {
    let letter = |i: usize| char::from(b'a' + i as u8);
    let free: String = (0..free_dims).map(letter).collect();
    let bound: String = (free_dims..free_dims + bound_dims).map(letter).collect();
    let made: String = (free_dims + bound_dims..free_dims + bound_dims + output_dims).map(letter).collect();
    let output_rank = free.len() + made.len();
    (format!("{free}{bound},{bound}{made}->{free}{made}"), made, output_rank)
}

/// Keras's `_get_output_shape`: unknown sizes, then the known last ones.
fn partial_output(output_rank: usize, known: &[usize]) -> Vec<Option<usize>> {
    let unknown = output_rank.saturating_sub(known.len());
    std::iter::repeat_n(None, unknown).chain(known.iter().copied().map(Some)).collect()
}

fn sublayer_error(class: &str, sublayer: &str, reason: String) -> Diagnostic {
    Diagnostic::error(Code::InvalidValue, format!("`{class}` cannot build its `{sublayer}` projection: {reason}"))
        .with_help("check the input shapes the layer is called on")
}

/// One projection: an EinsumDense over `input`'s last axis into `made` axes, named `names`.
fn project(
    class: &str,
    names: [&'static str; 3],
    input: &[usize],
    bound_dims: usize,
    made: &[usize],
    use_bias: bool,
) -> Result<Vec<Weight>, Diagnostic> {
    let (equation, bias_axes, output_rank) = projection_equation(input.len() + 1 - bound_dims, bound_dims, made.len());
    let bias_axes = use_bias.then_some(bias_axes.as_str());
    let analysis: Analysis = analyze_known(&equation, bias_axes, input, &partial_output(output_rank - 1, made))
        .map_err(|reason| sublayer_error(class, names[0], reason))?;
    Ok(super::einsum_dense::weights(&analysis, names[1], names[2]))
}

/// Query, value and (optional) key, with at least a sequence and a feature axis each; key and
/// value agree except on their last axis.
fn attention_inputs<'a>(class: &str, inputs: &'a [Vec<usize>]) -> Result<[&'a [usize]; 3], Diagnostic> {
    if inputs.len() > 3 {
        return Err(Diagnostic::error(
            Code::InvalidValue,
            format!("`{class}` takes a query, a value and optionally a key, found {} inputs", inputs.len()),
        )
        .with_help("give 2 or 3 inputs: `[query, value]` or `[query, value, key]`"));
    }
    let (query, value) = (inputs[0].as_slice(), inputs[1].as_slice());
    let key = inputs.get(2).map_or(value, Vec::as_slice);
    for (what, shape) in [("query", query), ("value", value), ("key", key)] {
        if shape.len() < 2 {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`{class}` needs a {what} with a sequence and a feature axis, found {}", shape_text(shape)),
            )
            .with_help("give inputs shaped `[sequence, features]`"));
        }
    }
    if value[..value.len() - 1] != key[..key.len() - 1] {
        return Err(Diagnostic::error(
            Code::MergeMismatch,
            format!(
                "`{class}`'s value {} and key {} must agree on every axis but the last",
                shape_text(value),
                shape_text(key)
            ),
        )
        .with_help("give key and value the same sequence axes"));
    }
    Ok([query, value, key])
}

impl Layer for MultiHeadAttention {
    fn arity(&self) -> Arity {
        Arity::AtLeast(2)
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        let class = "multi_head_attention";
        let [query, value, key] = attention_inputs(class, inputs)?;
        if let Some(axes) = &self.attention_axes {
            // Axes of the projected value `(batch, …, heads, channels)`, as Keras normalises them.
            let rank = value.len() as i64 + 2;
            for axis in &axes.value {
                let resolved = if axis.value >= 0 { axis.value } else { rank - 1 + axis.value };
                if !(1..=rank - 3).contains(&resolved) {
                    return Err(Diagnostic::error(
                        Code::InvalidValue,
                        format!(
                            "`attention_axes` {} is not a sequence axis of the value {}",
                            axis.value,
                            shape_text(value)
                        ),
                    )
                    .at(axis.span)
                    .with_help(format!(
                        "give axes from 1 to {} (0 is the batch axis, the last the features)",
                        rank - 3
                    )));
                }
            }
        }
        let (heads, use_bias) = (self.num_heads, self.common.use_bias);
        let mut weights = Vec::new();
        weights.extend(project(
            class,
            ["query", "query.kernel", "query.bias"],
            query,
            1,
            &[heads, self.key_dim],
            use_bias,
        )?);
        weights.extend(project(class, ["key", "key.kernel", "key.bias"], key, 1, &[heads, self.key_dim], use_bias)?);
        if self.common.use_gate {
            weights.extend(project(
                class,
                ["gate", "gate.kernel", "gate.bias"],
                query,
                1,
                &[heads, self.value_dim],
                use_bias,
            )?);
        }
        weights.extend(project(
            class,
            ["value", "value.kernel", "value.bias"],
            value,
            1,
            &[heads, self.value_dim],
            use_bias,
        )?);
        let query_features = query[query.len() - 1];
        let output_shape = self.output_shape.clone().unwrap_or_else(|| vec![query_features]);
        // The output projection reads the heads `(…, heads, value_dim)`.
        let heads_shape: Vec<usize> = query[..query.len() - 1].iter().copied().chain([heads, self.value_dim]).collect();
        let names = ["attention_output", "attention_output.kernel", "attention_output.bias"];
        weights.extend(project(class, names, &heads_shape, 2, &output_shape, use_bias)?);
        let output = query[..query.len() - 1].iter().copied().chain(output_shape).collect();
        Ok(Built { output_shape: output, weights })
    }
}

#[derive(Debug)]
struct GroupQueryAttention {
    head_dim: usize,
    query_heads: usize,
    key_value_heads: usize,
    common: Common,
}

fn parse_group_query(args: &mut Args) -> Option<Box<dyn Layer>> {
    let head_dim = args.required_count("head_dim");
    let query_heads = args.required_count("num_query_heads");
    let key_value_heads = args.required_count("num_key_value_heads");
    let common = parse_common(args)?;
    let (query_heads, key_value_heads) = (query_heads?, key_value_heads?);
    if query_heads.value % key_value_heads.value != 0 {
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "`num_query_heads` ({}) must be divisible by `num_key_value_heads` ({})",
                    query_heads.value, key_value_heads.value
                ),
            )
            .at(key_value_heads.span)
            .with_help("each key/value head serves the same number of query heads"),
        );
        return None;
    }
    Some(Box::new(GroupQueryAttention {
        head_dim: head_dim?.value,
        query_heads: query_heads.value,
        key_value_heads: key_value_heads.value,
        common,
    }))
}

impl Layer for GroupQueryAttention {
    fn arity(&self) -> Arity {
        Arity::AtLeast(2)
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        let class = "grouped_query_attention";
        let [query, value, key] = attention_inputs(class, inputs)?;
        if query.len() != 2 || query[1] != value[value.len() - 1] {
            return Err(Diagnostic::error(
                Code::MergeMismatch,
                format!(
                    "`{class}` needs a query `[sequence, features]` with the value's features, found {} and {}",
                    shape_text(query),
                    shape_text(value)
                ),
            )
            .with_help("give query and value the same last axis"));
        }
        let (head_dim, use_bias, features) = (self.head_dim, self.common.use_bias, query[1]);
        let einsum = |equation: &str, bias: &str, input: &[usize], output: &[Option<usize>], name: &str| {
            analyze_known(equation, use_bias.then_some(bias), input, output)
                .map_err(|reason| sublayer_error(class, name, reason))
        };
        let heads = |count| [None, Some(count), Some(head_dim)];
        let query_heads = heads(self.query_heads);
        let key_value_heads = heads(self.key_value_heads);
        let mut weights = Vec::new();
        let query_analysis = einsum("bqm,muh->bquh", "uh", query, &query_heads, "query")?;
        weights.extend(super::einsum_dense::weights(&query_analysis, "query.kernel", "query.bias"));
        let key_analysis = einsum("bkm,mvh->bkvh", "vh", key, &key_value_heads, "key")?;
        weights.extend(super::einsum_dense::weights(&key_analysis, "key.kernel", "key.bias"));
        if self.common.use_gate {
            weights.extend(super::einsum_dense::weights(&query_analysis, "gate.kernel", "gate.bias"));
        }
        let value_analysis = einsum("bkm,mvh->bkvh", "vh", value, &key_value_heads, "value")?;
        weights.extend(super::einsum_dense::weights(&value_analysis, "value.kernel", "value.bias"));
        // Keras builds the output projection on `(None, None, heads, head_dim)`.
        let output = analyze_known(
            "bquh,uhm->bqm",
            use_bias.then_some("m"),
            &[query[0], self.query_heads, head_dim],
            &[None, Some(features)],
        )
        .map_err(|reason| sublayer_error(class, "attention_output", reason))?;
        weights.extend(super::einsum_dense::weights(&output, "attention_output.kernel", "attention_output.bias"));
        Ok(Built { output_shape: query.to_vec(), weights })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_equations_are_kerases() {
        assert_eq!(projection_equation(2, 1, 2), ("abc,cde->abde".to_string(), "de".to_string(), 4));
        assert_eq!(projection_equation(2, 2, 1), ("abcd,cde->abe".to_string(), "e".to_string(), 3));
        assert_eq!(partial_output(3, &[8, 4]), vec![None, Some(8), Some(4)]);
    }

    #[test]
    fn torch_packs_the_projections_where_nn_multihead_attention_holds_them() {
        let packed = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"];
        let kdim =
            ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"];
        let linear = |gate: bool| {
            let sublayers: &[&str] = if gate {
                &["query", "key", "gate", "value", "attention_output"]
            } else {
                &["query", "key", "value", "attention_output"]
            };
            sublayers.iter().flat_map(|s| [format!("{s}.weight"), format!("{s}.bias")]).collect::<Vec<_>>()
        };
        let strings = |names: &[&str]| names.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        let layer = |num_heads, key_dim, value_dim, output_shape, use_gate| MultiHeadAttention {
            num_heads,
            key_dim,
            value_dim,
            output_shape,
            attention_axes: None,
            common: Common { use_bias: true, use_gate },
        };
        // The layer, its inputs (query, value, key), the torch tensors' names.
        let cases: [(MultiHeadAttention, Vec<Vec<usize>>, Vec<String>); 6] = [
            (layer(2, 4, 4, None, false), vec![vec![5, 8], vec![5, 8]], strings(&packed)),
            (layer(2, 4, 4, None, false), vec![vec![5, 8], vec![6, 3], vec![6, 7]], strings(&kdim)),
            (layer(2, 4, 4, None, false), vec![vec![3, 4, 8], vec![3, 4, 8]], strings(&packed)),
            (layer(2, 3, 4, None, false), vec![vec![5, 8], vec![5, 8]], linear(false)),
            (layer(2, 4, 4, Some(vec![6]), false), vec![vec![5, 8], vec![5, 8]], linear(false)),
            (layer(2, 4, 4, None, true), vec![vec![5, 8], vec![5, 8]], linear(true)),
        ];
        for (layer, inputs, expected) in cases {
            let built = layer.build(&inputs).expect("builds");
            let mapped = crate::layers::torch::torch_tensors("MultiHeadAttention", &built.weights).expect("maps");
            let names: Vec<String> = mapped.iter().map(|tensor| tensor.name.to_string()).collect();
            assert_eq!(names, expected, "{layer:?} {inputs:?}");
        }
    }
}
