//! `einsum_dense`: a dense layer whose kernel, bias and output an einsum equation describes (Keras
//! 3 `EinsumDense`, `keras/src/layers/core/einsum_dense.py`). The equation is read as Keras's
//! `_analyze_einsum_string` reads it; the kernel's fans come from its input and output axes, as
//! Keras passes them to variance-scaling initializers.

use super::torch::{TorchTensor, Transform, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight, activation_argument};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "einsum_dense",
    class_name: "EinsumDense",
    arguments: &[
        "equation",
        "output_shape",
        "activation",
        "bias_axes",
        "kernel_initializer",
        "bias_initializer",
        "gptq_unpacked_column_size",
        "lora_rank",
    ],
    parse,
    torch,
};

/// `nn.Linear` when the equation is a plain matrix product over the last axis (the build marks
/// other equations with the reason): the kernel transposed to `(out, in)`.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "kernel", Some(Transform::Transpose)), weight("bias", "bias", None)])
}

/// Where an equation's `...` stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elision {
    None,
    /// `...ab,bc->...ac`: leading axes, the batch axis among them.
    Left,
    /// `ab...,bc->ac...`: trailing axes.
    Right,
}

/// An equation split as Keras's three regular expressions split it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equation {
    input: String,
    kernel: String,
    output: String,
    elision: Elision,
}

/// How many ASCII letters `text` starts with.
fn leading_letters(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_alphabetic).count()
}

impl Equation {
    /// `[X],[Y]->[Z]`, `...[X],[Y]->...[Z]` or `[X]...,[Y]->[Z]...`, matched from the start as
    /// Python's `re.match` does (text after the match is ignored, as Keras ignores it).
    pub fn parse(text: &str) -> Option<Equation> {
        let text = text.replace("...", "0");
        // Reads `letters` (at least `min`), then `rest` literally; returns the letters and the remainder.
        let take = |from: &str, min: usize, rest: &str| -> Option<(String, String)> {
            let count = leading_letters(from);
            (count >= min && from[count..].starts_with(rest))
                .then(|| (from[..count].to_string(), from[count + rest.len()..].to_string()))
        };
        let build =
            |input: String, kernel: String, output: String, elision| Some(Equation { input, kernel, output, elision });
        let plain = || {
            let (input, rest) = take(&text, 1, ",")?;
            let (kernel, rest) = take(&rest, 1, "->")?;
            let (output, _) = take(&rest, 1, "")?;
            build(input, kernel, output, Elision::None)
        };
        let left = || {
            let (input, rest) = take(text.strip_prefix('0')?, 1, ",")?;
            let (kernel, rest) = take(&rest, 1, "->0")?;
            let (output, _) = take(&rest, 1, "")?;
            build(input, kernel, output, Elision::Left)
        };
        let right = || {
            let (input, rest) = take(&text, 2, "0,")?;
            let (kernel, rest) = take(&rest, 1, "->")?;
            let (output, _) = take(&rest, 1, "0")?;
            build(input, kernel, output, Elision::Right)
        };
        plain().or_else(left).or_else(right)
    }

    /// Whether the layer computes `x @ kernel` over the last axis, as `nn.Linear` does.
    fn is_plain_matmul(&self, bias_axes: Option<&str>) -> bool {
        let (input, kernel, output) = (self.input.as_bytes(), self.kernel.as_bytes(), self.output.as_bytes());
        let (Some((&contracted, input_rest)), Some((&produced, output_rest))) =
            (input.split_last(), output.split_last())
        else {
            return false;
        };
        self.elision != Elision::Right
            && kernel == [contracted, produced]
            && input_rest == output_rest
            && !output.contains(&contracted)
            && !input.contains(&produced)
            && bias_axes.is_none_or(|axes| axes.as_bytes() == [produced])
    }
}

/// What an equation gives for one input shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub kernel: Vec<usize>,
    pub bias: Option<Vec<usize>>,
    /// Without the batch axis; sizes the user left unknown are the input's, when it knows them.
    pub output: Vec<Option<usize>>,
    /// Products of the kernel's input and of its output axes.
    pub fans: (usize, usize),
}

