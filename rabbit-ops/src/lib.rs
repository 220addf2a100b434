//! RabbitMQ from Rust with amiquip: the RabbitMQ tutorials (notes §3).
