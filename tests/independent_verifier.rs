//! Cross-implementation check: the independent Python verifier in
//! `tests/independent/` (standard library only, written from the public
//! C2SP and RFC specifications, sharing no code with this crate) must
//! accept the project's golden files and the live log of a real server.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, also on panic.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python(args: &[&str]) -> Output {
    Command::new("python3")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("python3 (CPython 3.11+) must be on PATH")
}

fn describe(out: &Output) -> String {
    format!(
        "status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// RFC 8032 and RFC 6962 vectors, Go's sumdb/note vector, the mangling
/// tests, and `fixtures/vectors/tlog/` verified by the independent code.
#[test]
fn independent_offline_suite_passes() {
    let out = python(&["tests/independent/test_tlogcheck_offline.py"]);
    assert!(
        out.status.success(),
        "offline suite failed\n{}",
        describe(&out)
    );
}

/// A demo server's log, fetched over HTTP, verifies end to end.
#[test]
fn independent_verifier_accepts_the_live_log() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustfund"))
        .arg("serve")
        .arg("--demo")
        .arg("--data-dir")
        .arg(data.path())
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env_remove("TRUSTFUND_DATA_DIR")
        .env_remove("TRUSTFUND_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start trustfund serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let server = KillOnDrop(child);

    // Drain both pipes for the server's whole life so it never blocks.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = errors.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let server_stderr = || String::from_utf8_lossy(&errors.lock().unwrap()).into_owned();

    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let base = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix("trustfund is serving on ") {
                    break rest.trim_end_matches('/').to_string();
                }
                seen.push(line);
            }
            Err(e) => panic!(
                "server did not report its address ({e}); stdout:\n{}\nstderr:\n{}",
                seen.join("\n"),
                server_stderr()
            ),
        }
    };

    let out = python(&["tests/independent/tlogcheck.py", &base, "dongfang"]);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "independent verifier rejected the live log\n{}\n--- server stderr ---\n{}",
        describe(&out),
        server_stderr()
    );
    drop(server);
}
