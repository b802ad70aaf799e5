//! The crash test against the AWS stand-in: `postroom --backend aws ingest` of the same
//! kinds of files as tests/it/crash.rs (59 of them: moto is slow) on S3 and DynamoDB
//! served by a moto server this test starts, (1) killed with SIGKILL at random moments and run again to completion,
//! and (2) with the stand-in unreachable for a few seconds mid-batch (every connection
//! cut and refused by a proxy in front of it) and then hung (SIGSTOP, SIGCONT): the files
//! caught by the outage are reported `failed` with a retryable error, and a rerun
//! completes them with nothing half-written. After each completed run, every file is
//! recorded exactly once, as in the embedded crash test.
//!
//! moto loses its state when it stops, so it is never killed mid-test: its outage is the
//! proxy's doing. Runs when `AWS_ENDPOINT_URL` names a loopback stand-in (scripts/test)
//! and moto's server is installed (`$POSTROOM_VENV`, default `.venv`); otherwise it says
//! it did not run, or fails under `POSTROOM_REQUIRE_AWS=1`.

use std::io::Write as _;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postroom::store::{AwsSettings, DynamoTable, S3Blobs};

use crate::crash::{
    Mix, Rng, Target, check, completed, run_and_kill, run_to_end, seed, write_post,
};

const TEST: &str = "local_stack_faults::ingest_on_aws_survives_kills_and_an_outage_of_the_stand_in";

/// moto's server, from the venv scripts/test installs, if it is there.
fn moto_server() -> Option<PathBuf> {
    let venv = std::env::var_os("POSTROOM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let venv = if venv.is_absolute() {
        venv
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(venv)
    };
    let path = venv.join("bin/moto_server");
    path.is_file().then_some(path)
}

/// Whether to run: a loopback stand-in is configured (so credentials and a region are
/// set for the SDK), and moto's server can be started. Says why not, or fails when
/// `POSTROOM_REQUIRE_AWS=1`.
fn prerequisites() -> Option<PathBuf> {
    let required = std::env::var("POSTROOM_REQUIRE_AWS").is_ok_and(|v| v == "1");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let loopback = endpoint.contains("://127.") || endpoint.contains("://localhost");
    let why = if !loopback {
        "AWS_ENDPOINT_URL does not name a stand-in on loopback".to_owned()
    } else {
        match moto_server() {
            Some(path) => return Some(path),
            None => "moto_server is not installed ($POSTROOM_VENV or .venv)".to_owned(),
        }
    };
    assert!(
        !required,
        "{TEST}: POSTROOM_REQUIRE_AWS=1 but {why}: the AWS fault test must run"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\n*** NOT RUN: {TEST} (AWS stand-in): {why}. Run scripts/test. ***"
    );
    None
}

