//! The `initc` binary: hands the command line to [`initc::cli`].

/// The system allocator, until `summary` or `lint` switch to mimalloc (see [`initc::heap`]).
#[global_allocator]
static HEAP: initc::heap::Heap = initc::heap::Heap;

fn main() -> std::process::ExitCode {
    initc::cli::main()
}
