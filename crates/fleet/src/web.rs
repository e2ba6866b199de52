//! Plain HTTP(S) reads outside the clusters: a catalog's `index.yaml`.
//! Redirects are followed (a few), answers are bounded in size and time,
//! and every failure is one line that names the URL.

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;

/// Redirects followed before giving up.
const REDIRECTS: usize = 5;

/// The body at `url` (http or https), at most `limit` bytes, within `within`.
pub async fn get(url: &str, limit: usize, within: Duration) -> Result<Vec<u8>, String> {
    tokio::time::timeout(within, fetch(url, limit))
        .await
        .unwrap_or_else(|_| Err(format!("{url}: no answer within {} s", within.as_secs())))
}

async fn fetch(url: &str, limit: usize) -> Result<Vec<u8>, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("{url}: no TLS roots on this machine: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Empty<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
    let mut at = url.to_string();
    for _ in 0..=REDIRECTS {
        let uri: http::Uri = at.parse().map_err(|e| format!("{at}: not a URL kdeck can read: {e}"))?;
        let req = http::Request::get(uri)
            .header("user-agent", "kdeck")
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("{at}: {e}"))?;
        let resp = client.request(req).await.map_err(|e| format!("{at}: {}", plain(&e)))?;
        let status = resp.status();
        if status.is_redirection() {
            let next = resp
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("{at}: redirected ({status}) with no Location"))?;
            at = join(&at, next);
            continue;
        }
        if !status.is_success() {
            return Err(format!("{at}: the server answered {status}"));
        }
        let body = Limited::new(resp.into_body(), limit)
            .collect()
            .await
            .map_err(|e| format!("{at}: the answer stopped or is over {} MiB: {e}", limit / (1 << 20)))?;
        return Ok(body.to_bytes().to_vec());
    }
    Err(format!("{url}: more than {REDIRECTS} redirects"))
}

/// A Location against the URL that gave it (absolute, or from the root).
fn join(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    if location.starts_with('/') {
        format!("{}{location}", &base[..origin_end])
    } else {
        let dir_end = base.rfind('/').filter(|i| *i >= origin_end).unwrap_or(origin_end);
        format!("{}/{location}", &base[..dir_end])
    }
}

/// A client error in words: its innermost cause (refused, no such host…).
fn plain(e: &hyper_util::client::legacy::Error) -> String {
    let mut src: &dyn std::error::Error = e;
    while let Some(s) = src.source() {
        src = s;
    }
    src.to_string()
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn redirects_join_as_browsers_do() {
        assert_eq!(
            join("https://a.io/x/index.yaml", "https://b.io/i.yaml"),
            "https://b.io/i.yaml"
        );
        assert_eq!(
            join("https://a.io/x/index.yaml", "/y/index.yaml"),
            "https://a.io/y/index.yaml"
        );
        assert_eq!(join("https://a.io/x/index.yaml", "z.yaml"), "https://a.io/x/z.yaml");
        assert_eq!(join("http://a.io", "z.yaml"), "http://a.io/z.yaml");
    }
}
