//! `group_normalization`: normalises groups of channels per example (Keras 3
//! `GroupNormalization` in `keras/src/layers/normalization/group_normalization.py`). `groups`
//! must divide the size of `axis` (`-1`: one group per channel, instance normalisation).
//! Weights `gamma` (with `scale`) and `beta` (with `center`), both `(input[axis],)`; output =
//! input.

use super::layer_normalization::{INERT_NORMALIZATION_ARGUMENTS, feature_axis};
use super::torch::{TorchSource, TorchTensor, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "group_normalization",
    class_name: "GroupNormalization",
    arguments: &[
        "groups",
        "axis",
        "epsilon",
        "center",
        "scale",
        "beta_initializer",
        "gamma_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
    ],
    parse,
    torch,
};

/// `nn.GroupNorm(groups, channels)` on a channels-first input: `weight` and `bias`. Without
/// `center` its bias is zeros, which is what Keras computes; without `scale` torch's weight
/// would have to be ones, which initc cannot write.
fn torch(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    let has = |name: &str| weights.iter().any(|w| w.name == name);
    match (has("gamma"), has("beta")) {
        (true, true) => Ok(vec![weight("weight", "gamma", None), weight("bias", "beta", None)]),
        (true, false) => Ok(vec![
            weight("weight", "gamma", None),
            TorchTensor { name: "bias", source: TorchSource::ZerosLike("gamma".into()) },
        ]),
        _ => Err("with `scale: false` it has a `beta` but no `gamma`, while `nn.GroupNorm(affine=True)` needs \
                  both `weight` and `bias` (use `scale: true`, or `center: false` too for `affine=False`)"
            .to_string()),
    }
}

#[derive(Debug)]
struct GroupNormalization {
    groups: Spanned<i64>,
    axis: Spanned<i64>,
    center: bool,
    scale: bool,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let groups = args.integer_or("groups", 32);
    let axis = args.integer_or("axis", -1);
    let epsilon = args.number_in_or("epsilon", 0.0, f64::INFINITY, 1e-3);
    let center = args.bool_or("center", true);
    let scale = args.bool_or("scale", true);
    args.accept_inert(&INERT_NORMALIZATION_ARGUMENTS);
    epsilon?;
    let groups = groups?;
    if groups.value < 1 && groups.value != -1 {
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, format!("`groups` must be positive or -1, found {}", groups.value))
                .at(groups.span)
                .with_help("give the number of channel groups, or -1 for one group per channel"),
        );
        return None;
    }
    Some(Box::new(GroupNormalization { groups, axis: axis?, center, scale }))
}

impl UnaryLayer for GroupNormalization {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let channels = input[feature_axis(&self.axis, input)?];
        let groups = if self.groups.value == -1 { channels } else { self.groups.value as usize };
        if groups > channels || !channels.is_multiple_of(groups) {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!("{groups} groups do not divide the {channels} channels of `axis: {}`", self.axis.value),
            )
            .at(self.groups.span)
            .with_help(format!("give a divisor of {channels} as `groups`, or -1 for one group per channel")));
        }
        let mut weights = Vec::with_capacity(2);
        if self.scale {
            weights.push(Weight::new("gamma", vec![channels], "gamma_initializer", Family::Ones));
        }
        if self.center {
            weights.push(Weight::new("beta", vec![channels], "beta_initializer", Family::Zeros));
        }
        Ok(Built { output_shape: input.to_vec(), weights })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing;
    use crate::layers::torch::{TorchSource, torch_tensors};

    #[test]
    fn torch_group_norm_gets_zero_bias_without_center_and_refuses_no_scale() {
        let names = |arguments: &str| {
            let built = testing::build("group_normalization", arguments, &[6, 8]).expect("builds");
            torch_tensors("GroupNormalization", &built.weights)
                .map(|tensors| tensors.iter().map(|t| (t.name, t.source.clone())).collect::<Vec<_>>())
        };
        let weight = |logical: &'static str| TorchSource::Weight { logical: logical.into(), transform: None };
        assert_eq!(names("{groups: 2}"), Ok(vec![("weight", weight("gamma")), ("bias", weight("beta"))]));
        assert_eq!(
            names("{groups: 2, center: false}"),
            Ok(vec![("weight", weight("gamma")), ("bias", TorchSource::ZerosLike("gamma".into()))])
        );
        assert_eq!(names("{groups: 2, center: false, scale: false}"), Ok(Vec::new()));
        assert!(names("{groups: 2, scale: false}").is_err_and(|reason| reason.contains("`scale: false`")));
    }
}
