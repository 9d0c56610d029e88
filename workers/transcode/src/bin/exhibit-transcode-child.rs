//! The isolated transcode child: one job per process. Started by
//! `exhibit_transcode::transcode`; not meant to be run by hand.

fn main() -> std::process::ExitCode {
    exhibit_transcode::child::child_main()
}
