//! [`ErlangHome`]: the `HOME` of a group of nodes, with the Erlang cookie they share.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use crate::net::next_random;
use crate::services::temp_dir;

/// A `HOME` holding an Erlang cookie: the nodes started with the same one can cluster, and
/// `rabbitmqctl` can reach them. Cheap to clone (every node keeps one, so the folder lives as
/// long as a node needs it).
#[derive(Clone, Debug)]
pub struct ErlangHome(Arc<tempfile::TempDir>);

impl ErlangHome {
    /// A new temporary `HOME` with a random cookie.
    ///
    /// # Panics
    /// When the folder or the cookie cannot be written.
    pub fn new() -> Self {
        let dir = temp_dir("rabbit-home-");
        let cookie = dir.path().join(".erlang.cookie");
        fs::write(&cookie, format!("LESSONSTEST{:X}", next_random())).expect("the cookie");
        fs::set_permissions(&cookie, fs::Permissions::from_mode(0o400)).expect("chmod 400");
        Self(Arc::new(dir))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Default for ErlangHome {
    fn default() -> Self {
        Self::new()
    }
}
