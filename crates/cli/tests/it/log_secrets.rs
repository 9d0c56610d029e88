//! Credentials never reach the logs, whatever the verbosity: the AWS SDK
//! traces its signing (canonical request, headers) at trace level, which
//! held `x-amz-security-token` (found by the issue 14 attacker with
//! `-vvv`).

use crate::cluster_env::Moto;
use crate::common::{Sandbox, stderr};

const TOKEN: &str = "TokSecret4567";
const SECRET: &str = "KeySecret8910";

#[test]
fn trace_logging_against_s3_prints_no_session_token_or_secret() {
    let (sb, moto) = (Sandbox::new(), Moto::start());
    let store = format!("s3://{}/force", moto.bucket);
    for args in [&["-vvv", "cases"][..], &["cases"][..]] {
        let mut cmd = sb.exhibit();
        cmd.args(["--store", &store]).args(args);
        moto.env(&mut cmd);
        cmd.env("AWS_SESSION_TOKEN", TOKEN).env("AWS_SECRET_ACCESS_KEY", SECRET).env("EXHIBIT_LOG", "trace");
        let out = cmd.output().expect("run exhibit");
        let seen = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(out.status.success(), "{seen}");
        assert!(!seen.contains(TOKEN) && !seen.contains(SECRET), "a credential is in the output:\n{seen}");
    }
}
