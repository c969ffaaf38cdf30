//! Stable diagnostic codes: `E01xx` input, `E02xx` config structure, `E03xx` expressions,
//! `E04xx` initializers, `E05xx` shapes, `E06xx` output and command line, `x07xx` lint rules over
//! the plan. The letter is the code's severity: `E` error, `W` warning, `N` note. The digits
//! alone are unique, so `W0701` and `E0701` never both exist. `specs/diagnostics.md` lists the
//! codes, `specs/lint.md` the lint rules, and `explain.md` beside this file explains each one.

macro_rules! codes {
    ($($variant:ident = $code:literal, $title:literal;)*) => {
        /// A diagnostic's stable code. Codes are never reused for another meaning.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $($variant),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as printed, e.g. `E0401`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }

            /// A one-line description of what the code means.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }

            /// The severity the code is reported with, given by its letter.
            pub fn severity(self) -> super::Severity {
                match self.as_str().as_bytes().first() {
                    Some(b'W') => super::Severity::Warning,
                    Some(b'N') => super::Severity::Note,
                    _ => super::Severity::Error,
                }
            }

            pub fn parse(text: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|code| code.as_str().eq_ignore_ascii_case(text))
            }
        }
    };
}

codes! {
    Io = "E0101", "a file could not be read or written";
    Encoding = "E0102", "the config file is not UTF-8 text";
    YamlSyntax = "E0103", "the config file is not valid YAML";
    YamlLimit = "E0104", "the YAML nests too deeply or expands too many aliases";
    UnknownKey = "E0201", "a key that the config language does not have";
    WrongType = "E0202", "a value of the wrong type (a string where a number goes, ...)";
    MissingKey = "E0203", "a required key is missing";
    UnknownLayer = "E0204", "a layer type initc does not know";
    UnknownArgument = "E0205", "a layer argument the layer type does not take";
    BadLayerForm = "E0206", "a layer entry that is neither a type name nor a one-key map";
    Placeholder = "E0210", "`{i}` in a name outside a repeated block, or an unknown `{…}` placeholder";
    UnknownShare = "E0211", "`share:` names no earlier layer or param";
    NoTorchLayout = "E0212", "`--layout torch` or `flax` on a layer type that framework has no equivalent of";
    UnknownInput = "E0213", "`inputs:`, `outputs:` or a Keras `inbound_nodes` entry names nothing the model has";
    GraphCycle = "E0214", "entries that consume each other in a cycle";
    UnusedInput = "W0215", "a model input that no entry consumes";
    DanglingNode = "W0216", "a layer whose output nothing consumes and the model does not return";
    DuplicateName = "E0207", "two layers, tensors or initializers with the same name";
    InvalidValue = "E0208", "a value outside what the argument accepts (a zero size, an unknown padding, ...)";
    NoSuchWeight = "E0209", "an initializer given to a layer that has no such weight";
    ExprSyntax = "E0301", "an expression or initializer call that does not parse";
    UnknownName = "E0302", "an expression names a variable or function that does not exist";
    NonFinite = "E0303", "an expression evaluates to NaN or infinity";
    WrongArity = "E0304", "a function in an expression called with the wrong number of arguments";
    VarCycle = "E0305", "vars that refer to each other in a cycle";
    UnknownInitializer = "E0401", "an initializer name that is neither built in nor defined under `initializers:`";
    InitializerCycle = "E0402", "custom initializers that refer to each other in a cycle";
    BadInitArgument = "E0403", "an initializer argument that does not exist, is repeated, or is given too often";
    InvalidInitArgument = "E0404", "an initializer argument value that makes no sense (stddev <= 0, minval >= maxval, ...)";
    WrongRank = "E0405", "an initializer applied to a tensor of a rank it does not support";
    FromFile = "E0406", "`from_file`: the file, tensor, shape or dtype does not fit the tensor being initialised";
    NoInputShape = "E0501", "no input shape: neither `input:` nor `--input` gives one";
    InputMismatch = "E0502", "a layer's stated input size differs from the inferred one";
    WrongInputRank = "E0503", "a layer receives an input of a rank it cannot take";
    EmptyOutput = "E0504", "a layer reduces a dimension to zero (kernel or pool larger than its input)";
    SizeOverflow = "E0505", "a shape or byte size too large to represent";
    ResidualMismatch = "E0506", "a residual block whose output shape differs from its input shape";
    ShareMismatch = "E0507", "a layer shares weights with one whose weights have other names or shapes";
    WrongInputCount = "E0508", "a layer given more or fewer inputs than it takes";
    MergeMismatch = "E0509", "inputs of a merge layer whose shapes cannot be combined";
    OpenSizeWeight = "E0510", "a weight whose shape depends on an input size left open (`null`)";
    BadCliValue = "E0601", "a command-line value that does not parse";
    OutputTooLarge = "E0602", "the output would be larger than `--max-size` or the free space, or its header than safetensors readers accept";
    NotEnoughMemory = "E0603", "generating a tensor would need more memory than is available";
    UnusedInitializer = "W0701", "a custom initializer that no weight uses";
    UnusedVar = "W0702", "a var that nothing uses";
    ConstantKernel = "W0703", "a kernel or embedding initialised to a constant: its units never differ";
    ActivationMismatch = "N0704", "an initializer tuned for another activation (he_* with tanh, glorot with relu)";
    TruncationNeverBinds = "W0705", "a truncated normal narrower than f32 resolution: truncation never changes a value";
    SharedSeed = "W0706", "one explicit `seed` shared by several random tensors: their values repeat";
    TorchOrthogonal = "N0707", "`orthogonal` under `rng: torch`: torch's values within a float tolerance, not its bytes";
}
