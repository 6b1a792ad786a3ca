//! `trustfund keygen`: make an approver key file (`docs/FORMAT.md` §22)
//! and print the vkey the admin enrols.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::approver_key::{KeyFile, Passphrase};

/// Environment variable the passphrase may come from. Never a flag: that
/// would leave it in the shell history and the process list.
pub const PASSPHRASE_ENV: &str = "TRUSTFUND_PASSPHRASE";

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The note key name to sign as, e.g.
    /// trustfund.example/estates/dongfang/members/c4.
    #[arg(long)]
    name: String,
    /// Where to write the key file; an existing file is never overwritten.
    #[arg(long)]
    out: PathBuf,
}

/// One line of standard input, without its line ending.
pub(super) fn read_stdin_line(what: &str) -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("{what}: cannot read standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The passphrase from `TRUSTFUND_PASSPHRASE`, or else the first line of
/// standard input.
pub(super) fn read_passphrase() -> Result<String, String> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) => Ok(p),
        Err(_) => read_stdin_line("passphrase"),
    }
}

pub fn run(args: KeygenArgs) -> Result<ExitCode, String> {
    let out = args.out.display().to_string();
    // Checked before the slow part; `create_new` below is what guarantees it.
    if args.out.exists() {
        return Err(format!(
            "--out {out}: already exists; refusing to overwrite it"
        ));
    }
    let pass =
        Passphrase::new_choice(&read_passphrase()?).map_err(|e| format!("passphrase: {e}"))?;
    let (file, _signer) =
        KeyFile::generate(&args.name, &pass).map_err(|e| format!("--name: {e}"))?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&args.out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("--out {out}: already exists; refusing to overwrite it")
        }
        _ => format!("--out {out}: {e}"),
    })?;
    f.write_all(file.format().as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("--out {out}: {e}"))?;
    println!("key file: {out}");
    println!("verifier key (paste it into the enrol-member form):");
    println!("{}", file.verifier_key());
    Ok(ExitCode::SUCCESS)
}
