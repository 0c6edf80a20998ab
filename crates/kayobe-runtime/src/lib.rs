//! The Kayobe container image and the operations run in it (SPEC.md section 11).
//!
//! Not built yet: this crate will build the Kayobe image with rebuild detection,
//! run every Kayobe operation in it with secrets passed as files, and check a
//! runner host before a run.
