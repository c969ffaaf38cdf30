//! A Hugging Face `config.json`: which shipped template builds its model, its keys as vars, and
//! the dtype it asks for. A JSON mapping with a `model_type` string is one.

use super::{FileVar, Node, flatten_root, list};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;

/// A template shipped in the binary (`templates/hf/`).
pub struct Template {
    /// The file name under `templates/hf/`, without `.yaml`.
    pub name: &'static str,
    /// The `model_type` it builds.
    pub model_type: &'static str,
    /// The transformers class whose checkpoint it writes; a config whose `architectures` names it
    /// picks this template over the model type's first.
    pub architecture: &'static str,
    pub text: &'static str,
}

macro_rules! template {
    ($name:literal, $model_type:literal, $architecture:literal) => {
        Template {
            name: $name,
            model_type: $model_type,
            architecture: $architecture,
            text: include_str!(concat!("../../templates/hf/", $name, ".yaml")),
        }
    };
}

/// Every shipped template; the first of a model type is its default.
pub const TEMPLATES: &[Template] = &[
    template!("llama", "llama", "LlamaForCausalLM"),
    template!("mistral", "mistral", "MistralForCausalLM"),
    template!("mixtral", "mixtral", "MixtralForCausalLM"),
    template!("qwen2", "qwen2", "Qwen2ForCausalLM"),
    template!("qwen3", "qwen3", "Qwen3ForCausalLM"),
    template!("qwen3_moe", "qwen3_moe", "Qwen3MoeForCausalLM"),
    template!("gemma", "gemma", "GemmaForCausalLM"),
    template!("gemma2", "gemma2", "Gemma2ForCausalLM"),
    template!("gemma3_text", "gemma3_text", "Gemma3ForCausalLM"),
    template!("phi3", "phi3", "Phi3ForCausalLM"),
    template!("gpt2", "gpt2", "GPT2LMHeadModel"),
    template!("gpt_neox", "gpt_neox", "GPTNeoXForCausalLM"),
    template!("olmo2", "olmo2", "Olmo2ForCausalLM"),
    template!("granite", "granite", "GraniteForCausalLM"),
    template!("starcoder2", "starcoder2", "Starcoder2ForCausalLM"),
    // AutoModel builds BertModel; a config that names BertForMaskedLM gets the pretraining head.
    template!("bert", "bert", "BertModel"),
    template!("bert_for_masked_lm", "bert", "BertForMaskedLM"),
    template!("t5", "t5", "T5ForConditionalGeneration"),
];

/// What a config.json asks for.
pub struct HfConfig {
    pub model_type: String,
    /// Its keys, as `--vars` gives them.
    pub vars: Vec<FileVar>,
    /// `dtype` (or 4.x's `torch_dtype`): `float32`, `bfloat16`, …
    pub dtype: Option<String>,
    pub architectures: Vec<String>,
}

/// The config.json's content, when `root` is one: a mapping with a `model_type` string and no
/// Keras `class_name`.
pub fn read(file: &SourceFile, root: &Node) -> Option<Result<HfConfig, Diagnostic>> {
    if root.get("class_name").is_some() {
        return None;
    }
    let model_type = root.get("model_type")?;
    let Some(name) = model_type.as_str() else {
        return Some(Err(Diagnostic::error(
            Code::WrongType,
            format!("`model_type` must be a string, found {}", model_type.kind_name()),
        )
        .at(model_type.span)
        .with_help(format!("the model types initc has templates for are {}", list(&model_types())))));
    };
    let string = |key: &str| root.get(key).and_then(|node| node.as_str().map(str::to_string));
    let architectures = match root.get("architectures").map(|node| &node.value) {
        Some(super::Value::Seq(items)) => items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    Some(flatten_root(file, root).map(|vars| HfConfig {
        model_type: name.to_string(),
        vars,
        dtype: string("dtype").or_else(|| string("torch_dtype")),
        architectures,
    }))
}

/// The model types with a shipped template, in catalogue order, each once.
pub fn model_types() -> Vec<&'static str> {
    let mut types: Vec<&'static str> = Vec::new();
    for template in TEMPLATES {
        if !types.contains(&template.model_type) {
            types.push(template.model_type);
        }
    }
    types
}

/// The template for a config: the one of its model type whose architecture the config names,
/// else the model type's first; an error at the `model_type` value when it has none.
pub fn template_for(config: &HfConfig, root: &Node) -> Result<&'static Template, Diagnostic> {
    let candidates: Vec<&'static Template> =
        TEMPLATES.iter().filter(|template| template.model_type == config.model_type).collect();
    let named = candidates
        .iter()
        .find(|template| config.architectures.iter().any(|architecture| architecture == template.architecture));
    match named.or(candidates.first()) {
        Some(template) => Ok(template),
        None => {
            let span = root.get("model_type").map_or(root.span, |node| node.span);
            Err(Diagnostic::error(
                Code::InvalidValue,
                format!("no template for `model_type` \"{}\"", config.model_type),
            )
            .at_labelled(span, "initc has no template for this model type")
            .with_help(format!(
                "the model types with a template are {} (`initc templates` lists them); for another, write a \
                     template and give it with `--template FILE`",
                list(&model_types())
            )))
        }
    }
}
