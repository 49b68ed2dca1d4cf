//! Test support: a real tonic OTLP receiver on an ephemeral loopback port that records what it
//! gets and answers as a test tells it to, generated TLS certificates, and the real binary.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use metricsender::otlp::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    MetricsService, MetricsServiceServer,
};
use tokio::sync::oneshot;
use tonic::transport::{Identity, Server, ServerTlsConfig};

/// How the receiver answers one call.
#[derive(Debug, Clone)]
pub enum Reply {
    Ok,
    Partial {
        rejected: i64,
        message: &'static str,
    },
    Status(tonic::Code, &'static str),
    /// RESOURCE_EXHAUSTED carrying `google.rpc.RetryInfo`.
    Throttle(Duration),
    /// Answer after a delay.
    Slow(Duration, Box<Reply>),
}

pub type Plan = Arc<dyn Fn(u64) -> Reply + Send + Sync>;

/// What the receiver saw.
#[derive(Default)]
pub struct Record {
    /// Every call, in arrival order, with the instant it arrived.
    pub calls: Mutex<Vec<(Instant, ExportMetricsServiceRequest)>>,
    /// Requests it answered OK (or partial success).
    pub accepted: Mutex<Vec<ExportMetricsServiceRequest>>,
    /// Metadata of the first call.
    pub first_metadata: Mutex<Option<tonic::metadata::MetadataMap>>,
    pub count: AtomicU64,
    /// The client addresses calls came from: one per connection.
    pub peers: Mutex<std::collections::HashSet<SocketAddr>>,
}

struct Service {
    plan: Plan,
    record: Arc<Record>,
}

#[tonic::async_trait]
impl MetricsService for Service {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let n = self.record.count.fetch_add(1, SeqCst);
        {
            let mut first = self.record.first_metadata.lock().unwrap();
            if first.is_none() {
                *first = Some(request.metadata().clone());
            }
        }
        if let Some(peer) = request.remote_addr() {
            self.record.peers.lock().unwrap().insert(peer);
        }
        let request = request.into_inner();
        self.record
            .calls
            .lock()
            .unwrap()
            .push((Instant::now(), request.clone()));
        let mut reply = (self.plan)(n);
        loop {
            match reply {
                Reply::Slow(delay, inner) => {
                    tokio::time::sleep(delay).await;
                    reply = *inner;
                }
                Reply::Ok => {
                    self.record.accepted.lock().unwrap().push(request);
                    return Ok(tonic::Response::new(ExportMetricsServiceResponse::default()));
                }
                Reply::Partial { rejected, message } => {
                    self.record.accepted.lock().unwrap().push(request);
                    return Ok(tonic::Response::new(ExportMetricsServiceResponse {
                        partial_success: Some(ExportMetricsPartialSuccess {
                            rejected_data_points: rejected,
                            error_message: message.to_owned(),
                        }),
                    }));
                }
                Reply::Status(code, message) => return Err(tonic::Status::new(code, message)),
                Reply::Throttle(delay) => {
                    use tonic_types::{ErrorDetails, StatusExt};
                    return Err(tonic::Status::with_error_details(
                        tonic::Code::ResourceExhausted,
                        "slow down",
                        ErrorDetails::with_retry_info(Some(delay)),
                    ));
                }
            }
        }
    }
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    pub record: Arc<Record>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Server TLS: certificate and key PEM, and optionally a client CA for mTLS.
#[derive(Clone)]
pub struct ServerTls {
    pub cert: String,
    pub key: String,
    pub client_ca: Option<String>,
}

impl Receiver {
    /// Accepts everything.
    pub async fn ok() -> Self {
        Self::start(|_| Reply::Ok).await
    }

    /// Answers call `n` (from 0) with `plan(n)`.
    pub async fn start(plan: impl Fn(u64) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(plan),
            None,
            Arc::default(),
        )
        .await
    }

    /// A TLS receiver.
    pub async fn start_tls(tls: ServerTls) -> Self {
        Self::start_on(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(|_| Reply::Ok),
            Some(tls),
            Arc::default(),
        )
        .await
    }

