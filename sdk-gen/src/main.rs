//! `cargo run -p byrd-sdk-gen` writes the generated files of every SDK;
//! `-- --check` writes nothing and fails when a committed file differs.

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!("usage: cargo run -p byrd-sdk-gen [-- --check]");
            return ExitCode::from(2);
        }
    };
    let root = byrd_sdk_gen::workspace_root();
    let outcome = if check {
        byrd_sdk_gen::check(&root).map(|drift| {
            if drift.is_empty() {
                println!("the generated SDK files are up to date");
                true
            } else {
                eprintln!("{}", byrd_sdk_gen::drift_report(&drift));
                false
            }
        })
    } else {
        byrd_sdk_gen::write(&root).map(|written| {
            for path in written {
                println!("wrote {}", path.display());
            }
            true
        })
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("byrd-sdk-gen: {error:#}");
            ExitCode::FAILURE
        }
    }
}