/// A moto server of this test's own, on a free loopback port; stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start(path: &std::path::Path, log: &std::path::Path) -> Moto {
        let port = free_port();
        let log = std::fs::File::create(log).expect("moto log");
        // As scripts/test starts it: DynamoDB requests one at a time (scripts/moto_server.py).
        let python = path.with_file_name("python");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/moto_server.py");
        let child = Command::new(python)
            .arg(script)
            .args(["127.0.0.1", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, port };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Sends a signal to this moto (a process this test started) by its id.
    fn signal(&self, name: &str) -> bool {
        Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.signal("CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A TCP proxy in front of moto that can cut every connection and refuse new ones (each
/// is accepted and closed at once), as a network outage looks to a client.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    /// Connections refused since the proxy started.
    refused: Arc<AtomicUsize>,
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listener");
        let port = listener.local_addr().expect("proxy address").port();
        let down = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let refused = Arc::new(AtomicUsize::new(0));
        let (is_down, conns, refusals) = (down.clone(), open.clone(), refused.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if is_down.load(Ordering::SeqCst) {
                    refusals.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                    client.try_clone(),
                    server.try_clone(),
                    client.try_clone(),
                    server.try_clone(),
                ) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                conns.lock().expect("lock").extend([c3, s3]);
                std::thread::spawn(move || pipe(client, s2));
                std::thread::spawn(move || pipe(server, c2));
            }
        });
        Proxy {
            port,
            down,
            open,
            refused,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Goes down for at least `least`, and on until a connection has been refused and
    /// `least` has passed since (at most `most` in all): a client that is between
    /// requests when the outage starts (reading a scan, say) still meets it whole.
    fn outage(&self, least: Duration, most: Duration) -> Duration {
        let start = Instant::now();
        let before = self.refused.load(Ordering::SeqCst);
        self.set_down(true);
        let mut first_refusal = None;
        while start.elapsed() < most {
            if first_refusal.is_none() && self.refused.load(Ordering::SeqCst) > before {
                first_refusal = Some(Instant::now());
            }
            if start.elapsed() >= least && first_refusal.is_some_and(|t| t.elapsed() >= least) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.set_down(false);
        start.elapsed()
    }

    /// Cuts every open connection and refuses new ones, or lets them through again.
    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            for s in self.open.lock().expect("lock").drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// A fresh table and bucket on `moto` (created directly, not through the proxy), and the
/// target that reaches them through `endpoint`.
async fn fresh_store(moto: &Moto, endpoint: &str, name: &str) -> Target {
    let direct = format!("http://127.0.0.1:{}", moto.port);
    let settings = AwsSettings::load_with_endpoint(&direct).await;
    let table = format!("crash-{name}");
    let bucket = format!("crash-{name}");
    DynamoTable::new(&settings, &table)
        .create_table()
        .await
        .unwrap_or_else(|e| panic!("create table {table}: {e}"));
    let blobs = S3Blobs::new(&settings, &bucket);
    blobs
        .create_bucket()
        .await
        .unwrap_or_else(|e| panic!("create bucket {bucket}: {e}"));
    blobs
        .enable_versioning()
        .await
        .unwrap_or_else(|e| panic!("versioning on {bucket}: {e}"));
    Target::Aws {
        endpoint: endpoint.to_owned(),
        table,
        bucket,
    }
}

/// The post for the stand-in: every kind of file, fewer of each. moto's
/// TransactWriteItems deep-copies the whole table for its rollback, so each filing costs
/// time in proportion to what is stored already, and 512 files take over ten minutes.
const MIX: Mix = Mix {
    claims: 6,
    follow_ups: 16,
    fois: 6,
    loose: 16,
    same_named: 3,
    hostile: 3,
    copies: 6,
};

fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// How many kills against the stand-in (`POSTROOM_AWS_CRASH_KILLS`, default 3).
fn aws_kills() -> usize {
    std::env::var("POSTROOM_AWS_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

#[test]
fn ingest_on_aws_survives_kills_and_an_outage_of_the_stand_in() {
    let Some(moto_path) = prerequisites() else {
        return;
    };
    let seed = seed();
    let mut rng = Rng::new(seed ^ 0xA5A5);
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = Moto::start(&moto_path, &dir.path().join("moto.log"));
    let proxy = Proxy::start(moto.port);
    let endpoint = proxy.endpoint();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let post = write_post(&dir.path().join("post"), MIX, &mut rng);
    let n = post.inputs.len();

    // One uninterrupted run: how long a run takes here, and the baseline.
    let reference = rt.block_on(fresh_store(&moto, &endpoint, "reference"));
    let first = run_to_end(reference.ingest(&post));
    completed(&first, n).unwrap_or_else(|e| panic!("uninterrupted run on moto: {e}"));
    let base = check("uninterrupted run on moto", &reference, &post, &first);
    let full = first.took;
    say(&format!(
        "AWS crash test (seed {seed}): {n} files, an uninterrupted run takes {full:?}: {:?}; {} documents, {} cases, {} letters",
        first.statuses(),
        base.documents,
        base.cases,
        base.letters
    ));

    // 1. Killed at random moments while moto keeps running; each rerun completes.
    let trials = aws_kills();
    let (mut kills, mut missed) = (0, 0);
    while kills < trials {
        assert!(missed <= trials, "{missed} runs ended before their kill");
        let target = rt.block_on(fresh_store(
            &moto,
            &endpoint,
            &format!("kill-{kills}-{missed}"),
        ));
        let delay = full.mul_f64(0.05 + 0.9 * (kills as f64 + rng.unit()) / trials as f64);
        let (killed, reported) = run_and_kill(target.ingest(&post), delay, dir.path());
        if !killed {
            missed += 1;
            continue;
        }
        kills += 1;
        let rerun = run_to_end(target.ingest(&post));
        let what = format!("kill {kills} at {delay:?} ({reported} of {n} reported)");
        completed(&rerun, n).unwrap_or_else(|e| panic!("{what}: {e}"));
        check(&what, &target, &post, &rerun);
        say(&format!(
            "  {what}: the rerun took {:?}: {:?}",
            rerun.took,
            rerun.statuses()
        ));
    }

    // 2. The stand-in unreachable for 8 s and on until 8 s after it first refused a
    //    connection (connections cut, new ones refused), later hung
    //    for 3 s (SIGSTOP): the run goes on, the files the outage caught are `failed`,
    //    and a rerun completes them. The SDK's retries (3 attempts, backoff under 3 s
    //    in all) ride out a shorter outage now and then: 4 s failed no file in 1 run
    //    of 16.
    let target = rt.block_on(fresh_store(&moto, &endpoint, "outage"));
    let out_path = dir.path().join("outage.stdout");
    let err_path = dir.path().join("outage.stderr");
    let start = Instant::now();
    let mut child = target
        .ingest(&post)
        .stdout(std::fs::File::create(&out_path).expect("stdout"))
        .stderr(std::fs::File::create(&err_path).expect("stderr"))
        .spawn()
        .expect("start postroom");
    let outage_at = full.mul_f64(0.15 + 0.2 * rng.unit());
    std::thread::sleep(outage_at);
    let outage = proxy.outage(Duration::from_secs(8), Duration::from_secs(30));
    let hang_at = full.mul_f64(0.55 + 0.15 * rng.unit());
    std::thread::sleep(hang_at.saturating_sub(start.elapsed()));
    let hung = child.try_wait().expect("try_wait").is_none();
    if hung {
        assert!(moto.signal("STOP"), "kill -STOP moto");
        std::thread::sleep(Duration::from_secs(3));
        assert!(moto.signal("CONT"), "kill -CONT moto");
    }
    let status = child.wait().expect("wait");
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let failed: Vec<&str> = lines
        .iter()
        .filter(|l| l["status"] == "failed")
        .filter_map(|l| l["source"].as_str())
        .collect();
    say(&format!(
        "  outage at {outage_at:?} for {outage:.1?}{}: exit {:?}, {} lines, {} failed",
        if hung {
            format!(", moto hung at {hang_at:?} for 3 s")
        } else {
            String::new()
        },
        status.code(),
        lines.len(),
        failed.len()
    ));
    assert_eq!(
        lines.len(),
        n,
        "every file gets a line even when the store is away:\n{}",
        crate::crash::tail_of(&stderr, 3000)
    );
    assert!(
        !failed.is_empty(),
        "an outage of {outage:?} mid-batch failed no file (the run took {:?})",
        start.elapsed()
    );
    assert_eq!(status.code(), Some(1), "failures make the exit status 1");
    // Each failed file is named on stderr with an error a retry may fix.
    for source in &failed {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(source) && !l.contains("permanent")),
            "{source}: failed without a retryable error on stderr:\n{}",
            crate::crash::tail_of(&stderr, 3000)
        );
    }
    let rerun = run_to_end(target.ingest(&post));
    completed(&rerun, n).unwrap_or_else(|e| panic!("rerun after the outage: {e}"));
    let tally = check("after the outage", &target, &post, &rerun);
    say(&format!(
        "AWS crash test: {kills} kills ({missed} runs ended first), {} failed in the outage and completed by the rerun; {} lost, {} duplicated",
        failed.len(),
        tally.lost,
        tally.duplicated
    ));
    drop(proxy);
    drop(moto);
}
