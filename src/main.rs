//! The `initc` binary: hands the command line to [`initc::cli`].

fn main() -> std::process::ExitCode {
    initc::cli::main()
}
