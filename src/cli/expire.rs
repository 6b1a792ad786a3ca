//! `trustfund expire-claims`: close every claim whose approval window has
//! passed, once. `trustfund serve` does the same every few minutes.

use std::process::ExitCode;

use clap::Args;

use super::DataArgs;
use crate::domain::{Slug, Timestamp};
use crate::keys::Keyring;
use crate::store::{Appended, Store};

#[derive(Debug, Args)]
pub struct ExpireArgs {
    #[command(flatten)]
    data: DataArgs,
}

/// What one estate's expiry run did.
pub struct EstateExpiry {
    pub slug: String,
    pub result: Result<Vec<Appended>, String>,
}

/// Runs [`Store::expire_claims`] on every estate that is not frozen. One
/// estate failing (a missing key, a refused append) does not stop the rest.
pub async fn expire_all(
    store: &Store,
    keys: &Keyring,
    now: Timestamp,
) -> Result<Vec<EstateExpiry>, String> {
    let estates = store.list_estates().await.map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(estates.len());
    for estate in estates {
        if store.frozen_reason(&estate.slug).is_some() {
            continue;
        }
        let result = async {
            let slug = Slug::parse("slug", &estate.slug).map_err(|e| e.to_string())?;
            let log = keys
                .load(&slug, &estate.origin)
                .map_err(|e| e.to_string())?;
            store
                .expire_claims(&slug, now, &log)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        out.push(EstateExpiry {
            slug: estate.slug,
            result,
        });
    }
    Ok(out)
}

pub async fn run(args: ExpireArgs) -> Result<ExitCode, String> {
    let store = args.data.open().await?;
    let keys = Keyring::new(args.data.data_dir());
    let now = Timestamp::now().map_err(|e| e.to_string())?;
    let runs = expire_all(&store, &keys, now).await;
    store.close().await;
    let mut failed = false;
    for run in runs? {
        match run.result {
            Ok(closed) if closed.is_empty() => {
                println!("{}: no claim is past its expiry", run.slug)
            }
            Ok(closed) => {
                for a in &closed {
                    println!("{}: claim closed as expired by entry {}", run.slug, a.seq);
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("{}: {e}", run.slug);
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
