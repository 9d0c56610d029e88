//! The loopback TSA's keys and certificates, made with `openssl`.

use std::io;
use std::path::Path;
use std::process::Command;

use super::KeyKind;

pub(super) fn openssl(dir: &Path, args: &[&str], more: &[&str]) -> io::Result<()> {
    let out = Command::new("openssl").args(args).args(more).current_dir(dir).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr))))
    }
}

pub(super) fn make_pki(dir: &Path, key: KeyKind) -> io::Result<()> {
    let newkey: &[&str] = match key {
        KeyKind::EcP256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        KeyKind::Rsa2048 => &["-newkey", "rsa:2048"],
    };
    std::fs::write(dir.join("tsa.cnf"), TSA_CONFIG.replace("@DIR@", &dir.display().to_string()))?;
    std::fs::write(dir.join("tsaserial"), "01\n")?;
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )?;
    // Every loopback CA has the same name, so a token from another one
    // differs only in its keys.
    let req = ["req", "-config", "tsa.cnf", "-nodes"];
    openssl(
        dir,
        &[&req[..], &["-x509", "-new", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3"]].concat(),
        newkey,
    )?;
    let csr = ["-new", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=exhibit test TSA"];
    openssl(dir, &[&req[..], &csr[..]].concat(), newkey)?;
    openssl(
        dir,
        &["x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2", "-days", "2"],
        &["-extfile", "ext.cnf", "-out", "tsa.pem"],
    )
}

const TSA_CONFIG: &str = "\
[ req ]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[ dn ]
CN = exhibit test CA
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = @DIR@
serial = $dir/tsaserial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";
