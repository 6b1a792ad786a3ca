//! `trustfund export` and `trustfund close-month`: operator commands that
//! produce bundles and close months from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::DataArgs;
use crate::domain::{Period, Slug, Timestamp};
use crate::keys::Keyring;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The estate's slug.
    #[arg(long)]
    estate: String,
    /// Export the bundle of this month's statement (YYYY-MM) instead of the
    /// whole log.
    #[arg(long)]
    statement: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn export(args: ExportArgs) -> Result<ExitCode, String> {
    let slug = Slug::parse("--estate", &args.estate).map_err(|e| e.to_string())?;
    let period = args
        .statement
        .as_deref()
        .map(|p| Period::parse("--statement", p))
        .transpose()
        .map_err(|e| e.to_string())?;
    let store = args.data.open().await?;
    let bundle = store
        .bundle(&slug, period)
        .await
        .map_err(|e| e.to_string())?;
    let json = serde_json::to_string(&bundle).map_err(|e| e.to_string())?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, json).map_err(|e| format!("--out {}: {e}", path.display()))?
        }
        None => println!("{json}"),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct CloseMonthArgs {
    /// The estate's slug.
    #[arg(long)]
    estate: String,
    /// The month to close (YYYY-MM); months close in order, after they end.
    #[arg(long)]
    period: String,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn close_month(args: CloseMonthArgs) -> Result<ExitCode, String> {
    let slug = Slug::parse("--estate", &args.estate).map_err(|e| e.to_string())?;
    let period = Period::parse("--period", &args.period).map_err(|e| e.to_string())?;
    let store = args.data.open().await?;
    let origin = store
        .estate(&slug)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("--estate: no estate {slug}"))?
        .origin;
    let log = Keyring::new(args.data.data_dir())
        .load(&slug, &origin)
        .map_err(|e| e.to_string())?;
    let now = Timestamp::now().map_err(|e| e.to_string())?;
    let a = store
        .close_month(&slug, period, now, &log)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "closed {period} for {slug}: statement at seq {}; witnesses can now cosign checkpoint {}",
        a.seq,
        a.seq + 1
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