/// Keras's `_analyze_split_string`: the kernel and bias shapes and the output shape of
/// `equation` for `input` (the batch axis first, `None`) and the given output sizes (without the
/// batch axis). Shapes Keras could not build (an unknown size in a weight) are errors.
pub fn analyze(
    equation: &Equation,
    bias_axes: Option<&str>,
    input: &[Option<usize>],
    partial_output: &[Option<usize>],
) -> Result<Analysis, String> {
    let Equation { input: input_spec, kernel: kernel_spec, output: output_spec, elision } = equation;
    let elided = input.len() as i64 - input_spec.len() as i64;
    let left = *elision == Elision::Left;
    let rank_text = format!("{} (with the batch axis)", input.len());
    if elided < 0 || (*elision == Elision::None && elided != 0) {
        return Err(format!(
            "its input spec `{input_spec}` names {} axes, the input has {rank_text}",
            input_spec.len()
        ));
    }
    let elided = elided as usize;
    let expected_sizes = if left { output_spec.len() } else { output_spec.len().saturating_sub(1) };
    if partial_output.len() != expected_sizes {
        return Err(format!(
            "`output_shape` has {} sizes, the equation's output `{output_spec}` needs {expected_sizes} (without the batch axis{})",
            partial_output.len(),
            if left { " and the axes of `...`" } else { "" }
        ));
    }
    let mut output: Vec<Option<usize>> = std::iter::once(input[0]).chain(partial_output.iter().copied()).collect();
    if left {
        // Inserted one by one at position 1, as Keras does.
        for &size in &input[1..elided] {
            output.insert(1, size);
        }
    } else if elided > 0 {
        output.extend_from_slice(&input[input.len() - elided..]);
    }
    let offset = if left { elided } else { 0 };
    // Python dicts keep the last position of a repeated letter.
    let input_at = |letter: char| input_spec.rfind(letter).map(|i| i + offset);
    let output_at = |letter: char| output_spec.rfind(letter).map(|i| i + offset);
    for letter in input_spec.chars() {
        if let (Some(at_input), Some(at_output)) = (input_at(letter), output_at(letter))
            && let Some(size) = output[at_output]
            && Some(size) != input[at_input]
        {
            let found = input[at_input].map_or("unknown (the batch axis)".to_string(), |s| s.to_string());
            return Err(format!("axis `{letter}` is {size} in `output_shape` but {found} in the input"));
        }
    }
    if let Some(letter) = output_spec.chars().find(|&l| !input_spec.contains(l) && !kernel_spec.contains(l)) {
        return Err(format!("output axis `{letter}` is in neither the input spec nor the kernel spec"));
    }
    let unknown = |letter: char, what: &str| {
        format!("{what} axis `{letter}` has no known size: give it in `output_shape` (the batch axis cannot be one)")
    };
    let (mut kernel, mut input_axes, mut output_axes) = (Vec::new(), Vec::new(), Vec::new());
    for (index, letter) in kernel_spec.chars().enumerate() {
        let size = if let Some(at) = output_at(letter) {
            output_axes.push(index);
            output[at]
        } else if let Some(at) = input_at(letter) {
            input_axes.push(index);
            input[at]
        } else {
            return Err(format!("kernel axis `{letter}` is in neither the input spec nor the output spec"));
        };
        kernel.push(size.ok_or_else(|| unknown(letter, "kernel"))?);
    }
    let bias = match bias_axes {
        None => None,
        Some(axes) => {
            if let Some(letter) = axes.chars().find(|&l| !output_spec.contains(l)) {
                return Err(format!("bias axis `{letter}` is not in the output spec `{output_spec}`"));
            }
            let Some(first) = axes.chars().filter_map(|l| output_spec.find(l)).min() else {
                return Err("`bias_axes` is empty".to_string());
            };
            let mut shape = Vec::new();
            for letter in output_spec[first..].chars() {
                if axes.contains(letter) {
                    let at = output_spec.rfind(letter).unwrap_or(first) + offset;
                    shape.push(output[at].ok_or_else(|| unknown(letter, "bias"))?);
                } else {
                    shape.push(1);
                }
            }
            if !left {
                shape.extend(std::iter::repeat_n(1, elided));
            }
            Some(shape)
        }
    };
    // Sizes left unknown are the input's, which Keras learns when the layer runs.
    let resolved = output
        .iter()
        .enumerate()
        .skip(1)
        .map(|(position, size)| {
            let letter = position.checked_sub(offset).and_then(|i| output_spec.chars().nth(i));
            size.or_else(|| letter.and_then(input_at).and_then(|at| input[at]))
        })
        .collect();
    let product = |axes: &[usize]| axes.iter().map(|&axis| kernel[axis]).product();
    let fans = (product(&input_axes), product(&output_axes));
    Ok(Analysis { kernel, bias, output: resolved, fans })
}

