//! rabbit-ops' integration tests: one test binary, one module per area. The tests that need the
//! shared broker fail loudly when there is none (`scripts/services up` starts it); those that
//! stop, restart or cluster a broker start private nodes of their own.

mod cluster;
mod errors;
mod help;
mod hostile;
mod official;
mod output;
mod ping;
mod recovery;
mod stalls;
mod support;
mod tls;
mod tls_files;
mod tutorials;
