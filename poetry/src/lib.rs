//! Poetry: the Twisted tutorial's poetry servers, client, transformer and proxy (notes §1.6).
