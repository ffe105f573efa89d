//! Reaching PostgreSQL: the `--database-url`, and TLS the way libpq does it.
//!
//! Managed PostgreSQL (RDS, Cloud SQL, Azure) wants TLS, and people copy
//! their libpq connection strings. So `sslmode` and `sslrootcert` mean what
//! libpq's documentation says ("SSL Support", table "SSL Mode
//! Descriptions"):
//!
//! | sslmode       | encrypted             | certificate checked         |
//! |---------------|-----------------------|-----------------------------|
//! | `disable`     | no                    | no                          |
//! | `prefer`      | if the server offers  | no                          |
//! | `require`     | yes                   | no (yes, like `verify-ca`, if `sslrootcert` is given) |
//! | `verify-ca`   | yes                   | chain to a trusted root     |
//! | `verify-full` | yes                   | chain, and it names the host |
//!
//! `prefer` is the default, as in libpq. The trusted roots are what
//! `sslrootcert` names, as in libpq:
//!
//! - a PEM file of CA certificates (RDS and Cloud SQL publish theirs);
//! - `system`: the operating system's trust store (for servers with
//!   certificates from a public CA); as in libpq 16 this implies, and
//!   insists on, `verify-full`;
//! - nothing: `~/.postgresql/root.crt` if it exists, else verify-ca and
//!   verify-full are refused before connecting. A connection string that
//!   works with `psql` works here, and one that psql refuses is refused.
//!
//! TLS is rustls with the ring provider: no OpenSSL, so the binary links
//! statically. The `postgres` crate parses everything else in the URL; it
//! knows only `disable`/`prefer`/`require` and rejects parameters it does not
//! know, so [`ConnectOptions::parse`] takes `sslmode` and `sslrootcert` out
//! first.

