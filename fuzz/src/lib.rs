//! What the fuzz targets run, one function per target. `tests/integration/schema_and_fuzz.rs`
//! includes this file too and replays every committed corpus input through the same functions,
//! so the corpus is checked by an ordinary `cargo test` with no nightly toolchain.

use initc::diagnostic::render_human;
use initc::dsl;
use initc::plan::DType;
use initc::resolve::Overrides;
use initc::source::SourceFile;

/// The YAML front end and the whole pipeline up to the plan, on any bytes (invalid UTF-8 is
/// replaced, as the CLI would refuse it before parsing), then the diagnostics rendered against
/// the file and the summaries of a plan. Nothing may panic.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file = SourceFile::new("fuzz.yaml", text.into_owned());
    let (plan, diagnostics) = initc::compile_plan(&file, &Overrides::default());
    for diagnostic in &diagnostics {
        let _ = render_human(diagnostic, Some(&file));
    }
    if let Some(plan) = plan {
        let _ = initc::emit::summary_text(&plan);
        let _ = initc::emit::summary_json(&plan);
    }
}

/// The expression language: an initializer call, and an arithmetic expression parsed and
/// evaluated with the variables a layer's initializer sees. Nothing may panic.
pub fn expression(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = dsl::parse_call(&text);
    if let Ok(expr) = dsl::parse_expr(&text) {
        let lookup = |name: &str| match name {
            "fan_in" => Some(dsl::Value::Number(64.0)),
            "fan_out" => Some(dsl::Value::Number(10.0)),
            "n" => Some(dsl::Value::Number(3.0)),
            "nothing" => Some(dsl::Value::Null),
            "words" => Some(dsl::Value::Str("gated-gelu".into())),
            "layers" => Some(dsl::Value::List(vec![dsl::Value::Number(0.0)].into())),
            _ => None,
        };
        let _ = dsl::eval(&expr, &lookup);
        let _ = dsl::eval_value(&expr, &lookup);
    }
}

/// The resolver: a config built from the bytes (see [`resolver_config`]): chains, cycles and
/// diamonds of vars and custom initializers, `--set` overrides, wide calls, repeated blocks,
/// dtypes. It runs through `compile_plan` and `lint`, and every diagnostic is rendered. Nothing
/// may panic, and no case may take more than a moment (the driver in `fuzz_targets/` and
/// libFuzzer's `-timeout` check that).
pub fn resolver(data: &[u8]) {
    let (text, overrides) = resolver_config(data);
    let file = SourceFile::new("resolver.yaml", text);
    let (_, diagnostics) = initc::compile_plan(&file, &overrides);
    for diagnostic in diagnostics.iter().take(100) {
        let _ = render_human(diagnostic, Some(&file));
    }
    let _ = initc::lint::lint(&file, &overrides, &initc::lint::LintOptions::default());
}

/// Reads the bytes as a little program; past the end every read is 0.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let byte = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        byte
    }

    fn u16(&mut self) -> usize {
        usize::from(self.u8()) | usize::from(self.u8()) << 8
    }

    fn done(&self) -> bool {
        self.at >= self.data.len()
    }

    /// One of `choices`.
    fn pick<'c>(&mut self, choices: &[&'c str]) -> &'c str {
        choices[usize::from(self.u8()) % choices.len()]
    }
}

/// The most vars or custom initializers one case makes: enough for the chains that overflowed
/// the stack (8,000) and took hours (10,000), few enough for many cases a second.
pub const RESOLVER_MAX_NAMES: usize = 20_000;

const BUILTINS: [&str; 8] = [
    "zeros",
    "glorot_uniform",
    "constant(0.5)",
    "random_normal(0, 0.02)",
    "truncated_normal(stddev=s0)",
    "variance_scaling(2.0, fan_in, uniform)",
    "orthogonal(gain=1e308)",
    "random_uniform(-1e308, 1e308)",
];

