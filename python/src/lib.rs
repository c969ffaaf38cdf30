//! `initc._native`, the extension module the Python package `initc` wraps: a config compiled to
//! its plan, tensors generated straight into NumPy arrays (the GIL released meanwhile), and the
//! command line's `save`, `summary`, `lint`, `verify` and `main`, all through `initc::cli::api`.

use initc::cli::api::{self, ConfigInput, Failure, FailureKind, Prepared, Request};
use initc::cli::{LayoutArg, OverrideArgs, RngArg};
use initc::diagnostic::{Code, Diagnostic, FileReport};
use initc::plan::DType;
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use std::ffi::OsString;
use std::path::PathBuf;

pyo3::create_exception!(
    _native,
    NativeError,
    PyValueError,
    "A request that failed: args are (rendered diagnostics, their JSON, exit code)."
);

/// A config compiled up to its plan: the tensors' names, shapes and dtypes, ready to generate.
#[pyclass(frozen, module = "initc._native")]
struct Compiled {
    prepared: Prepared,
    /// Under `rng: torch`, every tensor drawn at once in torch's order (on the first `fill`).
    torch: std::sync::OnceLock<Option<initc::init::TorchTensors>>,
}

fn raise(failure: Failure) -> PyErr {
    let code = match failure.kind {
        FailureKind::Input => 1,
        FailureKind::Usage => 2,
    };
    NativeError::new_err((failure.rendered(), failure.json(), code))
}

fn usage(diagnostic: Diagnostic) -> PyErr {
    raise(Failure { diagnostics: vec![diagnostic], file: None, kind: FailureKind::Usage })
}

/// The overrides the keyword arguments give, checked as the command line checks its options.
#[allow(clippy::too_many_arguments)]
fn overrides(
    seed: Option<u64>,
    set: Vec<String>,
    input: Option<String>,
    dtype: Option<String>,
    layout: Option<String>,
    vars: Option<PathBuf>,
    template: Option<PathBuf>,
) -> PyResult<OverrideArgs> {
    let dtype = match dtype {
        None => None,
        Some(name) => Some(DType::parse(&name).ok_or_else(|| {
            usage(
                Diagnostic::error(Code::BadCliValue, format!("dtype `{name}` is not one of f32, f16, bf16, f64"))
                    .with_help("give `dtype=\"bf16\"` (or `float32`, `float16`, `bfloat16`, `float64`)"),
            )
        })?),
    };
    let layout = match layout.as_deref() {
        None | Some("keras") => LayoutArg::Keras,
        Some("torch") => LayoutArg::Torch,
        Some("flax") => LayoutArg::Flax,
        Some(other) => {
            return Err(usage(
                Diagnostic::error(Code::BadCliValue, format!("layout `{other}` is not one of keras, torch, flax"))
                    .with_help("give `layout=\"torch\"` for PyTorch's names and layouts"),
            ));
        }
    };
    Ok(OverrideArgs { seed, input, set, layout, dtype, vars, template, rng: None })
}

/// The generator `rng=` names.
fn rng_arg(rng: Option<String>) -> PyResult<Option<RngArg>> {
    match rng.as_deref() {
        None => Ok(None),
        Some("philox") => Ok(Some(RngArg::Philox)),
        Some("torch") => Ok(Some(RngArg::Torch)),
        Some(other) => Err(usage(
            Diagnostic::error(Code::BadCliValue, format!("rng `{other}` is not one of philox, torch"))
                .with_help("give `rng=\"torch\"` for torch.manual_seed's values, with `layout=\"torch\"`"),
        )),
    }
}

fn request(path: Option<PathBuf>, text: Option<String>, name: String, overrides: OverrideArgs) -> Request {
    let config = match (path, text) {
        (Some(path), _) => ConfigInput::Path(path),
        (None, text) => ConfigInput::Text { name, text: text.unwrap_or_default() },
    };
    Request { config, overrides }
}

/// Compiles a config (a file at `path`, or `text`) to its plan; nothing is generated yet.
#[pyfunction]
#[pyo3(signature = (*, path=None, text=None, name=String::from("<string>"), seed=None, set=Vec::new(), input=None, dtype=None, layout=None, vars=None, template=None, rng=None))]
#[allow(clippy::too_many_arguments)]
fn prepare(
    py: Python<'_>,
    path: Option<PathBuf>,
    text: Option<String>,
    name: String,
    seed: Option<u64>,
    set: Vec<String>,
    input: Option<String>,
    dtype: Option<String>,
    layout: Option<String>,
    vars: Option<PathBuf>,
    template: Option<PathBuf>,
    rng: Option<String>,
) -> PyResult<Compiled> {
    let mut overrides = overrides(seed, set, input, dtype, layout, vars, template)?;
    overrides.rng = rng_arg(rng)?;
    let request = request(path, text, name, overrides);
    let prepared = py.detach(|| api::prepare(&request)).map_err(raise)?;
    Ok(Compiled { prepared, torch: std::sync::OnceLock::new() })
}