/// The analysis of a Keras equation that initc built itself (MultiHeadAttention's projections).
pub fn analyze_known(
    equation: &str,
    bias_axes: Option<&str>,
    input: &[usize],
    partial_output: &[Option<usize>],
) -> Result<Analysis, String> {
    let equation = Equation::parse(equation).ok_or_else(|| format!("`{equation}` is not an einsum equation"))?;
    let input: Vec<Option<usize>> = std::iter::once(None).chain(input.iter().copied().map(Some)).collect();
    analyze(&equation, bias_axes, &input, partial_output)
}

/// A kernel and its bias as EinsumDense initialises them, named `kernel_name` and `bias_name`.
pub fn weights(analysis: &Analysis, kernel_name: &'static str, bias_name: &'static str) -> Vec<Weight> {
    let (fan_in, fan_out) = analysis.fans;
    let mut weights = vec![
        Weight::new(kernel_name, analysis.kernel.clone(), "kernel_initializer", Family::GlorotUniform)
            .with_fans(fan_in, fan_out),
    ];
    if let Some(bias) = &analysis.bias {
        weights.push(Weight::new(bias_name, bias.clone(), "bias_initializer", Family::Zeros));
    }
    weights
}

#[derive(Debug)]
struct EinsumDense {
    equation: Spanned<Equation>,
    output_shape: Spanned<Vec<Option<usize>>>,
    bias_axes: Option<Spanned<String>>,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let equation = args.string("equation");
    if equation.is_none() && !args.diagnostics.iter().any(Diagnostic::is_error) {
        args.require("equation", "\"abc,cd->abd\"");
    }
    let output_shape = args.sizes_or_nulls("output_shape", true);
    let bias_axes = args.string("bias_axes");
    activation_argument(args, false);
    // The unpacked column count of a GPTQ-quantized kernel does not change the float weights.
    args.take("gptq_unpacked_column_size");
    if let Some(node) = args.take("lora_rank") {
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`lora_rank` adds LoRA weights, which initc does not make")
                .at(node.span)
                .with_help("remove `lora_rank` (or set it to null); enable LoRA after loading the weights"),
        );
        return None;
    }
    let equation = equation?;
    let Some(parsed) = Equation::parse(&equation.value) else {
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not an equation EinsumDense accepts", equation.value),
            )
            .at(equation.span)
            .with_help("write `[X],[Y]->[Z]`, `...[X],[Y]->...[Z]` or `[X]...,[Y]->[Z]...`, e.g. `abc,cd->abd`"),
        );
        return None;
    };
    let equation = Spanned { value: parsed, span: equation.span };
    Some(Box::new(EinsumDense { equation, output_shape: output_shape?, bias_axes }))
}

impl UnaryLayer for EinsumDense {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let full: Vec<Option<usize>> = std::iter::once(None).chain(input.iter().copied().map(Some)).collect();
        let bias_axes = self.bias_axes.as_ref().map(|axes| axes.value.as_str());
        let analysis = analyze(&self.equation.value, bias_axes, &full, &self.output_shape.value).map_err(|reason| {
            Diagnostic::error(Code::InvalidValue, format!("`einsum_dense` cannot apply its equation: {reason}"))
                .at(self.equation.span)
                .with_help("Keras's EinsumDense documentation describes equations, `output_shape` and `bias_axes`")
        })?;
        let output_shape: Option<Vec<usize>> = analysis.output.iter().copied().collect();
        let Some(output_shape) = output_shape else {
            return Err(Diagnostic::error(Code::InvalidValue, "`einsum_dense` leaves an output size unknown")
                .at(self.output_shape.span)
                .with_help("give every output size that is not an input axis in `output_shape`"));
        };
        let mut weights = weights(&analysis, "kernel", "bias");
        if !self.equation.value.is_plain_matmul(bias_axes) {
            for weight in &mut weights {
                weight.torch_refusal =
                    Some("its equation is not a plain matrix product over the last axis, the one `nn.Linear` computes");
            }
        }
        Ok(Built { output_shape, weights })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(
        equation: &str,
        bias: Option<&str>,
        input: &[usize],
        output: &[Option<usize>],
    ) -> Result<Analysis, String> {
        analyze_known(equation, bias, input, output)
    }

