//! A thin command line over the library, for benchmarks and by-hand runs:
//! `exhibit-transcode POLICY INPUT OUT_DIR` prints the outcome as JSON.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, policy, input, out_dir] = args.as_slice() else {
        eprintln!("usage: exhibit-transcode POLICY.toml INPUT OUT_DIR");
        return ExitCode::from(64);
    };
    let result = exhibit_transcode::load_policy(Path::new(policy)).and_then(|p| {
        exhibit_transcode::transcode(Path::new(input), &p, Path::new(out_dir), &exhibit_transcode::Limits::default())
    });
    match result {
        Ok(outcome) => {
            println!("{}", serde_json::to_string_pretty(&outcome).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("exhibit-transcode: {e}");
            ExitCode::FAILURE
        }
    }
}
