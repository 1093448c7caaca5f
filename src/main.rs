//! The `fci-connector` command: parse arguments, run the library, exit with the documented code.

fn main() -> std::process::ExitCode {
    let class = fci_connector::cli::run(std::env::args_os().collect());
    std::process::ExitCode::from(class.code())
}
