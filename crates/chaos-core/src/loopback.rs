//! The loopback rule: the harness serves on and sends to this machine only (127.0.0.0/8, ::1,
//! `localhost`) unless the user explicitly allows others. The plan checks a `url` target by it,
//! the target and the servers check their addresses, so it sits below all of them.

/// True for 127.0.0.0/8 and ::1: the only addresses the harness serves on or sends to unless
/// the user explicitly allows others.
pub fn is_loopback(addr: &std::net::SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// The same rule for a URL's host: `localhost`, or a loopback address (an IPv6 one with or
/// without its brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn a_loopback_host_is_localhost_or_a_loopback_address_bracketed_or_not() {
        for host in ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["api.openai.com", "10.0.0.1", "[2001:db8::1]", "localhost.example", ""] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
