//! `trustfund audit`: re-verify everything stored.

use std::process::ExitCode;

use clap::Args;

use super::DataArgs;
use crate::keys::Keyring;
use crate::store::MarkCheck;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// First put back every append-only trigger that is missing, disabled
    /// or altered (exactly as the migrations create it), then audit.
    #[arg(long)]
    restore_triggers: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn run(args: AuditArgs) -> Result<ExitCode, String> {
    let store = args.data.open().await?;
    if args.restore_triggers {
        let restored = store
            .restore_guards()
            .await
            .map_err(|e| format!("restoring the append-only triggers: {e}"))?;
        if restored.is_empty() {
            println!("every append-only trigger is in place");
        }
        for p in restored {
            println!("restored: {p}");
        }
    }
    let reports = store
        .audit_all()
        .await
        .map_err(|e| format!("audit could not run: {e}"))?;
    let marks = store
        .check_log_marks(&Keyring::new(args.data.data_dir()))
        .await
        .map_err(|e| format!("audit could not check the log marks: {e}"))?;
    let mut ok = true;
    if reports.is_empty() {
        println!("no estates to audit");
    }
    for r in &reports {
        let mark = marks
            .iter()
            .find(|(estate, _)| *estate == r.estate)
            .map(|(_, check)| check);
        match mark {
            Some(MarkCheck::Failed(why)) => {
                ok = false;
                println!(
                    "estate {}: FAILED against the log key's mark: {why}",
                    r.estate
                );
            }
            Some(MarkCheck::NoKey(why)) => println!(
                "estate {}: no log key in this data directory ({why}); its mark was not checked",
                r.estate
            ),
            Some(MarkCheck::Ok) | None => {}
        }
        match &r.failure {
            None if matches!(mark, Some(MarkCheck::Failed(_))) => {}
            None => println!(
                "estate {}: OK — {} entries, {} checkpoints, root {}",
                r.estate,
                r.entries,
                r.checkpoints,
                r.root.map(|h| h.to_hex()).unwrap_or_else(|| "-".into())
            ),
            Some(f) => {
                ok = false;
                println!("estate {}: FAILED at {f}", r.estate);
            }
        }
    }
    store.close().await;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
