//! The integration tests of redis-ops: one test binary, one module per area. Most need the
//! shared Redis (`scripts/services up`, or `$REDIS_URL`) and fail loudly without it; `restart`,
//! `cluster` and `ping` start private redis-servers of their own.

mod bounds;
mod cli;
mod cluster;
mod deadlines;
mod help;
mod hostile;
mod leftovers;
mod lesson;
mod output;
mod ping;
mod pool;
mod pubsub;
mod rate;
mod restart;
mod secrets;
mod signals;
mod support;
mod tls;
mod tls_files;