    #[test]
    fn equations_split_as_keras_regular_expressions_split_them() {
        let split = |text| Equation::parse(text).map(|e| (e.input, e.kernel, e.output, e.elision));
        let owned = |a: &str, b: &str, c: &str, e| Some((a.to_string(), b.to_string(), c.to_string(), e));
        assert_eq!(split("abc,cd->abd"), owned("abc", "cd", "abd", Elision::None));
        assert_eq!(split("...b,bc->...c"), owned("b", "bc", "c", Elision::Left));
        assert_eq!(split("ab...,bc->ac..."), owned("ab", "bc", "ac", Elision::Right));
        assert_eq!(split("a...,bc->ac..."), None);
        assert_eq!(split("ab->b"), None);
    }

    #[test]
    fn shapes_follow_keras_analysis() {
        let dense = shapes("abc,cd->abd", Some("d"), &[16, 32], &[Some(16), Some(64)]).expect("dense");
        assert_eq!(
            (dense.kernel, dense.bias, dense.output, dense.fans),
            (vec![32, 64], Some(vec![64]), vec![Some(16), Some(64)], (32, 64))
        );
        let heads = shapes("abc,cde->abde", Some("de"), &[16, 64], &[None, Some(8), Some(4)]).expect("heads");
        assert_eq!(
            (heads.kernel, heads.bias, heads.output, heads.fans),
            (vec![64, 8, 4], Some(vec![8, 4]), vec![Some(16), Some(8), Some(4)], (64, 32))
        );
        let left = shapes("...b,bc->...c", Some("c"), &[3, 5, 7], &[Some(2)]).expect("left");
        // Keras inserts the elided axes one by one at position 1, reversing them (recorded in
        // tests/keras/layers/einsum_dense_forms: `deep_left` prints (None, 5, 3, 2)).
        assert_eq!((left.kernel, left.output), (vec![7, 2], vec![Some(5), Some(3), Some(2)]));
        let right = shapes("ab...,bc->ac...", Some("c"), &[7, 5], &[Some(2)]).expect("right");
        assert_eq!((right.kernel, right.bias, right.output), (vec![7, 2], Some(vec![2, 1]), vec![Some(2), Some(5)]));
        assert!(shapes("abc,cd->abd", None, &[16, 32], &[Some(15), Some(64)]).is_err());
        assert!(shapes("abc,cd->abd", None, &[16, 32], &[Some(16), None]).is_err());
        assert_eq!(
            shapes("abc,cd->abd", None, &[16, 32], &[None, Some(4)]).map(|a| a.output),
            Ok(vec![Some(16), Some(4)])
        );
        assert!(shapes("abc,cd->abd", Some("x"), &[16, 32], &[Some(16), Some(4)]).is_err());
        assert!(shapes("ab,bc->ac", None, &[16, 32], &[Some(4)]).is_err());
    }

    #[test]
    fn only_a_last_axis_product_is_a_linear_layer() {
        let plain = |text: &str, bias| Equation::parse(text).expect("equation").is_plain_matmul(bias);
        assert!(plain("abc,cd->abd", Some("d")));
        assert!(plain("...b,bc->...c", None));
        assert!(!plain("abc,cd->abd", Some("b")));
        assert!(!plain("abc,bd->acd", None));
        assert!(!plain("abc,cde->abde", None));
        assert!(!plain("ab...,bc->ac...", None));
    }
}