use postgres::config::{Host, SslMode as WireSslMode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::error::Error as _;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            // libpq also has `allow` (plain first, TLS if refused); no
            // server this broker meets needs it.
            other => {
                return Err(format!(
                "sslmode={other:?} is not one of disable, prefer, require, verify-ca, verify-full"
            ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// None given (only the modes that verify nothing can connect).
    None,
    /// The operating system's trust store (`sslrootcert=system`).
    System,
    /// A PEM file of one or more CA certificates (`sslrootcert=PATH`, or
    /// libpq's default `~/.postgresql/root.crt`).
    File(PathBuf),
}

/// A parsed `--database-url`: what the `postgres` crate understands, plus
/// the TLS policy it does not.
#[derive(Clone)]
pub struct ConnectOptions {
    config: postgres::Config,
    /// The mode asked for. `require` with `sslrootcert` has already been
    /// turned into `verify-ca`, as libpq does.
    pub ssl_mode: SslMode,
    pub root_certs: RootCerts,
}

impl ConnectOptions {
    /// Parses a URL (`postgres://user:pw@host:port/db?sslmode=require`) or
    /// a key=value string (`host=db user=app sslmode=verify-full`).
    pub fn parse(url: &str) -> Result<ConnectOptions, String> {
        let (rest, ssl) = take_ssl_params(url)?;
        let config = postgres::Config::from_str(&rest).map_err(|e| e.to_string())?;
        let root_certs = match ssl.root_cert.as_deref() {
            Some("system") => RootCerts::System,
            Some(path) => RootCerts::File(PathBuf::from(path)),
            None => default_root_cert().map_or(RootCerts::None, RootCerts::File),
        };
        let explicit_system = ssl.root_cert.as_deref() == Some("system");
        let ssl_mode = match ssl.mode.as_deref().map(SslMode::parse).transpose()? {
            // libpq 16: sslrootcert=system defaults to, and insists on,
            // verify-full: trusting every public CA without checking the
            // host name would trust anyone with a certificate.
            None if explicit_system => SslMode::VerifyFull,
            Some(mode) if explicit_system && mode != SslMode::VerifyFull => {
                return Err(format!(
                    "sslmode={} may not be used with sslrootcert=system (use verify-full)",
                    mode.as_str()
                ));
            }
            None => SslMode::Prefer,
            // libpq: "if a root CA file exists, the behavior of
            // sslmode=require will be the same as that of verify-ca".
            Some(SslMode::Require) if matches!(root_certs, RootCerts::File(_)) => SslMode::VerifyCa,
            Some(mode) => mode,
        };
        if matches!(ssl_mode, SslMode::VerifyCa | SslMode::VerifyFull)
            && root_certs == RootCerts::None
        {
            return Err(format!(
                "sslmode={} checks the server's certificate, so it needs the CA that signed it: \
                 add sslrootcert=/path/to/ca.pem, or sslrootcert=system to trust the system's \
                 root certificates",
                ssl_mode.as_str()
            ));
        }
        Ok(ConnectOptions {
            config,
            ssl_mode,
            root_certs,
        })
    }

    /// Opens a connection, with TLS as `sslmode` says. Errors are one line
    /// saying what to change.
    pub fn connect(&self) -> Result<postgres::Client, String> {
        let tls = self.tls()?;
        let mut config = self.config.clone();
        config.ssl_mode(match self.ssl_mode {
            SslMode::Disable => WireSslMode::Disable,
            SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        });
        match config.connect(tls.clone()) {
            Ok(client) => Ok(client),
            // libpq's prefer: "first try an SSL connection; if that fails,
            // try a non-SSL connection".
            Err(err) if self.ssl_mode == SslMode::Prefer && tls_error(&err).is_some() => {
                log::warn!("TLS to PostgreSQL failed ({err}); sslmode=prefer, so trying without");
                config.ssl_mode(WireSslMode::Disable);
                config.connect(tls).map_err(|e| self.explain(&e))
            }
            Err(err) => Err(self.explain(&err)),
        }
    }

    /// The target for logs and messages: user, hosts, database and TLS
    /// mode, never the password.
    pub fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let name = match host {
                    Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
                    Host::Tcp(name) => name.clone(),
                    Host::Unix(path) => path.display().to_string(),
                };
                let port = self
                    .config
                    .get_ports()
                    .get(i)
                    .or(self.config.get_ports().first());
                format!("{name}:{}", port.copied().unwrap_or(5432))
            })
            .collect();
        let user = self.config.get_user().unwrap_or("");
        let dbname = self.config.get_dbname().unwrap_or(user);
        let mut shown = format!(
            "postgres://{user}@{}/{dbname}?sslmode={}",
            hosts.join(","),
            self.ssl_mode.as_str()
        );
        match &self.root_certs {
            RootCerts::File(path) => shown.push_str(&format!("&sslrootcert={}", path.display())),
            RootCerts::System => shown.push_str("&sslrootcert=system"),
            RootCerts::None => {}
        }
        shown
    }

    /// The rustls connector for this mode. Cheap for the modes that verify
    /// nothing; the others read the root certificates (once per new
    /// connection, so a rotated CA file is picked up on reconnect).
    fn tls(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.ssl_mode {
            SslMode::Disable | SslMode::Prefer | SslMode::Require => {
                Arc::new(EncryptOnly(Arc::clone(&provider)))
            }
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = self.load_roots()?;
                let chain = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|e| format!("cannot use the root certificates: {e}"))?;
                Arc::new(Verify {
                    chain,
                    check_host_name: self.ssl_mode == SslMode::VerifyFull,
                })
            }
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn load_roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match &self.root_certs {
            RootCerts::None => return Err("no sslrootcert given".to_string()),
            RootCerts::File(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(format!(
                        "sslrootcert {} holds no usable PEM certificate",
                        path.display()
                    ));
                }
            }
            RootCerts::System => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err(format!(
                        "sslrootcert=system, but the system has no root certificates ({}); \
                         install them (ca-certificates) or pass sslrootcert=/path/to/ca.pem",
                        found
                            .errors
                            .first()
                            .map_or("no trust store found".to_string(), |e| e.to_string())
                    ));
                }
            }
        }
        Ok(roots)
    }

    /// One line for a failed connection, with advice when TLS was the
    /// reason.
    fn explain(&self, err: &postgres::Error) -> String {
        let Some(tls) = tls_error(err) else {
            if err.as_db_error().is_some() {
                // The server answered: bad password, no such database...
                return err.to_string();
            }
            let cause = err.source().map_or(String::new(), |c| format!(": {c}"));
            return format!("{err}{cause}");
        };
        let roots = match &self.root_certs {
            RootCerts::File(path) => format!("the CA in sslrootcert {}", path.display()),
            RootCerts::System | RootCerts::None => "the system's root certificates".to_string(),
        };
        let advice = match tls {
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => "the server's certificate does not name the host connected to; connect by a name \
                  it lists, or use sslmode=verify-ca to check the chain only"
                .to_string(),
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
                "the server's certificate is not signed by {roots}; pass sslrootcert=/path/to/ca.pem \
                 naming the CA that signed it (sslmode={} verifies the server)",
                self.ssl_mode.as_str()
            ),
            rustls::Error::InvalidCertificate(_) => {
                format!("the server's certificate does not verify against {roots}")
            }
            _ => "the TLS handshake with PostgreSQL failed".to_string(),
        };
        format!("{advice} ({err}: {tls})")
    }
}

