//! rabbit-ops' integration tests: one test binary, one module per area. The tests that need the
//! shared broker fail loudly when there is none (`scripts/services up` starts it); those that
//! stop, restart or cluster a broker start private nodes of their own.

mod cluster;
mod errors;
mod fake_broker;
mod help;
mod hostile;
mod official;
mod output;
mod ping;
mod rabbit4;
mod rate;
mod recovery;
mod secrets;
mod stalls;
mod stream_bench;
mod stream_cluster;
mod stream_official;
mod streams;
mod support;
mod tls;
mod tls_files;
mod tutorials;
