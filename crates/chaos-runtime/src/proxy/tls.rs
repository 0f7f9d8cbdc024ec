//! HTTPS to the upstream, so a game day can put an interposer in front of a real provider while
//! the target speaks plain HTTP to it: rustls (with *ring*), trusting the Mozilla roots
//! (`webpki-roots`, the same on every machine) plus any CA the user adds — a private gateway's,
//! or a test server's.

use std::{
    path::Path,
    sync::{Arc, OnceLock},
};

use rustls::{
    pki_types::{pem::PemObject, CertificateDer},
    ClientConfig, RootCertStore,
};

/// The TLS settings an interposer reaches its upstream with; cheap to clone.
#[derive(Clone)]
pub struct UpstreamTls {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTls").finish_non_exhaustive()
    }
}

impl Default for UpstreamTls {
    /// The Mozilla roots only (built once per process).
    fn default() -> Self {
        static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        UpstreamTls { config: Arc::clone(DEFAULT.get_or_init(|| config_trusting(&[]))) }
    }
}

impl UpstreamTls {
    /// The Mozilla roots, and every certificate in the PEM file at `ca` when one is given
    /// (`--upstream-ca`).
    pub fn trusting(ca: Option<&Path>) -> Result<UpstreamTls, String> {
        ca.map_or_else(|| Ok(UpstreamTls::default()), UpstreamTls::with_ca_file)
    }

    /// The Mozilla roots and every certificate in the PEM file at `path`.
    pub fn with_ca_file(path: &Path) -> Result<UpstreamTls, String> {
        let extra = CertificateDer::pem_file_iter(path)
            .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
            .map_err(|error| format!("{}: not a PEM certificate file: {error}", path.display()))?;
        if extra.is_empty() {
            return Err(format!(
                "{}: no certificate in it (expected PEM `BEGIN CERTIFICATE` blocks)",
                path.display()
            ));
        }
        Ok(UpstreamTls { config: config_trusting(&extra) })
    }

    /// The rustls client configuration.
    pub fn client_config(&self) -> ClientConfig {
        (*self.config).clone()
    }
}

/// A client configuration trusting the Mozilla roots and `extra`. Certificates a root store
/// cannot use are skipped (rustls says which in its log), as browsers do with a bad root.
fn config_trusting(extra: &[CertificateDer<'static>]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let (_added, _ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
    // The ring provider supports the default protocol versions; this cannot fail.
    Arc::new(config.unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_by_name() {
        let folder = tempfile::tempdir().expect("temp dir");
        let empty = folder.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("written");
        let error = UpstreamTls::with_ca_file(&empty).expect_err("no certificate");
        assert!(error.starts_with(&empty.display().to_string()), "{error}");
        let missing = folder.path().join("missing.pem");
        assert!(UpstreamTls::with_ca_file(&missing).is_err());
    }
}
