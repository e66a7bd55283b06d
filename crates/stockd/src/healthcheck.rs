//! `stockd healthcheck`: asks the local server's `GET /health` and succeeds on a 200.
//!
//! For container health checks: the runtime image is distroless (no shell, no curl), so the
//! binary probes itself. It reads the same configuration as `stockd serve` (flags, `STOCKD_PORT`
//! or `PORT`, `STOCKD_BIND`), so the probe follows the port the server was given. Plain blocking
//! std networking with short timeouts: no async runtime, nothing to start for a one-shot probe.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::config::ServerSection;

/// Connect, write and read each give up after this long; a health check has its own timeout,
/// and a server that needs longer is not healthy anyway.
const TIMEOUT: Duration = Duration::from_secs(3);

/// The address to probe: the listen address, with an unspecified bind (`0.0.0.0`, `::`) replaced
/// by the loopback of the same family.
pub fn target(config: &ServerSection) -> SocketAddr {
    let addr = config.listen;
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// Probes `GET /health` at `addr`: `Ok` with the status line on a 200, else why not.
pub fn probe(addr: SocketAddr) -> Result<String, String> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|err| format!("cannot connect to {addr}: {err}"))?;
    let io = |err: std::io::Error| format!("GET http://{addr}/health: {err}");
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    // One write: `write!` on a socket would send each formatted piece as its own segment.
    let request = format!(
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: stockd-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    // Only the status line matters; `/health` is tiny, but read a bounded amount regardless.
    let mut head = Vec::with_capacity(256);
    stream.take(4096).read_to_end(&mut head).map_err(io)?;
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default().to_owned();
    let code = status_line.split_whitespace().nth(1);
    if status_line.starts_with("HTTP/") && code == Some("200") {
        Ok(status_line)
    } else if status_line.is_empty() {
        Err(format!("GET http://{addr}/health: empty response"))
    } else {
        Err(format!("GET http://{addr}/health: {status_line}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::net::TcpListener;

    use super::*;

    /// A one-connection server answering with `response`.
    fn answer_once(response: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            // Read the whole request first: closing with unread bytes would reset the
            // connection before the client reads the answer.
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(response.as_bytes());
        });
        addr
    }

    #[test]
    fn a_200_is_healthy_anything_else_is_not() {
        let ok = answer_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        assert_eq!(probe(ok).unwrap(), "HTTP/1.1 200 OK");
        let down = answer_once("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        assert!(probe(down).unwrap_err().contains("503"));
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // The listener is dropped: the port refuses connections.
        assert!(probe(addr).unwrap_err().contains("cannot connect"));
    }

    #[test]
    fn an_unspecified_bind_is_probed_on_loopback() {
        let server = |ip: IpAddr| ServerSection {
            listen: SocketAddr::new(ip, 9123),
            http: web::ServerConfig::default(),
            cors: web::CorsOrigins::default(),
        };
        assert_eq!(
            target(&server(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
            "127.0.0.1:9123".parse().unwrap()
        );
        assert_eq!(
            target(&server(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
            "[::1]:9123".parse().unwrap()
        );
        assert_eq!(
            target(&server("10.1.2.3".parse().unwrap())),
            "10.1.2.3:9123".parse().unwrap()
        );
    }
}