/// Every problem in a config, as `initc lint --format json` gives them, and as text; raises for
/// a config that cannot be read at all (exit code 2 on the command line).
#[pyfunction]
#[pyo3(signature = (*, path=None, text=None, name=String::from("<string>"), seed=None, set=Vec::new(), input=None, dtype=None, layout=None, vars=None, template=None, max_size=None, rng=None))]
#[allow(clippy::too_many_arguments)]
fn lint(
    py: Python<'_>,
    path: Option<PathBuf>,
    text: Option<String>,
    name: String,
    seed: Option<u64>,
    set: Vec<String>,
    input: Option<String>,
    dtype: Option<String>,
    layout: Option<String>,
    vars: Option<PathBuf>,
    template: Option<PathBuf>,
    max_size: Option<String>,
    rng: Option<String>,
) -> PyResult<(String, String)> {
    let given = path.as_ref().map(|path| path.display().to_string());
    let mut overrides = overrides(seed, set, input, dtype, layout, vars, template)?;
    overrides.rng = rng_arg(rng)?;
    let request = request(path, text, name, overrides);
    let max_size = budget(max_size)?;
    let linted = py.detach(|| api::lint(&request, max_size, None));
    let json = lint_json(&linted, given.as_deref());
    if linted.unreadable {
        return Err(NativeError::new_err((linted.rendered(), json, 2)));
    }
    Ok((json, linted.rendered()))
}

/// The findings as `initc lint --format json` prints them: a config that could not be read is
/// named as given, as the command line names it; a malformed option is in no file.
fn lint_json(linted: &api::Linted, given: Option<&str>) -> String {
    match (&linted.file, given) {
        (None, Some(given)) if linted.diagnostics.iter().all(|diagnostic| diagnostic.code != Code::BadCliValue) => {
            let report = FileReport { path: Some(given), source: None, diagnostics: &linted.diagnostics };
            initc::diagnostic::render_json(&[report])
        }
        _ => linted.json(),
    }
}

fn budget(max_size: Option<String>) -> PyResult<Option<initc::lint::OutputBudget>> {
    let Some(text) = max_size else { return Ok(None) };
    match initc::emit::parse_size(&text) {
        Some(bytes) => Ok(Some(initc::lint::OutputBudget { bytes, source: format!("`max_size={}`", text.trim()) })),
        None => Err(usage(Diagnostic::error(Code::BadCliValue, format!("`{text}` is not a size")).with_help(
            "give bytes or a number with a unit: `k`/`KB`, `M`/`MB`, `G`/`GB` (powers of 1000) or `KiB`, \
                 `MiB`, `GiB` (powers of 1024), e.g. `500M` or `2GiB`",
        ))),
    }
}

#[pymethods]
impl Compiled {
    /// `(name, shape, dtype)` of every tensor, in the file's order; dtype as NumPy names it
    /// (`bfloat16` for bf16).
    fn tensors(&self) -> Vec<(String, Vec<usize>, &'static str)> {
        let plan = &self.prepared.plan;
        plan.tensors.iter().map(|spec| (spec.name.clone(), spec.shape.clone(), dtype_name(spec.dtype))).collect()
    }

    /// The seed the values are drawn from (the config's, or the one given).
    #[getter]
    fn seed(&self) -> u64 {
        self.prepared.plan.seed
    }

    /// The warnings and notes of the compile, as JSON and as text.
    fn warnings(&self) -> (String, String) {
        let prepared = &self.prepared;
        let rendered = prepared
            .warnings
            .iter()
            .map(|diagnostic| initc::diagnostic::render_human(diagnostic, Some(&prepared.file)))
            .collect();
        (api::diagnostics_json(&prepared.warnings, Some(&prepared.file)), rendered)
    }

