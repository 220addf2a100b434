//! Redis from Rust: set/get, a connection pool, every data-type operation, pub/sub (notes §2).
