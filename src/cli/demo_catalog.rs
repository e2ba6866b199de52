//! The demo's own catalog: two small charts of kdeck's, packaged as Helm
//! packages them (a gzip'd tar with the chart's directory at its top) and
//! served with their index.yaml on a loopback port, so that `kdeck demo`
//! can show the marketplace without the internet.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use super::CliError;

/// (chart, version, appVersion, description, keywords, files)
type Chart = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const WEB_TEMPLATES: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  GREETING: {{ .Values.greeting | quote }}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels: {app: {{ .Release.Name }}}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: {{ .Release.Name }}}}\n  template:\n    metadata: {labels: {app: {{ .Release.Name }}}}\n    spec:\n      containers:\n      - name: web\n        image: {{ .Values.image }}\n        ports: [{containerPort: 80}]\n        envFrom: [{configMapRef: {name: {{ .Release.Name }}-settings}}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector: {app: {{ .Release.Name }}}\n  ports: [{port: 80}]\n";

const CACHE_TEMPLATES: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: {{ .Release.Name }}}}\n  template:\n    metadata: {labels: {app: {{ .Release.Name }}}}\n    spec:\n      containers:\n      - name: cache\n        image: {{ .Values.image }}\n        ports: [{containerPort: 6379}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector: {app: {{ .Release.Name }}}\n  ports: [{port: 6379}]\n";

const CHARTS: &[Chart] = &[
    (
        "hello-web",
        "1.0.0",
        "1.27",
        "A web server that says hello: a Deployment, a Service and its settings",
        "http, nginx, web",
        &[
            ("values.yaml", "replicas: 1\nimage: nginx:1.27\ngreeting: hello\n"),
            ("templates/all.yaml", WEB_TEMPLATES),
        ],
    ),
    (
        "hello-web",
        "1.1.0",
        "1.28",
        "A web server that says hello: a Deployment, a Service and its settings",
        "http, nginx, web",
        &[
            ("values.yaml", "replicas: 2\nimage: nginx:1.28\ngreeting: hello again\n"),
            ("templates/all.yaml", WEB_TEMPLATES),
        ],
    ),
    (
        "cache",
        "0.3.0",
        "7.2.4",
        "An in-memory key-value cache",
        "cache, redis, key-value",
        &[
            ("values.yaml", "replicas: 1\nimage: redis:7.2.4\n"),
            ("templates/all.yaml", CACHE_TEMPLATES),
        ],
    ),
];

/// One file in a ustar archive: its 512-byte header, its bytes, padding.
fn tar_entry(out: &mut Vec<u8>, path: &str, body: &[u8]) {
    let mut h = [0u8; 512];
    let name = path.as_bytes();
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    let octal = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
        let s = format!("{v:0w$o}\0", w = len - 1);
        h[at..at + len].copy_from_slice(s.as_bytes());
    };
    octal(&mut h, 100, 8, 0o644);
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, body.len() as u64);
    octal(&mut h, 136, 12, 1_764_547_200);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // The checksum is summed with its own field as spaces.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(body);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// A chart's package (`NAME-VERSION.tgz`) and its sha256.
fn package(c: &Chart) -> Result<(Vec<u8>, String), CliError> {
    let (name, version, app, description, _, files) = c;
    let mut tar = Vec::new();
    let chart_yaml = format!(
        "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{app}\"\ndescription: {description:?}\n"
    );
    tar_entry(&mut tar, &format!("{name}/Chart.yaml"), chart_yaml.as_bytes());
    for (path, body) in *files {
        tar_entry(&mut tar, &format!("{name}/{path}"), body.as_bytes());
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar)
        .and_then(|_| gz.finish())
        .map_err(|e| CliError::failed(format!("demo catalog: {e}")))
        .map(|bytes| {
            let sum = ring::digest::digest(&ring::digest::SHA256, &bytes)
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (bytes, sum)
        })
}

/// Serves the demo catalog on a loopback port until the process ends; its URL.
pub fn serve() -> Result<String, CliError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut index = String::from("apiVersion: v1\nentries:\n");
    let mut last = "";
    for c in CHARTS {
        let (bytes, sum) = package(c)?;
        let file = format!("{}-{}.tgz", c.0, c.1);
        if c.0 != last {
            index.push_str(&format!("  {}:\n", c.0));
            last = c.0;
        }
        index.push_str(&format!(
            "  - name: {}\n    version: {}\n    appVersion: \"{}\"\n    description: {:?}\n    keywords: [{}]\n    urls: [{file}]\n    digest: {sum}\n",
            c.0, c.1, c.2, c.3, c.4
        ));
        files.push((format!("/charts/{file}"), bytes));
    }
    files.push(("/charts/index.yaml".into(), index.into_bytes()));
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| CliError::failed(format!("demo catalog: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::failed(format!("demo catalog: {e}")))?
        .port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let Ok(read) = s.try_clone() else { continue };
            let mut reader = BufReader::new(read);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (code, body): (&str, &[u8]) = match files.iter().find(|f| f.0 == path) {
                Some(f) => ("200 OK", &f.1),
                None => ("404 Not Found", b"not found"),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(body);
        }
    });
    Ok(format!("http://127.0.0.1:{port}/charts"))
}