/// Builds a config from the bytes: the first byte chooses the dtype, then each op byte adds
/// vars, custom initializers, layers or overrides. Every name is `v<k>` (vars) or `i<k>`
/// (initializers), with `k` from the bytes, so references hit and miss, form chains, cycles
/// and diamonds. Deterministic: the same bytes give the same config.
pub fn resolver_config(data: &[u8]) -> (String, Overrides) {
    let mut bytes = Bytes { data, at: 0 };
    let dtype = [DType::F32, DType::F16, DType::BF16, DType::F64][usize::from(bytes.u8()) % 4];
    let mut vars: Vec<String> = Vec::new();
    let mut initializers: Vec<String> = Vec::new();
    let mut layers: Vec<String> = Vec::new();
    let mut sets: Vec<(String, String)> = Vec::new();
    let mut steps = 0;
    while !bytes.done() && steps < 64 {
        steps += 1;
        match bytes.u8() % 10 {
            // A chain of vars, each using the next (or the previous), ending in a number.
            0 => {
                let length = bytes.u16() % RESOLVER_MAX_NAMES.saturating_sub(vars.len()).max(1);
                let forward = bytes.u8().is_multiple_of(2);
                let first = vars.len();
                for k in 0..length {
                    let index = first + k;
                    let last = if forward { k + 1 == length } else { k == 0 };
                    vars.push(match (last, forward) {
                        (true, _) => "3".to_string(),
                        (false, true) => format!("v{}", index + 1),
                        (false, false) => format!("v{} + 0", index - 1),
                    });
                }
            }
            // Closes a cycle (or points anywhere, even at nothing): var `a` uses var `b`.
            1 if !vars.is_empty() => {
                let from = bytes.u16() % vars.len();
                vars[from] = format!("v{} * 1", bytes.u16() % (vars.len() + 2));
            }
            // Diamonds: new vars each using up to three others, anywhere.
            2 => {
                for _ in 0..bytes.u8() % 32 {
                    let reach = vars.len() + 8;
                    let terms: Vec<String> =
                        (0..1 + bytes.u8() % 3).map(|_| format!("v{}", bytes.u16() % reach)).collect();
                    vars.push(format!("max({})", terms.join(", ")));
                }
            }
            // A chain of custom initializers ending in a built-in.
            3 => {
                let length = bytes.u16() % RESOLVER_MAX_NAMES.saturating_sub(initializers.len()).max(1);
                let forward = bytes.u8().is_multiple_of(2);
                let builtin = bytes.pick(&BUILTINS);
                let first = initializers.len();
                for k in 0..length {
                    let index = first + k;
                    let last = if forward { k + 1 == length } else { k == 0 };
                    initializers.push(match (last, forward) {
                        (true, _) => format!("\"{builtin}\""),
                        (false, true) => format!("i{}", index + 1),
                        (false, false) => format!("i{}", index - 1),
                    });
                }
            }
            // Closes a cycle of initializers, or names a missing one.
            4 if !initializers.is_empty() => {
                let from = bytes.u16() % initializers.len();
                initializers[from] = format!("i{}", bytes.u16() % (initializers.len() + 2));
            }
            // A wide call: up to 200,000 arguments, positional then keywords.
            5 => {
                let family = bytes.pick(&["random_normal", "constant", "orthogonal", "max", "i0"]);
                let count = bytes.u16() * (1 + usize::from(bytes.u8() % 4));
                let keyword = bytes.pick(&["", "mean=", "stddev=", "seed=", "value="]);
                let mut call = format!("{family}(");
                for k in 0..count {
                    if k > 0 {
                        call.push_str(", ");
                    }
                    if k + 1 == count {
                        call.push_str(keyword);
                    }
                    call.push('1');
                }
                call.push(')');
                layers.push(format!("  - dense: {{units: 2, kernel_initializer: \"{call}\"}}"));
            }
            // A layer whose size and initializers use the names.
            6 => {
                let units = match vars.len() {
                    0 => "2".to_string(),
                    count => format!("v{}", bytes.u16() % (count + 1)),
                };
                let kernel = match bytes.u8() % 3 {
                    0 => format!("i{}", bytes.u16() % (initializers.len() + 1)),
                    1 => bytes.pick(&BUILTINS).to_string(),
                    _ => "glorot_uniform".to_string(),
                };
                let bias = match initializers.len() {
                    0 => "zeros".to_string(),
                    count => format!("i{}", bytes.u16() % count),
                };
                layers.push(format!(
                    "  - dense: {{units: \"{units}\", kernel_initializer: \"{kernel}\", bias_initializer: {bias}}}"
                ));
            }
            // A repeated block using the names and `i`, its size maybe a wide expression.
            7 => {
                let count = 1 + bytes.u16() % 2_000;
                let var = format!("v{}", bytes.u16() % (vars.len() + 1));
                let initializer = match initializers.len() {
                    0 => "glorot_uniform".to_string(),
                    count => format!("i{}", bytes.u16() % (count + 1)),
                };
                let wide = ", 1".repeat(usize::from(bytes.u8()) * 256);
                layers.push(format!(
                    "  - block: {{name: \"b{{i}}\", repeat: {count}, layers: [{{dense: {{units: \"max(1, {var} - i{wide})\", kernel_initializer: {initializer}}}}}]}}"
                ));
            }
            // A `--set` override, maybe of nothing, maybe making a cycle.
            8 => {
                let name = format!("v{}", bytes.u16() % (vars.len() + 1));
                let value = bytes.pick(&["1", "v0", "v1 + v2", "-1", "1e308 * 10", "fan_in"]);
                sets.push((name, value.to_string()));
            }
            // A param with a name safetensors reserves, or an ordinary one, and wild values.
            _ => {
                let name = bytes.pick(&["__metadata__", "w", "b.__metadata__"]);
                let initializer = bytes.pick(&BUILTINS);
                let size = bytes.pick(&["2", "9007199254740993", "v0"]);
                layers.push(format!("  - param: {{name: {name}, shape: [{size}], initializer: \"{initializer}\"}}"));
            }
        }
    }
    let mut text = String::from("input: [4]\n");
    if !vars.is_empty() {
        text.push_str("vars:\n  s0: 0.02\n");
        for (k, value) in vars.iter().enumerate() {
            text.push_str(&format!("  v{k}: {value}\n"));
        }
    }
    if !initializers.is_empty() {
        text.push_str("initializers:\n");
        for (k, value) in initializers.iter().enumerate() {
            text.push_str(&format!("  i{k}: {value}\n"));
        }
    }
    text.push_str("layers:\n");
    if layers.is_empty() {
        layers.push("  - dense: {units: 2}".to_string());
    }
    for layer in &layers {
        text.push_str(layer);
        text.push('\n');
    }
    (text, Overrides { sets, dtype, ..Overrides::default() })
}
