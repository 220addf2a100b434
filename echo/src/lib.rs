//! Echo: a TCP/UDP echo server, client and load generator (notes §1.5).
