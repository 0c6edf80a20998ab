//! The configuration diff between two git revisions (SPEC.md section 8).
//!
//! Not built yet: this crate will read both revisions from git objects, decrypt
//! their vaulted files, and diff the configuration Ansible sees per host (or the
//! generated kolla configuration) with secrets replaced by stable masks.
