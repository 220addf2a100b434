//! The SSL (AMQPS) listener of a [`RabbitNode`]: its configuration, its readiness, and its
//! port when the one it tried was taken.

use std::fs;
use std::time::Duration;

use super::{ErlangHome, RabbitNode, contains};
use crate::net::amqps_start;
use crate::tls::{ClientAuth, ServerCert, TestPki};

/// The SSL listener of a [`RabbitNode`].
#[derive(Clone, Debug)]
pub(super) struct RabbitTls {
    pki: TestPki,
    cert: ServerCert,
    clients: ClientAuth,
    pub(super) port: u16,
}

impl RabbitTls {
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
}

impl RabbitNode {
    /// Starts a node with an SSL listener besides its AMQP one: the [`ServerCert::Trusted`]
    /// certificate of `pki` (for 127.0.0.1 and localhost), and `clients` saying what it asks of
    /// client certificates. It boots in the background, as [`RabbitNode::start`].
    ///
    /// # Panics
    /// As [`RabbitNode::start`].
    pub fn start_tls(home: &ErlangHome, pki: &TestPki, clients: ClientAuth) -> Self {
        Self::start_tls_with(home, pki, ServerCert::Trusted, clients)
    }

    /// Like [`RabbitNode::start_tls`], with the certificate `cert` ([`ServerCert::WrongName`]
    /// for a name that does not match).
    pub fn start_tls_with(
        home: &ErlangHome,
        pki: &TestPki,
        cert: ServerCert,
        clients: ClientAuth,
    ) -> Self {
        let tls = RabbitTls {
            pki: pki.clone(),
            cert,
            clients,
            port: 0,
        };
        Self::launch(home, Some(tls))
    }

    /// Its SSL (AMQPS) port on 127.0.0.1 (final once [`RabbitNode::wait_ready`] has returned).
    ///
    /// # Panics
    /// When the node was started without TLS.
    pub fn ssl_port(&self) -> u16 {
        self.tls_setup().port
    }

    /// `amqps://guest:guest@127.0.0.1:<ssl port>/%2f`.
    ///
    /// # Panics
    /// When the node was started without TLS.
    pub fn amqps_url(&self) -> String {
        format!("amqps://guest:guest@127.0.0.1:{}/%2f", self.ssl_port())
    }

    fn tls_setup(&self) -> &RabbitTls {
        self.tls
            .as_ref()
            .unwrap_or_else(|| panic!("node {} was started without TLS", self.name))
    }

    /// Whether its SSL listener (if it has one) finishes a verified TLS handshake and answers
    /// AMQP as this node.
    pub(super) fn ssl_answers(&self, me: &[u8]) -> bool {
        let Some(tls) = &self.tls else {
            return true;
        };
        let name = TestPki::server_name(tls.cert);
        amqps_start(&tls.pki, tls.port, name, true, Duration::from_secs(2))
            .is_ok_and(|start| contains(&start, me))
    }

    /// Whether its log says its SSL listener could not bind its port.
    pub(super) fn ssl_port_taken(&self) -> bool {
        let Some(tls) = &self.tls else {
            return false;
        };
        let log = self
            .dir
            .path()
            .join("log")
            .join(format!("{}.log", self.name));
        let listener = format!("{{acceptor,{{127,0,0,1}},{}}}", tls.port);
        fs::read_to_string(log).is_ok_and(|text| {
            text.lines()
                .any(|l| l.contains(&listener) && l.contains("eaddrinuse"))
        })
    }
}