impl fmt::Debug for ConnectOptions {
    /// Without the password, like [`ConnectOptions::describe`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// libpq's default `sslrootcert`, if the file exists.
fn default_root_cert() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("HOME")?).join(".postgresql/root.crt");
    path.is_file().then_some(path)
}

/// The rustls error behind a failed connection, if TLS was the reason.
/// tokio-rustls reports handshake failures as `io::Error`s wrapping a
/// `rustls::Error`, and `io::Error::source` skips the wrapped error, so
/// look inside each `io::Error` too.
fn tls_error(err: &postgres::Error) -> Option<&rustls::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(e) = cause {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        cause = e.source();
    }
    None
}

/// `sslmode=disable|prefer|require`: encrypt, but trust whatever
/// certificate the server shows. The handshake signatures are still
/// checked, so the session is keyed to that certificate.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` and `verify-full`: webpki checks the chain (and, for
/// verify-full, the host name). verify-ca forgives only a name mismatch,
/// which webpki reports after the chain has verified.
#[derive(Debug)]
struct Verify {
    chain: Arc<WebPkiServerVerifier>,
    check_host_name: bool,
}

impl ServerCertVerifier for Verify {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_host_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

/// `sslmode` and `sslrootcert` as found in the connection string.
#[derive(Debug, Default, PartialEq, Eq)]
struct SslParams {
    mode: Option<String>,
    root_cert: Option<String>,
}

impl SslParams {
    /// Keeps `value` if `key` is one of ours; says whether it was.
    fn take(&mut self, key: &str, value: String) -> bool {
        match key {
            "sslmode" => self.mode = Some(value),
            "sslrootcert" => self.root_cert = Some(value),
            _ => return false,
        }
        true
    }
}

/// Splits the connection string into ours (`sslmode`, `sslrootcert`) and
/// the rest, which is returned in the same form it came in.
fn take_ssl_params(url: &str) -> Result<(String, SslParams), String> {
    let mut ssl = SslParams::default();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_string(), ssl));
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !ssl.take(&percent_decode(key)?, percent_decode(value)?) {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, ssl));
    }
    let mut kept = Vec::new();
    for (key, value) in key_value_pairs(url)? {
        if !ssl.take(&key, value.clone()) {
            kept.push(format!(
                "{key}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
    }
    Ok((kept.join(" "), ssl))
}

/// `%XX` escapes of a URL query component (`+` is left alone, as libpq
/// does).
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

/// libpq's key=value syntax: `key = value` pairs separated by spaces; a
/// value may be single-quoted, and `\` escapes the next character.
fn key_value_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!(
                "missing \"=\" after {key:?} in the connection string"
            ));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err(format!("unterminated quoted value for {key:?}")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> ConnectOptions {
        ConnectOptions::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn url_form_takes_ssl_params_and_keeps_the_rest() {
        let (rest, ssl) = take_ssl_params(
            "postgres://app:s3cret@db.example.com:6432/kq?application_name=kq&sslmode=verify-full&sslrootcert=%2Fetc%2Frds%20ca.pem&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://app:s3cret@db.example.com:6432/kq?application_name=kq&connect_timeout=5"
        );
        assert_eq!(ssl.mode.as_deref(), Some("verify-full"));
        assert_eq!(ssl.root_cert.as_deref(), Some("/etc/rds ca.pem"));

        let (rest, _) = take_ssl_params("postgresql://h/db?sslmode=require").unwrap();
        assert_eq!(rest, "postgresql://h/db");
    }

    #[test]
    fn key_value_form_takes_ssl_params_and_keeps_the_rest() {
        let (rest, ssl) = take_ssl_params(
            "host=db.example.com  user = app password=pw sslmode=verify-ca sslrootcert='/etc/my ca.pem' dbname=kq",
        )
        .unwrap();
        assert_eq!(ssl.mode.as_deref(), Some("verify-ca"));
        assert_eq!(ssl.root_cert.as_deref(), Some("/etc/my ca.pem"));
        assert_eq!(
            rest,
            "host='db.example.com' user='app' password='pw' dbname='kq'"
        );
        let config = postgres::Config::from_str(&rest).unwrap();
        assert_eq!(config.get_user(), Some("app"));
        assert_eq!(config.get_dbname(), Some("kq"));
    }

    #[test]
    fn key_value_escapes_survive_the_round_trip() {
        let (rest, _) =
            take_ssl_params(r"host=h password='a\'b\\c d' sslmode=require user=u").unwrap();
        let config = postgres::Config::from_str(&rest).unwrap();
        assert_eq!(config.get_password(), Some(&br"a'b\c d"[..]));
        assert_eq!(config.get_user(), Some("u"));
    }

    #[test]
    fn modes_follow_libpq() {
        assert_eq!(parse("postgres://h/db").ssl_mode, SslMode::Prefer);
        assert_eq!(parse("host=h").ssl_mode, SslMode::Prefer);
        for mode in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
            let url = format!("postgres://h/db?sslmode={mode}&sslrootcert=/ca.pem");
            // require with a root certificate verifies the chain, as libpq.
            let expected = if mode == "require" { "verify-ca" } else { mode };
            assert_eq!(parse(&url).ssl_mode.as_str(), expected, "{url}");
            assert_eq!(parse(&url).root_certs, RootCerts::File("/ca.pem".into()));
        }
        // require with a root certificate verifies the chain.
        let o = parse("postgres://h/db?sslmode=require&sslrootcert=/ca.pem");
        assert_eq!(o.ssl_mode, SslMode::VerifyCa);
        assert_eq!(o.root_certs, RootCerts::File("/ca.pem".into()));
        // sslrootcert=system means verify-full, and nothing weaker.
        assert_eq!(
            parse("host=h sslrootcert=system").ssl_mode,
            SslMode::VerifyFull
        );
        let err = ConnectOptions::parse("host=h sslrootcert=system sslmode=require")
            .err()
            .unwrap();
        assert!(err.contains("verify-full"), "{err}");
        // Verifying needs something to verify against (this test assumes
        // no ~/.postgresql/root.crt, as libpq would use it).
        if default_root_cert().is_none() {
            for mode in ["verify-ca", "verify-full"] {
                let err = ConnectOptions::parse(&format!("host=h sslmode={mode}"))
                    .err()
                    .unwrap();
                assert!(err.contains("sslrootcert="), "{err}");
            }
        }
    }

    #[test]
    fn bad_strings_are_refused_with_a_reason() {
        let err = ConnectOptions::parse("postgres://h/db?sslmode=allow")
            .err()
            .unwrap();
        assert!(err.contains("sslmode=\"allow\""), "{err}");
        let err = ConnectOptions::parse("postgres://h/db?sslmode=%zz")
            .err()
            .unwrap();
        assert!(err.contains("percent"), "{err}");
        let err = ConnectOptions::parse("host=h password='open")
            .err()
            .unwrap();
        assert!(err.contains("unterminated"), "{err}");
        let err = ConnectOptions::parse("host").err().unwrap();
        assert!(err.contains("missing"), "{err}");
        // Unknown parameters are still the postgres crate's to refuse.
        assert!(ConnectOptions::parse("postgres://h/db?sslcompression=1").is_err());
    }

    #[test]
    fn describe_never_shows_the_password() {
        let o = parse("postgres://app:s3cret@db.example.com:6432/kq?sslmode=require");
        assert_eq!(
            o.describe(),
            "postgres://app@db.example.com:6432/kq?sslmode=require"
        );
        let o = parse("host=db user=app password=s3cret sslrootcert=/ca.pem sslmode=verify-full");
        let shown = format!("{o:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(
            shown,
            "postgres://app@db:5432/app?sslmode=verify-full&sslrootcert=/ca.pem"
        );
    }
}
