//! A tiny HTTP server for the tests: answers GETs from a table the test
//! may change (a catalog's index.yaml, chart archives, redirects).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What the server answers: (path, status, extra header lines, body).
pub type Routes = Arc<Mutex<Vec<(String, u16, String, Vec<u8>)>>>;

/// Serves `routes` on a loopback port, which it returns.
pub fn serve(routes: Routes) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(s.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // The rest of the request head.
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let found = routes.lock().unwrap().iter().find(|r| r.0 == path).cloned();
            let (code, header, body) = match found {
                Some((_, c, h, b)) => (c, h, b),
                None => (404, String::new(), b"not found".to_vec()),
            };
            let reason = match code {
                200 => "OK",
                302 => "Found",
                _ => "Not Found",
            };
            let _ = write!(
                s,
                "HTTP/1.1 {code} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n{header}\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    port
}
