//! Issue 22.2: `--cacert`, `--cert` and `--key` are regular files of at most 1 MiB; anything else
//! (`/dev/zero`, a FIFO, a folder, a larger file) is a usage error naming the flag and the file,
//! before anything is read or connected.

#[test]
fn a_certificate_or_key_that_is_not_a_small_regular_file_is_a_usage_error() {
    let url = ["--url", "rediss://127.0.0.1:1/0"];
    test_support::check_tls_files(env!("CARGO_BIN_EXE_redis-ops"), &url, &["ping"]);
}