    /// Starts on `addr` (port 0 for any), recording into `record`.
    pub async fn start_on(
        addr: SocketAddr,
        plan: Plan,
        tls: Option<ServerTls>,
        record: Arc<Record>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, shutdown_rx) = oneshot::channel();
        let service = MetricsServiceServer::new(Service {
            plan,
            record: record.clone(),
        })
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .accept_compressed(tonic::codec::CompressionEncoding::Zstd);
        let mut server = Server::builder();
        if let Some(tls) = tls {
            let mut config = ServerTlsConfig::new().identity(Identity::from_pem(tls.cert, tls.key));
            if let Some(ca) = tls.client_ca {
                config = config.client_ca_root(tonic::transport::Certificate::from_pem(ca));
            }
            server = server.tls_config(config).unwrap();
        }
        let router = server.add_service(service);
        let task = tokio::spawn(async move {
            let incoming =
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            let _ = router
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = shutdown_rx.await;
                })
                .await;
        });
        Receiver {
            addr,
            record,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving (open connections are closed).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    pub fn calls(&self) -> u64 {
        self.record.count.load(SeqCst)
    }

    pub fn accepted(&self) -> Vec<ExportMetricsServiceRequest> {
        self.record.accepted.lock().unwrap().clone()
    }

    pub fn accepted_points(&self) -> u64 {
        self.accepted()
            .iter()
            .map(|r| metricsender::otlp::count_data_points(&r.resource_metrics))
            .sum()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A free loopback port (bound and released).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A CA and certificates it signs, for TLS tests.
pub struct Pki {
    ca: rcgen::Issuer<'static, rcgen::KeyPair>,
    pub ca_pem: String,
}

impl Pki {
    pub fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Pki {
            ca_pem: cert.pem(),
            ca: rcgen::Issuer::new(params, key),
        }
    }

    /// Writes the CA and two leaves into `dir` for a mutual-TLS test: `ca.pem`, the server's
    /// `cert.pem` and `key.pem` (for `localhost`), the client's `client.pem` and
    /// `client-key.pem`.
    pub fn write_mutual_tls(&self, dir: &Path) {
        let (cert, key) = self.leaf(&["localhost"], false);
        let (client_cert, client_key) = self.leaf(&["client"], true);
        for (name, pem) in [
            ("ca.pem", &self.ca_pem),
            ("cert.pem", &cert),
            ("key.pem", &key),
            ("client.pem", &client_cert),
            ("client-key.pem", &client_key),
        ] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
    }

    /// A leaf certificate for `names`; returns (cert PEM, key PEM).
    pub fn leaf(&self, names: &[&str], client: bool) -> (String, String) {
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![if client {
            rcgen::ExtendedKeyUsagePurpose::ClientAuth
        } else {
            rcgen::ExtendedKeyUsagePurpose::ServerAuth
        }];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// The real binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_metricsender"))
}

/// The output of a finished run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `--summary json` object on stdout.
    pub fn summary(&self) -> serde_json::Value {
        let line = self.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "no JSON summary ({e}) in stdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts both accounting laws of CLI.md.
    pub fn assert_balanced(&self) -> serde_json::Value {
        let s = self.summary();
        assert_laws(&s);
        s
    }
}

/// Asserts both accounting laws of CLI.md on a JSON summary: payloads and data points read
/// are each sent or failed.
pub fn assert_laws(s: &serde_json::Value) {
    let n = |key: &str| {
        s[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no {key} in the summary: {s}"))
    };
    assert_eq!(
        n("payloads_read"),
        n("payloads_sent") + n("payloads_failed"),
        "payloads read != sent + failed: {s}"
    );
    assert_eq!(
        n("data_points_read"),
        n("data_points_sent") + n("data_points_failed"),
        "data points read != sent + failed: {s}"
    );
}

/// Runs the binary with `args` in `dir`, without a terminal, and waits for it.
pub async fn run_in(dir: &Path, args: &[&str]) -> Run {
    let output = command(dir, args).output().await.unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Starts the binary with `args` in `dir` without waiting; stdout and stderr are captured.
pub fn spawn_in(dir: &Path, args: &[&str]) -> tokio::process::Child {
    command(dir, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a run started with [`spawn_in`].
pub async fn wait(child: tokio::process::Child) -> Run {
    let output = child.wait_with_output().await.unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The binary as a command, environment cleared of OTLP variables.
pub fn command(dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        let proxy = key.to_ascii_uppercase().ends_with("_PROXY");
        if key.starts_with("OTEL_") || proxy {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The absolute path of a testdata file.
pub fn testdata(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
        .display()
        .to_string()
}

/// The expected requests for a capture: one per payload, as the core converts them.
pub fn expected_requests(capture: &str) -> Vec<ExportMetricsServiceRequest> {
    use metricsender::convert::{payloads_to_request, ConvertNotes, Mapping};
    std::fs::read_to_string(testdata(capture))
        .unwrap()
        .lines()
        .map(|l| {
            let p = metricsender::model::parse_payload(l.as_bytes()).unwrap();
            payloads_to_request([&p], Mapping::Agent, &mut ConvertNotes::default())
        })
        .collect()
}

/// Requests as sorted encodings: compares multisets regardless of arrival order.
pub fn sorted_encodings(requests: &[ExportMetricsServiceRequest]) -> Vec<Vec<u8>> {
    use prost::Message;
    let mut out: Vec<_> = requests.iter().map(|r| r.encode_to_vec()).collect();
    out.sort();
    out
}

/// A receiver on a runtime of its own, so that killing it drops every connection at once,
/// mid-request, as a crashed server would.
pub struct Killable {
    runtime: Option<tokio::runtime::Runtime>,
    receiver: Option<Receiver>,
}

impl Killable {
    /// Starts on `addr` with `plan`, recording into `record`.
    pub fn start(addr: SocketAddr, plan: Plan, record: Arc<Record>) -> Killable {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (runtime, receiver) = std::thread::spawn(move || {
            let receiver = runtime.block_on(Receiver::start_on(addr, plan, None, record));
            (runtime, receiver)
        })
        .join()
        .unwrap();
        Killable {
            runtime: Some(runtime),
            receiver: Some(receiver),
        }
    }

    /// Drops the server and every connection it holds, answering nothing more.
    pub fn kill(mut self) {
        drop(self.receiver.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Killable {
    fn drop(&mut self) {
        drop(self.receiver.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Writes the first `n` lines of a testdata capture to `dir/name`; returns its path.
pub fn first_lines(dir: &Path, capture: &str, n: usize, name: &str) -> String {
    let text = std::fs::read_to_string(testdata(capture)).unwrap();
    let mut out = String::new();
    for line in text.lines().take(n) {
        out.push_str(line);
        out.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path.display().to_string()
}

/// Every data point of `requests`, each as one comparable value (its resource, scope,
/// metric and point), sorted: equal lists mean the same points, in any split or order.
pub fn point_fingerprints(requests: &[ExportMetricsServiceRequest]) -> Vec<String> {
    use metricsender::otlp::metric::Data;
    let mut out = Vec::new();
    for rm in requests.iter().flat_map(|r| &r.resource_metrics) {
        let mut resource: Vec<String> = rm
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .map(|kv| format!("{kv:?}"))
            .collect();
        resource.sort();
        for sm in &rm.scope_metrics {
            let scope = sm
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            for m in &sm.metrics {
                let points: Vec<String> = match &m.data {
                    Some(Data::Gauge(g)) => {
                        g.data_points.iter().map(|p| format!("{p:?}")).collect()
                    }
                    Some(Data::Sum(s)) => s.data_points.iter().map(|p| format!("{p:?}")).collect(),
                    Some(Data::Histogram(h)) => {
                        h.data_points.iter().map(|p| format!("{p:?}")).collect()
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        h.data_points.iter().map(|p| format!("{p:?}")).collect()
                    }
                    Some(Data::Summary(s)) => {
                        s.data_points.iter().map(|p| format!("{p:?}")).collect()
                    }
                    None => Vec::new(),
                };
                for p in points {
                    out.push(format!("{resource:?} {scope} {} {p}", m.name));
                }
            }
        }
    }
    out.sort();
    out
}

/// `replay --summary json -e ENDPOINT`, then `rest`: how most tests call the binary.
pub fn replay_json<'a>(endpoint: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["replay", "--summary", "json", "-e", endpoint];
    args.extend_from_slice(rest);
    args
}

/// A sink (the core's own trait, no network) that takes everything after `latency` and notes
/// when each export began, on tokio's clock: for schedule tests under a paused clock.
#[derive(Default)]
pub struct Clocked {
    pub exports: Mutex<Vec<(tokio::time::Instant, ExportMetricsServiceRequest)>>,
    pub latency: Duration,
}

impl metricsender::core::Sink for Clocked {
    type Prepared = ExportMetricsServiceRequest;

    fn prepare(&self, request: &ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
        request.clone()
    }

    async fn export(
        &self,
        prepared: &ExportMetricsServiceRequest,
    ) -> metricsender::core::ExportOutcome {
        self.exports
            .lock()
            .unwrap()
            .push((tokio::time::Instant::now(), prepared.clone()));
        tokio::time::sleep(self.latency).await;
        metricsender::core::ExportOutcome::Acknowledged {
            rejected_points: 0,
            message: String::new(),
        }
    }
}