    /// Generates tensor `index` into `array`, a writable C-contiguous array of its shape whose
    /// elements have the dtype's size (an `int16` array for bf16), with the GIL released.
    fn fill(&self, py: Python<'_>, index: usize, array: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
        let plan = &self.prepared.plan;
        let spec = plan
            .tensors
            .get(index)
            .ok_or_else(|| PyValueError::new_err(format!("no tensor {index}: the plan has {}", plan.tensors.len())))?;
        let size = spec.dtype.size_bytes();
        if array.shape() != spec.shape.as_slice() || array.dtype().itemsize() != size {
            return Err(PyValueError::new_err(format!(
                "`{}` is {:?} of {}-byte elements; the array given is {:?} of {}-byte elements",
                spec.name,
                spec.shape,
                size,
                array.shape(),
                array.dtype().itemsize()
            )));
        }
        // SAFETY: `as_array_ptr` is a live NumPy array object kept alive by `array`.
        let (data, flags) = unsafe {
            let raw = array.as_array_ptr();
            ((*raw).fields.data as usize, (*raw).fields.flags)
        };
        if !array.is_c_contiguous() || flags & numpy::npyffi::NPY_ARRAY_WRITEABLE == 0 {
            return Err(PyValueError::new_err(format!(
                "the array for `{}` must be writable and C-contiguous",
                spec.name
            )));
        }
        let bytes = spec.element_count() * size;
        let seed = plan.seed;
        py.detach(|| {
            let out: &mut [u8] = if bytes == 0 {
                &mut []
            } else {
                // SAFETY: `data` points at the array's `bytes` bytes (its shape and element size
                // were checked), which `array` keeps alive while this runs.
                unsafe { std::slice::from_raw_parts_mut(data as *mut u8, bytes) }
            };
            let drawn = self.torch.get_or_init(|| initc::init::TorchTensors::draw(plan));
            let from_stream = drawn.as_ref().is_some_and(|drawn| drawn.fill_bytes(index, 0, out));
            if !from_stream {
                initc::init::TensorData::new(spec, seed)?.fill_bytes(0, out);
            }
            // The generator writes little-endian; NumPy arrays are native-endian.
            if cfg!(target_endian = "big") {
                for element in out.chunks_exact_mut(size) {
                    element.reverse();
                }
            }
            Ok(())
        })
        .map_err(|error: initc::init::OutOfMemory| {
            PyMemoryError::new_err(format!(
                "not enough memory to generate `{}`: it needs {} bytes",
                error.tensor, error.needed
            ))
        })
    }

    /// Raises E0603 when the tensors cannot all be held in memory at once (as `compile` holds them).
    fn check_memory(&self) -> PyResult<()> {
        api::check_memory_for_arrays(&self.prepared).map_err(raise)
    }

    /// The Keras-style summary table, or its JSON.
    #[pyo3(signature = (json=false))]
    fn summary(&self, json: bool) -> String {
        api::summary(&self.prepared, json)
    }

    /// Writes the weights as `initc compile` does (sharded with `max_shard_size`).
    #[pyo3(signature = (path, max_shard_size=None, max_size=None))]
    fn save(
        &self,
        py: Python<'_>,
        path: PathBuf,
        max_shard_size: Option<String>,
        max_size: Option<String>,
    ) -> PyResult<()> {
        let max_shard_size = match max_shard_size {
            None => None,
            Some(text) => match initc::emit::parse_size(&text) {
                Some(size) if size > 0 => Some(size),
                _ => {
                    return Err(usage(
                        Diagnostic::error(Code::BadCliValue, format!("`max_shard_size={text}` is not a size"))
                            .with_help("give bytes or a number with a unit, e.g. `\"5GB\"` or `\"2GiB\"`"),
                    ));
                }
            },
        };
        let max_size = budget(max_size)?;
        let options = api::SaveOptions { output: &path, max_shard_size, shard: None, max_size, quiet: true };
        py.detach(|| api::save(&self.prepared, &options)).map_err(raise)
    }

    /// Compares the weights with a golden file: `(equal, text, json)` as `initc verify` prints them.
    #[pyo3(signature = (golden, atol=0.0, rtol=0.0))]
    fn verify(&self, py: Python<'_>, golden: PathBuf, atol: f64, rtol: f64) -> PyResult<(bool, String, String)> {
        let tolerance = api::tolerance(atol, rtol).map_err(usage)?;
        let report = py.detach(|| api::verify(&self.prepared, &golden, tolerance, true)).map_err(raise)?;
        let name = self.prepared.file.name().to_string();
        let text = initc::inspect::diff_text(&report, &name, &golden.display().to_string());
        Ok((report.is_equal(), text, initc::inspect::diff_json(&report)))
    }
}

fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float32",
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        DType::F64 => "float64",
        DType::I64 => "int64",
        DType::I32 => "int32",
    }
}

/// Runs the command line (`argv`, the program's name first); returns the exit code.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    let status = py.detach(|| initc::cli::exit_status(initc::cli::run(argv)));
    // `summary` and `lint` leave their results to the process's exit, which here goes on.
    initc::free_after_run();
    status
}

/// The version of initc, the same number as `initc --version` and the wheel's.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("NativeError", module.py().get_type::<NativeError>())?;
    module.add_class::<Compiled>()?;
    module.add_function(wrap_pyfunction!(prepare, module)?)?;
    module.add_function(wrap_pyfunction!(lint, module)?)?;
    module.add_function(wrap_pyfunction!(main, module)?)?;
    module.add_function(wrap_pyfunction!(version, module)?)?;
    Ok(())
}
