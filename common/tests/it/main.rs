//! common's integration tests, one binary: the address parser's properties and the guides'
//! references to code.

mod addr_props;
mod doc_refs;
