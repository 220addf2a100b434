//! The SSL (AMQPS) listener of a node ([`RabbitTls`]): its configuration, its answer, and
//! whether the port it tried was taken.

use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::net::amqps_start;
use crate::tls::{ClientAuth, ServerCert, TestPki};

/// The SSL listener of a node.
#[derive(Clone, Debug)]
pub(super) struct RabbitTls {
    pki: TestPki,
    cert: ServerCert,
    clients: ClientAuth,
    /// Its port (0 until the node picks its ports).
    pub(super) port: u16,
}

impl RabbitTls {
    /// A listener with the certificate `cert` of `pki`, asking `clients` of client certificates.
    pub(super) fn new(pki: &TestPki, cert: ServerCert, clients: ClientAuth) -> Self {
        Self {
            pki: pki.clone(),
            cert,
            clients,
            port: 0,
        }
    }

    /// The `rabbitmq.conf` lines of the listener.
    pub(super) fn conf(&self) -> String {
        let (cert, key) = self.pki.server_files(self.cert);
        let (verify, fail) = match self.clients {
            ClientAuth::No => ("verify_none", false),
            ClientAuth::Optional => ("verify_peer", false),
            ClientAuth::Required => ("verify_peer", true),
        };
        format!(
            "listeners.ssl.1 = 127.0.0.1:{}\n\
             ssl_options.cacertfile = {}\n\
             ssl_options.certfile = {}\n\
             ssl_options.keyfile = {}\n\
             ssl_options.verify = {verify}\n\
             ssl_options.fail_if_no_peer_cert = {fail}\n",
            self.port,
            self.pki.ca().display(),
            cert.display(),
            key.display()
        )
    }

    /// The `connection.start` of the listener, after a verified TLS handshake (2 s at most).
    pub(super) fn start(&self) -> io::Result<Vec<u8>> {
        let name = TestPki::server_name(self.cert);
        amqps_start(&self.pki, self.port, name, true, Duration::from_secs(2))
    }

    /// Whether the node's `log` says the listener could not bind its port.
    pub(super) fn port_taken(&self, log: &Path) -> bool {
        let listener = format!("{{acceptor,{{127,0,0,1}},{}}}", self.port);
        fs::read_to_string(log).is_ok_and(|text| {
            text.lines()
                .any(|l| l.contains(&listener) && l.contains("eaddrinuse"))
        })
    }
}
