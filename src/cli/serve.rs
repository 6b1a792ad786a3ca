//! `trustfund serve`: the web service.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::DataArgs;
use crate::domain::Timestamp;
use crate::http::{router, AppState};
use crate::keys::Keyring;
use crate::store::{MarkCheck, Store};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TRUSTFUND_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Load the demo estate (东方新天地花园) into an empty database first.
    #[arg(long)]
    demo: bool,
    /// Mark the session cookie Secure: set this when users reach the
    /// service over HTTPS (behind a TLS-terminating proxy).
    #[arg(long, env = "TRUSTFUND_SECURE_COOKIES")]
    secure_cookies: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn run(args: ServeArgs) -> Result<ExitCode, String> {
    let store = Arc::new(args.data.open().await?);
    let keys = Keyring::new(args.data.data_dir());
    if args.demo {
        let estates = store.list_estates().await.map_err(|e| e.to_string())?;
        if estates.is_empty() {
            let now = Timestamp::now().map_err(|e| e.to_string())?;
            let anchor = now.period_in(
                &crate::domain::EstateTz::parse("timezone", "Asia/Shanghai")
                    .map_err(|e| e.to_string())?,
            );
            let started = std::time::Instant::now();
            let summary = crate::demo::load(&store, &keys, anchor, now)
                .await
                .map_err(|e| format!("loading the demo: {e}"))?;
            crate::demo::create_accounts(&store, &summary.slug, now)
                .await
                .map_err(|e| format!("demo accounts: {e}"))?;
            println!(
                "demo estate {} loaded: {} entries ({} to {}) in {:.1}s",
                summary.slug,
                summary.entries,
                summary.first_month,
                summary.last_month,
                started.elapsed().as_secs_f64()
            );
            let logins: Vec<&str> = crate::demo::DEMO_ACCOUNTS.iter().map(|a| a.login).collect();
            println!(
                "demo sign-in at /login: {} (password {})",
                logins.join(", "),
                crate::demo::DEMO_PASSWORD
            );
        } else {
            println!(
                "--demo: the database already holds {} estate(s); nothing loaded",
                estates.len()
            );
        }
    }
    // The append-only triggers go back first: the audit below then checks
    // the tables they guard. If they cannot be put back, the audit finds
    // them missing and freezes every estate.
    match store.restore_guards().await {
        Ok(restored) => {
            for p in restored {
                tracing::error!(problem = %p, "append-only trigger restored");
                eprintln!("WARNING: {p}; restored it");
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "append-only triggers could not be restored");
            eprintln!("WARNING: the append-only triggers could not be restored: {e}");
        }
    }
    // Start-up self-check: an estate whose stored log does not verify is
    // frozen (nothing new is signed) and the failure is reported.
    for report in store
        .audit_all()
        .await
        .map_err(|e| format!("start-up audit: {e}"))?
    {
        match report.failure {
            None => tracing::info!(estate = %report.estate, entries = report.entries, "audit ok"),
            Some(f) => {
                tracing::error!(estate = %report.estate, failure = %f, "audit FAILED: estate frozen");
                eprintln!(
                    "WARNING: estate {} failed its integrity audit at {f}; it is frozen",
                    report.estate
                );
            }
        }
    }
    // The database must hold at least what each log key last signed, as
    // the key's own mark remembers it; one that is behind or different is
    // frozen, whatever its own audit said.
    for (estate, check) in store
        .check_log_marks(&keys)
        .await
        .map_err(|e| format!("start-up check of the log marks: {e}"))?
    {
        match check {
            MarkCheck::Ok => {}
            MarkCheck::Failed(why) => {
                tracing::error!(estate = %estate, failure = %why, "log mark check FAILED: estate frozen");
                eprintln!("WARNING: estate {estate} is frozen: {why}");
            }
            MarkCheck::NoKey(why) => {
                tracing::warn!(estate = %estate, problem = %why, "no log key here: nothing can be signed for this estate");
            }
        }
    }
    // Claims past their window close by themselves: once now, then every
    // few minutes, for as long as the server runs.
    tokio::spawn(expire_claims_forever(
        store.clone(),
        Keyring::new(args.data.data_dir()),
    ));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("trustfund is serving on http://{addr}/");
    let mut state = AppState::new(store.clone(), keys);
    state.secure_cookies = args.secure_cookies;
    let app = router(state);
    // Connect info gives the unit look-up its per-client rate limit.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .map_err(|e| format!("server: {e}"))?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// How often `serve` closes expired claims.
const EXPIRY_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Closes expired claims on every non-frozen estate, now and then every
/// [`EXPIRY_INTERVAL`]. Errors are logged, never fatal: a failed run is
/// simply tried again next time.
async fn expire_claims_forever(store: Arc<Store>, keys: Keyring) {
    let mut tick = tokio::time::interval(EXPIRY_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = match Timestamp::now() {
            Ok(now) => now,
            Err(e) => {
                tracing::error!(error = %e.message, "claim expiry: no clock");
                continue;
            }
        };
        match super::expire::expire_all(&store, &keys, now).await {
            Ok(runs) => {
                for run in runs {
                    match run.result {
                        Ok(closed) if closed.is_empty() => {}
                        Ok(closed) => {
                            tracing::info!(estate = %run.slug, closed = closed.len(), "expired claims closed")
                        }
                        Err(e) => {
                            tracing::error!(estate = %run.slug, error = %e, "claim expiry failed")
                        }
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "claim expiry: cannot list estates"),
        }
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
