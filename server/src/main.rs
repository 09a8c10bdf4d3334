//! The `byrd` binary: parses the command line (`cli`) and runs it,
//! printing a failure's whole cause on one line.

use clap::Parser;

use byrd_server::cli::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("byrd: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
